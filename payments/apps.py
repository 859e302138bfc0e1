from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments and refunds")

    def ready(self) -> None:
        from shop import hooks

        from . import ledger, services

        # Money going back for a cancellation or a part due back is received by the refunds app (each
        # refund has its case: refunds/apps.py), which moves it through services.refund_issue.
        # DLV-HANDOVER: the courier took the money at the door (shipping records the handover).
        hooks.register("order_paid_at_door", services.payment_record_at_door)
        # What the customer owes changed (a fee, a cancelled part): the payment status follows.
        hooks.register(
            "order_amount_changed", ledger.order_payment_status_recount, many=ledger.orders_payment_status_recount
        )
        # SHIP-NOTICES: a tracked parcel of a PayPal-paid order owes PayPal its tracking number.
        hooks.register("shipment_tracked", services.paypal_tracker_owe)
