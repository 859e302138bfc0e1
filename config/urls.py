from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _
from django.views.static import serve

from shop import views as shop_views

admin.site.site_header = _("Shop administration")
admin.site.site_title = _("Shop admin")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's language switch
    path("accounts/", include("shop.account_urls")),
    path("checkout/", include("orders.checkout_urls")),
    path("orders/price/", include("orders.price_urls")),
    path("orders/cases/", include("refunds.urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("payments.urls")),
    path("shipping/", include("shipping.urls")),
    path("favicon.ico", shop_views.favicon, name="favicon"),
    path("", include("shop.urls")),
]
if settings.SERVE_MEDIA:
    # Product pictures and their thumbnails (MEDIA_ROOT); a web server in front may serve them instead.
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))

handler404 = "shop.views.page_not_found"
handler500 = "shop.views.server_error"
