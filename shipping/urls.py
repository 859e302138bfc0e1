"""Customer pages of fulfilment (signed links from e-mails, order tracking) and partner callbacks."""

from django.urls import path

from . import stockout_views, views

app_name = "shipping"
urlpatterns: list = [
    # SHIP-STOCKOUT: the customer's choice when items are unavailable (signed link from the e-mail).
    path("stockout/<str:number>/", stockout_views.stockout_answer, name="stockout_answer"),
    # DLV-*: the courier partner reports a delivery attempt (signed JSON; README "For a courier's developer").
    path("partners/<int:partner_id>/delivery/", views.partner_delivery_callback, name="partner_delivery"),
]
