"""Every e-mail about an order. Each is queued in the caller's transaction (shop.emails outbox) and
sent after commit, so an order that rolls back sends nothing.

Templates live in ``templates/emails/<name>.{subject.txt,txt,html}`` and share the order summary
(``_order_details``): number, lines, totals, delivery address, the processing and delivery windows
as dates (``orders.selectors.order_estimate``, the same as on the order page), the payment if
received, and the link to the order page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import prefetch_related_objects
from django.utils import translation
from djmoney.money import Money

from shop.calendar import BusinessCalendar
from shop.emails import email_queue_new
from shop.models import Email

from . import events, holds
from .access import order_link_for_email
from .invoice import invoice_pdf
from .models import HoldKind, Order, OrderEvent
from .payment_instructions import payment_instructions
from .pricing import order_total_with
from .selectors import order_estimate

INVOICE_BUILDER = "orders.invoice"


def shop_local(moment: dt.datetime | None) -> dt.datetime | None:
    """The shop's wall-clock time (Policy time zone), naive so templates show it as is."""
    if moment is None:
        return None
    return BusinessCalendar.current().local(moment).replace(tzinfo=None)


def paid_amount(order: Order) -> Money | None:
    """The amount of the confirmed payment (from its event), for "Payment received: <amount>"."""
    if order.paid_at is None:
        return None
    event = order.events.filter(type=OrderEvent.Type.PAID).order_by("-created_at", "-pk").first()
    amount = (event.parameters or {}).get("amount") if event else None
    if isinstance(amount, dict) and "amount" in amount:
        return Money(Decimal(amount["amount"]), amount.get("currency") or order.total.currency)
    return order.total


def order_email_context(order: Order, *, order_lines: list | None = None, **extra) -> dict:
    """The shared order summary. ``order_lines``: all the order's lines when the caller holds them
    (the confirmation just wrote them), so they are not read again."""
    with translation.override(order.language):  # the payment purpose and VAT words, in the order's language
        instructions = payment_instructions(order)
    lines = list(order.lines.all()) if order_lines is None else order_lines
    # The pictures shown beside each line (a product already loaded with its line is not read again),
    # and the discount lines the .txt and .html parts both list, read once.
    prefetch_related_objects(lines, "product__images")
    prefetch_related_objects([order], "discount_lines")
    # The same estimate the review page promised and the order page shows (SHIP-PROCESSING-TIME).
    estimate, estimate_firm = order_estimate(order)
    return {
        "order": order,
        "lines": lines,
        "status_label": Order.Status(order.status).label,
        "estimate": estimate,
        "estimate_firm": estimate_firm,
        "order_url": order_link_for_email(order),
        "paid_at_local": shop_local(order.paid_at),
        "paid_amount": paid_amount(order),
        **instructions,
        **extra,
    }


def _queue(order: Order, *, kind: str, template: str, key: str | None, **kwargs) -> Email:
    email, is_new = email_queue_new(to=order.email, template=template, key=key, language=order.language, **kwargs)
    if is_new:
        events.email_queued(order=order, kind=kind, email_id=email.pk)
    return email


def order_email_queue(
    *,
    order: Order,
    kind: str,
    template: str,
    key: str | None,
    attachment_builder: str = "",
    attachment_ref: str = "",
    **extra,
) -> Email:
    """An e-mail about the order that another app owns (its template), with the shared order context;
    recorded on the order's timeline once (``key`` makes it idempotent). An attachment is built by the
    worker at send time by the builder registered under ``attachment_builder``."""
    return _queue(
        order,
        kind=kind,
        template=template,
        key=key,
        context=order_email_context(order, **extra),
        attachment_builder=attachment_builder,
        attachment_ref=attachment_ref,
    )


def order_acknowledgement_queue(*, order: Order, lines: list | None = None) -> Email:
    """ORD-ACK: the order is registered: its details, the delivery window, the PDF invoice attached.

    Idempotent (key ``order-ack:<pk>``). The invoice is built by the worker at send time.
    ``lines``: all the order's lines, when the caller holds them.
    """
    return _queue(
        order,
        kind="acknowledgement",
        template="order_acknowledgement",
        key=f"order-ack:{order.pk}",
        context=order_email_context(order, order_lines=lines),
        attachment_builder=INVOICE_BUILDER,
        attachment_ref=str(order.pk),
    )


def order_payment_notice_queue(*, order: Order) -> Email:
    """After payment: the acknowledgement (stating the payment) if none was sent yet, else a receipt."""
    if not Email.objects.filter(key=f"order-ack:{order.pk}").exists():
        return order_acknowledgement_queue(order=order)
    return _queue(
        order,
        kind="payment received",
        template="order_payment_received",
        key=f"order-paid:{order.pk}",
        context=order_email_context(order),
    )


def order_processing_queue(*, order: Order) -> Email:
    """SHIP-PROCESSING-TIME: staff started work on the order."""
    return _queue(
        order,
        kind="processing",
        template="order_processing",
        key=f"order-processing:{order.pk}",
        context=order_email_context(order),
    )


def order_cancelled_queue(*, order: Order) -> Email:
    """ORD-REFUSE: the order was cancelled (reason if given); anything paid will be refunded."""
    return _queue(
        order,
        kind="cancelled",
        template="order_cancelled",
        key=f"order-cancelled:{order.pk}",
        context=order_email_context(order, was_paid=order.paid_at is not None),
    )


def order_price_error_request_queue(*, order: Order) -> Email:
    """ORD-PRICE-ERROR: ask the customer to accept the corrected price or cancel, with a link."""
    corrections = list(order.price_corrections.filter(resolved=False).select_related("line"))
    hold = holds.open_hold(order, HoldKind.PRICE_CONFIRMATION)
    new_total = order_total_with(order, {c.line_id: c.new_unit_price.amount for c in corrections})
    return _queue(
        order,
        kind="price correction",
        template="order_price_error_request",
        key=f"order-price-request:{order.pk}:{corrections[-1].pk}" if corrections else None,
        context=order_email_context(
            order,
            corrections=corrections,
            new_total=new_total,
            answer_url=order_link_for_email(order, view="price:answer"),
            answer_by_local=shop_local(hold.due_at if hold else None),
        ),
    )


def order_price_error_accepted_queue(*, order: Order, old_total) -> Email:
    """ORD-PRICE-ERROR outcome: the corrected price is accepted; the order goes on at the new total."""
    refund_due = order.paid_at is not None and order.total < old_total
    return _queue(
        order,
        kind="price accepted",
        template="order_price_error_accepted",
        key=None,
        context=order_email_context(
            order, old_total=old_total, refund_due=(old_total - order.total) if refund_due else None
        ),
    )


def invoice_attachment(ref: str) -> tuple[str, bytes, str]:
    """Attachment builder ``orders.invoice`` (registered in OrdersConfig.ready())."""
    order = Order.objects.select_related("region", "delivery_method").get(pk=int(ref))
    return f"invoice-{order.number}.pdf", invoice_pdf(order), "application/pdf"
