from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from shop.emails import register_attachment_builder, register_link_builder

        from .access import LINK_BUILDER, email_link
        from .notifications import INVOICE_BUILDER, invoice_attachment

        # ORD-ACK: the acknowledgement's PDF invoice is built by the e-mail worker at send time.
        register_attachment_builder(INVOICE_BUILDER, invoice_attachment)
        # Issue #10: links to orders in e-mails are signed at send time, never stored readable.
        register_link_builder(LINK_BUILDER, email_link)
