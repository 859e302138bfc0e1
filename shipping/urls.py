"""Customer pages of fulfilment (signed links from e-mails, order tracking) and partner callbacks."""

from django.urls import path

from . import views

app_name = "shipping"
urlpatterns: list = [
    # DLV-*: the courier partner reports a delivery attempt (signed JSON; README "For a courier's developer").
    path("partners/<int:partner_id>/delivery/", views.partner_delivery_callback, name="partner_delivery"),
]
