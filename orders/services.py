"""Every move of an order's lifecycle after confirmation: one function per business action.

Each service locks the order row, returns early when the work is already done (idempotent),
checks the move against ``orders.lifecycle`` (the one table of allowed moves), saves only the
fields it changed, writes an ``OrderEvent`` through ``orders.events`` and starts side effects
(e-mails, hooks into higher apps) only after commit. Confirmation itself lives in
``orders.checkout`` (checkout engineer).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from shop import hooks
from shop.calendar import BusinessCalendar
from shop.models import PaymentMethod, Policy

from . import events, lifecycle, notifications
from .models import Order, OrderLine, PriceCorrection

S = Order.Status


class OrderActionError(Exception):
    """A staff or customer action cannot be done as asked; the message says why. Nothing changed."""


def _lock(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def _status_move(order: Order, target: str, *, actor=None, note: str = "") -> None:
    """Move the (locked) order to ``target`` after checking the table, with its event."""
    lifecycle.check(order, to=target)
    source = order.status
    order.status = target
    order.save(update_fields=["status"])
    events.status_changed(order=order, source=source, target=target, actor=actor, note=note)


def _take_stock(order: Order) -> list[OrderLine]:
    """PAY-PREPAID-FIRST: reserve stock once money is in. Returns the lines that are short."""
    from . import stock

    if order.stock_taken:
        return []
    short = stock.take_stock(order=order)
    order.refresh_from_db(fields=["stock_taken"])
    return list(short)


# --- Payment --------------------------------------------------------------------------------
def order_mark_paid(
    *, order_id: int, amount: Money, paid_at: dt.datetime, method: str, reference: str = "", actor=None
) -> Order:
    """The payment is confirmed (funds credited): AWAITING_PAYMENT → PAID, or FRAUD_CHECK for a card.

    PAY-FRAUD-CHECK: a bank-card payment made online stops for staff review before processing.
    SHIP-WITHIN-2BD: ``ship_by`` is counted by the business calendar from the payment moment.
    PAY-PREPAID-FIRST: stock is taken only now; if a line is short the order waits in
    STOCK_DECISION (SHIP-STOCKOUT offers the customer's choices).
    Idempotent: PayPal may confirm twice (return and webhook); the second call changes nothing.
    """
    with transaction.atomic():
        order = _lock(order_id)
        if order.paid_at is not None:
            return order
        target = S.FRAUD_CHECK if method == PaymentMethod.CARD_ONLINE else S.PAID
        if order.status != S.AWAITING_PAYMENT:
            raise lifecycle.TransitionNotAllowed(order, target)
        lifecycle.check(order, to=target)
        source = order.status
        policy = Policy.load()
        order.status = target
        order.paid_at = paid_at
        order.ship_by = BusinessCalendar.current().add_business_days(paid_at, policy.ship_within_days)
        order.save(update_fields=["status", "paid_at", "ship_by"])
        events.order_paid(order=order, amount=amount, method=method, source=source, reference=reference, actor=actor)

        short = _take_stock(order)
        if short:
            events.stock_short(order=order, products=[line.product_name for line in short], actor=actor)
            if order.status == S.PAID:
                _status_move(order, S.STOCK_DECISION, actor=actor, note="An item is unavailable.")
            # A card payment under review (FRAUD_CHECK) retries the stock when staff approve it.

        notifications.order_payment_notice_queue(order=order)
        order_pk = order.pk
        transaction.on_commit(lambda: hooks.run("order_paid", order_pk))
        return order


def order_fraud_approve(*, order_id: int, actor) -> Order:
    """PAY-FRAUD-CHECK: staff approve a card payment: FRAUD_CHECK → PROCESSING.

    If the stock could not be reserved at payment, it is tried again now; still short → the
    order waits in STOCK_DECISION. To reject a payment staff cancel the order (``order_cancel``),
    which refunds the card through the ``order_cancelled`` hook.
    """
    with transaction.atomic():
        order = _lock(order_id)
        if order.status != S.FRAUD_CHECK:
            if order.status in {S.PROCESSING, S.STOCK_DECISION} and order.paid_at is not None:
                return order  # already approved
            raise lifecycle.TransitionNotAllowed(order, S.PROCESSING)
        lifecycle.check(order, to=S.PROCESSING)
        order.status = S.PROCESSING
        order.save(update_fields=["status"])
        events.fraud_check_decided(order=order, approved=True, actor=actor)
        short = _take_stock(order)
        if short:
            events.stock_short(order=order, products=[line.product_name for line in short], actor=actor)
            _status_move(order, S.STOCK_DECISION, actor=actor, note="An item is unavailable.")
        else:
            notifications.order_processing_queue(order=order)
        return order


def order_start_processing(*, order_id: int, actor) -> Order:
    """Staff start work on a paid order: PAID → PROCESSING (SHIP-PROCESSING-TIME)."""
    with transaction.atomic():
        order = _lock(order_id)
        if order.status == S.PROCESSING:
            return order
        _status_move(order, S.PROCESSING, actor=actor)
        notifications.order_processing_queue(order=order)
        return order


# --- Cancellation ---------------------------------------------------------------------------
def _cancel_locked(order: Order, *, reason: str, actor=None) -> Order:
    lifecycle.check(order, to=S.CANCELLED)
    if order.stock_taken:
        from . import stock

        stock.release_stock(order=order)
    source = order.status
    order.status = S.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason
    order.price_answer_by = None
    order.status_before_price_check = ""
    order.save(
        update_fields=["status", "cancelled_at", "cancel_reason", "price_answer_by", "status_before_price_check"]
    )
    if source == S.PRICE_CONFIRMATION:
        PriceCorrection.objects.filter(order=order, resolved=False).update(resolved=True, accepted=False)
    events.order_cancelled(order=order, reason=reason, actor=actor)
    notifications.order_cancelled_queue(order=order)
    order_pk = order.pk
    # PAY-REFUND-SAME-WAY: the payments app refunds anything captured.
    transaction.on_commit(lambda: hooks.run("order_cancelled", order_pk))
    return order


def order_cancel(*, order_id: int, reason: str = "", actor=None) -> Order:
    """ORD-REFUSE: staff cancel an order (a reason is optional); stock goes back, money is refunded.

    Allowed from ``lifecycle.CANCELLABLE``. The customer is e-mailed (with the reason if given).
    Cancelling a cancelled order changes nothing.
    """
    with transaction.atomic():
        order = _lock(order_id)
        if order.status == S.CANCELLED:
            return order
        return _cancel_locked(order, reason=reason.strip(), actor=actor)


# --- ORD-PRICE-ERROR ------------------------------------------------------------------------
def _money(amount: Decimal, currency) -> Money:
    return Money(Decimal(amount).quantize(Decimal("0.01")), currency)


def order_total_with(order: Order, unit_prices: dict[int, Decimal]) -> Money:
    """The order total with some lines' unit prices replaced (line id → new unit price)."""
    currency = order.total.currency
    subtotal = sum(
        (unit_prices.get(line.pk, line.unit_price.amount) * line.quantity for line in order.lines.all()),
        Decimal("0"),
    )
    return _money(subtotal + order.delivery_cost.amount - order.discount.amount, currency)


def order_price_error_mark(*, order_id: int, corrections: dict[int, Decimal], actor) -> Order:
    """ORD-PRICE-ERROR: staff found a wrong price; ask the customer to accept the corrected one.

    ``corrections`` maps line ids to corrected unit prices. The order waits in
    PRICE_CONFIRMATION until the customer answers or ``Policy.price_error_answer_days`` (calendar
    days, as the policy says) pass. A paid order may only get a lower price: asking for more money
    after payment is not supported (staff cancel instead), so it is refused with a message.
    """
    with transaction.atomic():
        order = _lock(order_id)
        lines = {line.pk: line for line in order.lines.all()}
        wanted = {int(k): Decimal(v) for k, v in corrections.items()}
        if order.status == S.PRICE_CONFIRMATION:
            pending = {c.line_id: c.new_unit_price.amount for c in order.price_corrections.filter(resolved=False)}
            if pending == wanted:
                return order
            raise OrderActionError("This order is already waiting for the customer's answer on a corrected price.")
        if not wanted:
            raise OrderActionError("Enter at least one corrected price.")
        for line_id, price in wanted.items():
            if line_id not in lines:
                raise OrderActionError(f"Line {line_id} is not part of order {order.number}.")
            if price < 0:
                raise OrderActionError(f"{lines[line_id].product_name}: a price cannot be negative.")
            if price == lines[line_id].unit_price.amount:
                raise OrderActionError(f"{lines[line_id].product_name}: the corrected price equals the current one.")
        lifecycle.check(order, to=S.PRICE_CONFIRMATION)
        new_total = order_total_with(order, wanted)
        if order.paid_at is not None and new_total > order.total:
            raise OrderActionError(
                f"Order {order.number} is already paid: a corrected price may only lower the total "
                f"({order.total} now, {new_total} corrected). Cancel the order instead."
            )
        currency = order.total.currency
        PriceCorrection.objects.bulk_create(
            PriceCorrection(
                order=order,
                line=lines[line_id],
                old_unit_price=lines[line_id].unit_price,
                new_unit_price=_money(price, currency),
            )
            for line_id, price in sorted(wanted.items())
        )
        order.status_before_price_check = order.status
        order.status = S.PRICE_CONFIRMATION
        order.price_answer_by = timezone.now() + dt.timedelta(days=Policy.load().price_error_answer_days)
        order.save(update_fields=["status", "status_before_price_check", "price_answer_by"])
        events.price_error_marked(
            order=order,
            corrections=[
                {
                    "line_id": line_id,
                    "product": lines[line_id].product_name,
                    "old_unit_price": lines[line_id].unit_price.amount,
                    "new_unit_price": price,
                }
                for line_id, price in sorted(wanted.items())
            ],
            new_total=new_total,
            answer_by=order.price_answer_by,
            actor=actor,
        )
        notifications.order_price_error_request_queue(order=order)
        return order


def order_price_error_answer(*, order_id: int, accept: bool, actor=None) -> Order:
    """ORD-PRICE-ERROR: the customer accepts the corrected price (order goes on) or declines (cancelled).

    Accepting a lower price on a paid order starts a refund of the difference
    (``order_refund_due`` hook); declining a paid order refunds everything (``order_cancelled``).
    An answer after the deadline is refused; answering twice changes nothing.
    """
    with transaction.atomic():
        order = _lock(order_id)
        if order.status != S.PRICE_CONFIRMATION:
            return order
        if order.price_answer_by is not None and timezone.now() > order.price_answer_by:
            raise OrderActionError("The time to answer has passed; the order will be cancelled.")
        pending = list(order.price_corrections.filter(resolved=False).select_related("line"))
        if not accept:
            events.price_error_answered(order=order, accepted=False, actor=actor)
            return _cancel_locked(order, reason="You declined the corrected price.", actor=actor)

        target = order.status_before_price_check or S.AWAITING_PAYMENT
        lifecycle.check(order, to=target)
        old_total = order.total
        changed = []
        for correction in pending:
            line = correction.line
            line.unit_price = correction.new_unit_price
            line.line_total = _money(correction.new_unit_price.amount * line.quantity, line.unit_price.currency)
            line.save(update_fields=["unit_price", "line_total"])
            changed.append(
                {
                    "product": line.product_name,
                    "old_unit_price": correction.old_unit_price.amount,
                    "new_unit_price": correction.new_unit_price.amount,
                }
            )
        PriceCorrection.objects.filter(pk__in=[c.pk for c in pending]).update(resolved=True, accepted=True)
        currency = order.total.currency
        subtotal = sum((line.line_total.amount for line in order.lines.all()), Decimal("0"))
        order.subtotal = _money(subtotal, currency)
        order.total = _money(subtotal + order.delivery_cost.amount - order.discount.amount, currency)
        order.status = target
        order.status_before_price_check = ""
        order.price_answer_by = None
        order.save(update_fields=["subtotal", "total", "status", "status_before_price_check", "price_answer_by"])
        events.price_error_accepted(order=order, old_total=old_total, new_total=order.total, lines=changed, actor=actor)
        notifications.order_price_error_accepted_queue(order=order, old_total=old_total)
        if order.paid_at is not None and order.total < old_total:
            difference = (old_total - order.total).amount
            order_pk = order.pk
            transaction.on_commit(lambda: hooks.run("order_refund_due", order_pk, difference))
        return order


def orders_cancel_unanswered_price_errors() -> int:
    """ORD-PRICE-ERROR: cancel orders whose corrected price was not answered in time.

    One indexed query on ``price_answer_by``; each order is re-checked under its lock, so running
    twice (or late) cancels each order once. Returns how many were cancelled now.
    """
    now = timezone.now()
    due = list(
        Order.objects.filter(price_answer_by__lt=now, status=S.PRICE_CONFIRMATION)
        .order_by("price_answer_by")
        .values_list("pk", flat=True)
    )
    cancelled = 0
    for order_id in due:
        with transaction.atomic():
            order = _lock(order_id)
            if order.status != S.PRICE_CONFIRMATION or order.price_answer_by is None or order.price_answer_by >= now:
                continue
            events.price_error_timed_out(order=order)
            _cancel_locked(order, reason="No answer to the corrected price in time.")
            cancelled += 1
    return cancelled
