"""Customer pages of fulfilment (signed links from e-mails, order tracking) and partner callbacks."""

from django.urls import path

from . import parcel_views, stockout_views, views

app_name = "shipping"
urlpatterns: list = [
    # SHIP-STOCKOUT: the customer's choice when items are unavailable (signed link from the e-mail).
    path("stockout/<str:number>/", stockout_views.stockout_answer, name="stockout_answer"),
    # DLV-LATE: "My parcel has not arrived" (order page); DLV-LOST: replacement or refund (signed link).
    path(
        "order/<str:number>/parcel/<int:shipment_id>/late/",
        parcel_views.parcel_report_late_view,
        name="parcel_report_late",
    ),
    path("order/<str:number>/lost/", parcel_views.parcel_lost_choice, name="parcel_lost_choice"),
    # DLV-*: the courier partner reports a delivery attempt (signed JSON; README "For a courier's developer").
    path("partners/<int:partner_id>/delivery/", views.partner_delivery_callback, name="partner_delivery"),
]
