"""The PDF invoice (ORD-ACK attachment, and the order page's download), rendered by WeasyPrint."""

from __future__ import annotations

from django.utils import translation

from shop.calendar import BusinessCalendar
from shop.models import Policy
from shop.pdf import render_pdf

from .models import Order
from .payment_instructions import payment_instructions


def invoice_context(order: Order) -> dict:
    calendar = BusinessCalendar.current()
    policy = Policy.load()
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "discount_lines": list(order.discount_lines.all()) if order.discount.amount else [],  # PAY-DISCOUNTS
        "policy": policy,
        **payment_instructions(order, policy),
        # Naive wall-clock times of the shop's time zone: templates show them as they are.
        "created_local": calendar.local(order.created_at).replace(tzinfo=None),
        "paid_local": calendar.local(order.paid_at).replace(tzinfo=None) if order.paid_at else None,
    }


def invoice_pdf(order: Order) -> bytes:
    """The invoice as PDF bytes. DejaVu fonts carry Cyrillic and the rouble sign."""
    with translation.override(order.language):  # the language the customer ordered in
        return render_pdf("pdf/invoice.html", invoice_context(order))
