"""Every e-mail about an order. Each is queued in the caller's transaction (shop.emails outbox) and
sent after commit, so an order that rolls back sends nothing.

Templates live in ``templates/emails/<name>.{subject.txt,txt,html}`` and share the order summary
(``_order_details``): number, lines, totals, delivery address, the processing and delivery windows
as dates (``orders.selectors.order_estimate``, the same as on the order page), the payment if
received, and the link to the order page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import translation
from djmoney.money import Money

from shop.calendar import BusinessCalendar
from shop.emails import Message, emails_queue
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


def _paid_events() -> Prefetch:
    return Prefetch(
        "events",
        queryset=OrderEvent.objects.filter(type=OrderEvent.Type.PAID).order_by("-created_at", "-pk"),
        to_attr="_paid_events",
    )


def paid_amount(order: Order) -> Money | None:
    """The amount of the confirmed payment (from its event), for "Payment received: <amount>"."""
    if order.paid_at is None:
        return None
    loaded = hasattr(order, "_paid_events")  # by _context_load, for many orders at once
    prefetch_related_objects([order], _paid_events())
    event = order._paid_events[0] if order._paid_events else None
    if not loaded:
        del order._paid_events  # read afresh next time: a later payment shows
    amount = (event.parameters or {}).get("amount") if event else None
    if isinstance(amount, dict) and "amount" in amount:
        return Money(Decimal(amount["amount"]), amount.get("currency") or order.total.currency)
    return order.total


#: What an order's e-mail reads besides the order row; ``_context_load`` reads it for many orders at once.
_CONTEXT_RELATED = ("lines__product__images", "adjustments", "discount_lines")


def _context_load(orders: list[Order]) -> None:
    """Read what the e-mails of ``orders`` show, a query per relation for all of them (issue #14). Read
    afresh: the caller may have changed lines or adjustments since they were last read."""
    _context_forget(orders)
    prefetch_related_objects(orders, "region", "delivery_method", *_CONTEXT_RELATED)
    prefetch_related_objects([o for o in orders if o.paid_at is not None], _paid_events())


def _context_forget(orders: list[Order]) -> None:
    """Drop what ``_context_load`` read, so later code of the same transaction reads the rows again."""
    for order in orders:
        cache = getattr(order, "_prefetched_objects_cache", {})
        for name in ("lines", "adjustments", "discount_lines"):
            cache.pop(name, None)
        order.__dict__.pop("_paid_events", None)


def order_email_context(order: Order, **extra) -> dict:
    with translation.override(order.language):  # the payment purpose and VAT words, in the order's language
        instructions = payment_instructions(order)
    loaded = "lines" in getattr(order, "_prefetched_objects_cache", {})  # by _context_load
    prefetch_related_objects([order], "lines__product__images")  # the pictures shown beside each line
    lines = list(order.lines.all())
    if not loaded:
        order._prefetched_objects_cache.pop("lines")  # the order's lines are read afresh next time
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


@dataclass
class OrderMail:
    """One e-mail about an order: its template, the shared order context plus ``extra``, and its key."""

    order: Order
    kind: str
    template: str
    key: str | None
    extra: dict = field(default_factory=dict)
    attachment_builder: str = ""
    attachment_ref: str = ""


def order_emails_queue(mails: list[OrderMail]) -> list[Email]:
    """Queue e-mails about orders, each recorded on its order's timeline once (``key``: idempotent).

    The one implementation behind every order e-mail: for a list of one (a customer's action) or of
    hundreds (a periodic sweep, issue #14), the same fixed number of queries — the keys already
    queued, the orders' lines, products, pictures, adjustments and discounts, one INSERT of the
    e-mails and one of their events.
    """
    if not mails:
        return []
    orders = list({id(m.order): m.order for m in mails}.values())
    keys = {m.key for m in mails if m.key}
    queued = {email.key: email for email in Email.objects.filter(key__in=keys)} if keys else {}
    todo = {id(m) for m in mails if m.key is None or m.key not in queued}
    _context_load([m.order for m in mails if id(m) in todo])
    messages = [
        Message(
            to=m.order.email,
            template=m.template,
            context=order_email_context(m.order, **m.extra) if id(m) in todo else {},
            key=m.key,
            attachment_builder=m.attachment_builder,
            attachment_ref=str(m.attachment_ref),
            language=m.order.language,
        )
        for m in mails
    ]
    # Renders the templates (the context read above is still there); the keys were looked up above.
    result = emails_queue(messages, queued=queued)
    _context_forget(orders)
    with events.batched():
        for mail, (email, new) in zip(mails, result, strict=True):
            if new:
                events.email_queued(order=mail.order, kind=mail.kind, email_id=email.pk)
    return [email for email, _new in result]


def _queue(
    order: Order, *, kind: str, template: str, key: str | None, attachment_builder="", attachment_ref="", **extra
) -> Email:
    mail = OrderMail(order, kind, template, key, extra, attachment_builder, str(attachment_ref))
    return order_emails_queue([mail])[0]


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
        attachment_builder=attachment_builder,
        attachment_ref=attachment_ref,
        **extra,
    )


def order_acknowledgement_queue(*, order: Order) -> Email:
    """ORD-ACK: the order is registered: its details, the delivery window, the PDF invoice attached.

    Idempotent (key ``order-ack:<pk>``). The invoice is built by the worker at send time.
    """
    return _queue(
        order,
        kind="acknowledgement",
        template="order_acknowledgement",
        key=f"order-ack:{order.pk}",
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
    )


def order_processing_queue(*, order: Order) -> Email:
    """SHIP-PROCESSING-TIME: staff started work on the order."""
    return _queue(
        order,
        kind="processing",
        template="order_processing",
        key=f"order-processing:{order.pk}",
    )


def order_cancelled_queue(*, order: Order) -> Email:
    """ORD-REFUSE: the order was cancelled (reason if given); anything paid will be refunded."""
    return order_cancelled_queue_many([order])[0]


def order_cancelled_queue_many(orders: list[Order]) -> list[Email]:
    """``order_cancelled_queue`` for several orders, queued together (issue #14)."""
    return order_emails_queue(
        [
            OrderMail(
                order,
                "cancelled",
                "order_cancelled",
                f"order-cancelled:{order.pk}",
                {"was_paid": order.paid_at is not None},
            )
            for order in orders
        ]
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
        corrections=corrections,
        new_total=new_total,
        answer_url=order_link_for_email(order, view="price:answer"),
        answer_by_local=shop_local(hold.due_at if hold else None),
    )


def order_price_error_accepted_queue(*, order: Order, old_total) -> Email:
    """ORD-PRICE-ERROR outcome: the corrected price is accepted; the order goes on at the new total."""
    refund_due = order.paid_at is not None and order.total < old_total
    return _queue(
        order,
        kind="price accepted",
        template="order_price_error_accepted",
        key=None,
        old_total=old_total,
        refund_due=(old_total - order.total) if refund_due else None,
    )


def invoice_attachment(ref: str) -> tuple[str, bytes, str]:
    """Attachment builder ``orders.invoice`` (registered in OrdersConfig.ready())."""
    order = Order.objects.select_related("region", "delivery_method").get(pk=int(ref))
    return f"invoice-{order.number}.pdf", invoice_pdf(order), "application/pdf"
