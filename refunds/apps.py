from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RefundsConfig(AppConfig):
    name = "refunds"
    verbose_name = _("Cases and refunds")

    def ready(self) -> None:
        from shop import hooks

        from . import services

        # REF-SLA: every refund has a case. A cancellation (ORD-REFUSE, PAY-FRAUD-CHECK, ORD-PRICE-ERROR,
        # REF-WITHDRAW-30D) or a part due back (ORD-PRICE-ERROR, SHIP-STOCKOUT, DLV-INSPECT,
        # DLV-ACCEPT-14D) opens one of its kind; the money goes through payments (PAY-REFUND-SAME-WAY).
        hooks.register("order_cancelled", services.cancelled_order_refund, many=services.cancelled_orders_refund)
        hooks.register("order_refund_due", services.due_amount_refund, each=services.due_amounts_refund)
