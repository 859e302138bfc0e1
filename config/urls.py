from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Shop administration"
admin.site.site_title = "Shop admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's language switch
    path("accounts/", include("shop.account_urls")),
    path("checkout/", include("orders.checkout_urls")),
    path("orders/price/", include("orders.price_urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("payments.urls")),
    path("shipping/", include("shipping.urls")),
    path("", include("shop.urls")),
]
