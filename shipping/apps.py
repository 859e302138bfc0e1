from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = _("Fulfilment")

    def ready(self) -> None:
        # Hook receivers (shop/hooks.py) are registered here, one line each, with the rule they serve.
        from orders.models import register_event_choices
        from shop import hooks
        from shop.emails import register_attachment_builder

        from .models import FailureCause, RecipientKind, StockoutChoice
        from .services import acts, partners, stockout

        # Issue #12: timeline sentences name these choices; each reader sees the label in their language.
        register_event_choices("stockout_choice", StockoutChoice)
        register_event_choices("failure_cause", FailureCause)
        register_event_choices("recipient_kind", RecipientKind)

        # SHIP-STOCKOUT: a paid order found the shelf short — record the shortage, e-mail the choices.
        hooks.register("order_stock_short", stockout.stockout_record)
        # SHIP-SUBCONTRACTOR: a ready order's partner is e-mailed and (endpoint) owed a signed POST.
        hooks.register("order_ready", partners.partner_notify, many=partners.partners_notify)
        # REF-SHORT-DELIVERY: the Act of Discrepancy PDF attached to the customer's e-mail.
        register_attachment_builder(acts.ACT_BUILDER, acts.act_attachment)
