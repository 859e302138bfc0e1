from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Shop administration"
admin.site.site_title = "Shop admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("shop.account_urls")),
    path("checkout/", include("orders.checkout_urls")),
    path("orders/price/", include("orders.price_urls")),
    path("orders/cases/", include("refunds.urls")),
    path("orders/", include("orders.urls")),
    path("payments/", include("payments.urls")),
    path("shipping/", include("shipping.urls")),
    path("", include("shop.urls")),
]
