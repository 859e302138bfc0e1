from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments and refunds"

    def ready(self) -> None:
        from shop import hooks

        from . import ledger, services

        # PAY-REFUND-SAME-WAY: money goes back when an order is cancelled (ORD-REFUSE, PAY-FRAUD-CHECK)
        # or part of it is due back (ORD-PRICE-ERROR, SHIP-STOCKOUT). Both receivers are idempotent.
        hooks.register("order_cancelled", services.refund_for_cancelled_order)
        hooks.register("order_refund_due", services.refund_for_due_amount)
        # DLV-HANDOVER: the courier took the money at the door (shipping records the handover).
        hooks.register("order_paid_at_door", services.payment_record_at_door)
        # What the customer owes changed (a fee, a cancelled part): the payment status follows.
        hooks.register("order_amount_changed", ledger.order_payment_status_recount)
        # SHIP-NOTICES: a tracked parcel of a PayPal-paid order owes PayPal its tracking number.
        hooks.register("shipment_tracked", services.paypal_tracker_owe)
