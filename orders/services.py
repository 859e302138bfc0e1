"""Every move of an order after confirmation: one function per business action.

Each service runs in one transaction: it locks the order (``shop.locks``, the one lock order),
returns early when the work is already done (idempotent), moves the status only through
``orders.lifecycle.move`` (the table), opens and releases holds through ``orders.holds``, writes a
typed event through ``orders.events``, and writes every obligation it creates in the same
transaction: e-mails go to the outbox (``orders.notifications``), and the hooks into higher apps
(``shop.hooks``: the payments app writes its refund rows) run inside the transaction. Only the
outside calls (SMTP, PayPal) wait for commit. Confirmation itself lives in ``orders.checkout``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from djmoney.money import Money

from shop import hooks
from shop.calendar import BusinessCalendar
from shop.cart import CartError, cart_add
from shop.locks import lock_order, lock_orders
from shop.models import PREPAID_METHODS, PaymentMethod, Policy, policy_memoized
from shop.money import money

from . import bonus, events, holds, lifecycle, notifications, stock
from .errors import OrderActionError, OrderErrorCode
from .lifecycle import OrderOnHold, TransitionNotAllowed
from .models import HoldKind, Order, OrderAdjustment, OrderHold, OrderLine, PriceCorrection
from .pricing import adjustments_load, order_amount_due, order_total_with

__all__ = [
    "Adjustment",
    "OrderActionError",
    "OrderErrorCode",
    "TransitionNotAllowed",
    "order_adjust",
    "order_cancel",
    "order_fraud_approve",
    "order_fraud_reject",
    "order_mark_paid",
    "order_note_add",
    "order_ready_check",
    "orders_adjust",
    "orders_cancel",
    "orders_ready_check",
    "order_stock_short",
    "order_price_error_answer",
    "order_price_error_mark",
    "orders_cancel_unanswered_price_errors",
]

S = Order.Status
H = HoldKind


def _take_stock_or_hold(order: Order, *, actor=None) -> bool:
    """PAY-PREPAID-FIRST: reserve stock once money is in. True when nothing waits for stock.

    SHIP-STOCKOUT: the units on the shelf are reserved at once (orders/stock.py); missing units open
    the stock-decision hold. Taken before (a second call: fraud approval), nothing is taken again and
    the answer is whether the customer's choice is still awaited.
    """
    if order.stock_taken:
        return holds.open_hold(order, H.STOCK_DECISION) is None
    missing = stock.take_available(order=order)
    if missing:
        order_stock_short(order=order, missing=missing, actor=actor)
        return False
    return True


def order_stock_short(*, order: Order, missing: dict[int, int], actor=None) -> OrderHold:
    """SHIP-STOCKOUT: the (locked) order lacks ``missing`` units (line id → units, already counted
    short on the lines): an event, the stock-decision hold due in ``Policy.stockout_answer_days``
    business days, and the ``order_stock_short`` hook, through which the fulfilment app records the
    shortage and e-mails the customer their choices, in this transaction.
    """
    lines = {line.pk: line for line in order.lines.filter(pk__in=list(missing))}
    items = [{"line_id": pk, "product": lines[pk].product_name, "quantity": n} for pk, n in sorted(missing.items())]
    due = BusinessCalendar.current().add_business_days(timezone.now(), Policy.load().stockout_answer_days)
    events.stock_short(order=order, items=items, due_at=due, actor=actor)
    hold = holds.hold_open(order=order, kind=H.STOCK_DECISION, due_at=due, note="An item is unavailable.", actor=actor)
    hooks.run("order_stock_short", order.pk, dict(missing))
    return hold


def order_ready_check(order: Order, *, actor=None) -> bool:
    """SHIP-SUBCONTRACTOR: mark the (locked) order ready to fulfil if it now is; True when it is ready.

    Ready = processing, paid if prepaid (PAY-PREPAID-FIRST), and no open hold. The moment is stored
    once (``ready_at``) and the ``order_ready`` hook runs in this transaction: the fulfilment app
    writes its partner notice with it. Call it after anything that may make an order ready: a
    payment, a hold released, a confirmation paid on delivery.
    """
    return orders_ready_check([order], actor=actor)[0]


def orders_ready_check(orders: list[Order], *, actor=None) -> list[bool]:
    """``order_ready_check`` for several (locked) orders (a sweep's batch, issue #14): their open holds
    read in one query, the ready ones stamped in one UPDATE and the ``order_ready`` hook run for them
    together. Returns, for each order, whether it is ready."""
    candidates = [
        order
        for order in orders
        if order.ready_at is None
        and order.status == S.PROCESSING
        and not (order.payment_method in PREPAID_METHODS and order.paid_at is None)
    ]
    if candidates:
        held = set(
            OrderHold.objects.filter(order__in=candidates, released_at__isnull=True).values_list("order_id", flat=True)
        )
        ready = [order for order in candidates if order.pk not in held]
        if ready:
            now = timezone.now()
            Order.objects.filter(pk__in=[order.pk for order in ready]).update(ready_at=now)
            for order in ready:
                order.ready_at = now
                events.order_ready(order=order, actor=actor)
            hooks.run_many("order_ready", [order.pk for order in ready])
    return [order.ready_at is not None for order in orders]


@dataclass(frozen=True)
class Adjustment:
    """One change of what the customer owes (the arguments of ``order_adjust``)."""

    order: Order
    kind: str
    amount: Money
    reason: str | events.Phrase
    key: str


def order_adjust(
    *, order: Order, kind: str, amount: Money, reason: str | events.Phrase, key: str, actor=None
) -> OrderAdjustment:
    """Change what the customer owes on the (locked) order: a fee (positive) or a cancelled part (negative).

    ``reason`` is an ``events.Phrase`` (or a ``gettext_noop`` msgid): the timeline shows it in the reader's
    language (issue #12). Idempotent by ``key``. The payments app recomputes the payment status in this transaction
    (``order_amount_changed`` hook); a refund of a cancelled part is the caller's ``order_refund_due``.
    """
    return orders_adjust([Adjustment(order, kind, amount, reason, key)], actor=actor)[0]


def orders_adjust(wanted: list[Adjustment], *, actor=None) -> list[OrderAdjustment]:
    """``order_adjust`` for several (locked) orders (a sweep's batch, issue #14): the keys already used
    read in one query, the new rows written in one, the orders' adjustments read again in one (the
    events say what is owed now), and the ``order_amount_changed`` hook run for them together."""
    found = {a.key: a for a in OrderAdjustment.objects.filter(key__in=[w.key for w in wanted])}
    new: list[tuple[Adjustment, OrderAdjustment]] = []
    for w in wanted:
        if w.key in found:
            continue
        row = OrderAdjustment(
            order=w.order, kind=w.kind, amount=money(w.amount), reason=str(w.reason)[:300], key=w.key, actor=actor
        )
        found[w.key] = row
        new.append((w, row))
    if new:
        OrderAdjustment.objects.bulk_create([row for _w, row in new])
        orders = list({w.order.pk: w.order for w, _row in new}.values())
        adjustments_load(orders)
        for w, row in new:
            events.order_adjusted(
                order=w.order,
                kind=w.kind,
                amount=row.amount,
                reason=w.reason,
                amount_due=order_amount_due(w.order),
                actor=actor,
            )
        hooks.run_many("order_amount_changed", [order.pk for order in orders])
    return [found[w.key] for w in wanted]


def order_note_add(*, order_id: int, text: str, actor) -> Order:
    """Staff add an internal note to the order's timeline (never shown to the customer)."""
    text = (text or "").strip()
    if not text:
        raise OrderActionError("Write the note first.", code=OrderErrorCode.NO_TEXT)
    with transaction.atomic():
        order = lock_order(order_id)
        events.staff_note(order=order, text=text[:280], actor=actor)
        return order


# --- Payment --------------------------------------------------------------------------------
def order_mark_paid(
    *, order_id: int, amount: Money, paid_at: dt.datetime, method: str, reference: str = "", actor=None
) -> Order:
    """The payment is confirmed (funds credited): AWAITING_PAYMENT → PROCESSING.

    PAY-FRAUD-CHECK: a bank-card payment made online opens a fraud-review hold: the order is not
    processed further until staff approve it.
    SHIP-WITHIN-2BD: ``ship_by`` is counted by the business calendar from the payment moment.
    PAY-PREPAID-FIRST: stock is taken only now; if a line is short a SHIP-STOCKOUT hold opens.
    ORD-PRICE-ERROR: money arriving while the customer has a corrected price to answer is not
    applied (raises ``OrderOnHold``: the payments app holds it for staff review).
    Idempotent: PayPal may confirm twice (return and webhook); the second call changes nothing.
    The ``order_paid`` hook runs inside this transaction (receivers write their obligation rows).
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if order.paid_at is not None:
            return order
        if holds.open_hold(order, H.PRICE_CONFIRMATION) is not None:
            raise OrderOnHold(order, S.PROCESSING, reason="waiting for the customer's answer on a corrected price")
        policy = Policy.load()
        order.paid_at = paid_at
        order.ship_by = BusinessCalendar.current().add_business_days(paid_at, policy.ship_within_days)
        lifecycle.move(order, S.PROCESSING, actor=actor, fields=["paid_at", "ship_by"])
        events.order_paid(order=order, amount=amount, method=method, reference=reference, actor=actor)
        if method == PaymentMethod.CARD_ONLINE:
            holds.hold_open(order=order, kind=H.FRAUD_REVIEW, note="Card payment to be checked by staff.")
        _take_stock_or_hold(order, actor=actor)
        notifications.order_payment_notice_queue(order=order)
        hooks.run("order_paid", order.pk)
        order_ready_check(order, actor=actor)
        return order


def order_fraud_approve(*, order_id: int, actor) -> Order:
    """PAY-FRAUD-CHECK: staff approve a card payment: the fraud-review hold is released.

    If the stock could not be reserved at payment it is tried again now; still short, the
    SHIP-STOCKOUT hold stays. Approving twice changes nothing.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if holds.open_hold(order, H.FRAUD_REVIEW) is None:
            if order.paid_at is not None and order.status != S.CANCELLED:
                return order  # already approved
            raise OrderActionError(
                "This order is not waiting for a fraud check.", code=OrderErrorCode.NOT_IN_FRAUD_REVIEW
            )
        events.fraud_review_approved(order=order, actor=actor)
        holds.hold_release(order=order, kind=H.FRAUD_REVIEW, resolution=gettext_noop("Approved by staff."), actor=actor)
        if _take_stock_or_hold(order, actor=actor):
            notifications.order_processing_queue(order=order)
        order_ready_check(order, actor=actor)
        return order


def order_fraud_reject(*, order_id: int, actor, note: str = "") -> Order:
    """PAY-FRAUD-CHECK: staff reject the card payment: the order is cancelled, the card refunded.

    The refund is written in this transaction by the refunds app's ``order_cancelled`` receiver (a fraud case).
    """
    with transaction.atomic():
        order = lock_order(order_id)
        if holds.open_hold(order, H.FRAUD_REVIEW) is None:
            raise OrderActionError(
                "This order is not waiting for a fraud check.", code=OrderErrorCode.NOT_IN_FRAUD_REVIEW
            )
        events.fraud_review_rejected(order=order, note=note, actor=actor)
        return _cancel_locked(
            order, reason=note or "The card payment could not be accepted.", actor=actor, kind="fraud_cancel"
        )


# --- Cancellation ---------------------------------------------------------------------------
def _cancel_locked(order: Order, *, reason: str, actor=None, kind: str = "staff_cancel") -> Order:
    """``kind`` says why, for the refund case the refunds app opens (a ``refunds.CaseKind`` value:
    staff_cancel, fraud_cancel, price_error, withdrawal)."""
    return _cancel_many([order], reason=reason, actor=actor, kind=kind)[0]


def _cancel_many(orders: list[Order], *, reason: str, actor=None, kind: str = "staff_cancel") -> list[Order]:
    """Cancel the (locked) orders together: the one implementation behind every cancellation, for one
    order (staff, the customer) or hundreds (a periodic sweep), with a fixed number of queries
    (issue #14). Every move is checked before anything changes."""
    for order in orders:
        lifecycle.check(order, to=S.CANCELLED)
    if not orders:
        return orders
    with events.batched():
        stock.release_stock_many(orders, actor=actor)
        holds.holds_release_all_many(orders, resolution=gettext_noop("Order cancelled."), actor=actor)
        PriceCorrection.objects.filter(order__in=orders, resolved=False).update(resolved=True, accepted=False)
        # Nothing left the warehouse (cancellable statuses are before dispatch): every open unit is
        # cancelled, the short ones too (SHIP-STOCKOUT; release_stock left them off the shelf).
        lines = [line for line in OrderLine.objects.filter(order__in=orders).order_by("pk") if line.quantity_open]
        for line in lines:
            line.quantity_cancelled += line.quantity_open
            line.quantity_short = 0
        if lines:
            OrderLine.objects.bulk_update(lines, ["quantity_cancelled", "quantity_short"])
        now = timezone.now()
        for order in orders:
            order.cancelled_at = now
            order.cancel_reason = reason
            order.ship_by = None  # SHIP-WITHIN-2BD: a cancelled order has nothing to ship
        lifecycle.move_many(orders, S.CANCELLED, actor=actor, fields=["cancelled_at", "cancel_reason", "ship_by"])
        for order in orders:
            events.order_cancelled(order=order, reason=reason, actor=actor)
        notifications.order_cancelled_queue_many(orders)
        bonus.bonus_return_spent_many(orders)  # PAY-DISCOUNTS: points spent on them come back
        # PAY-REFUND-SAME-WAY: the refunds app opens a case of this kind and refunds anything captured
        # through the payments app, in this transaction.
        hooks.run_many("order_cancelled", [order.pk for order in orders], kind=kind)
    return orders


def order_cancel(*, order_id: int, reason: str = "", actor=None, kind: str = "staff_cancel") -> Order:
    """ORD-REFUSE: staff cancel an order (a reason is optional); stock goes back, money is refunded.

    Allowed from ``lifecycle.CANCELLABLE``. The customer is e-mailed (with the reason if given).
    Cancelling a cancelled order changes nothing.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        return orders_cancel([order], reason=reason, actor=actor, kind=kind)[0]


def orders_cancel(orders: list[Order], *, reason: str = "", actor=None, kind: str = "staff_cancel") -> list[Order]:
    """``order_cancel`` for several orders the caller locked (a sweep's batch, issue #14): the ones not
    cancelled yet are cancelled together (``_cancel_many``)."""
    _cancel_many(
        [order for order in orders if order.status != S.CANCELLED], reason=reason.strip(), actor=actor, kind=kind
    )
    return orders


# --- ORD-PRICE-ERROR ------------------------------------------------------------------------
def _price_corrections_check(order: Order, lines: dict[int, OrderLine], wanted: dict[int, Decimal]) -> None:
    if not wanted:
        raise OrderActionError("Enter at least one corrected price.", code=OrderErrorCode.NO_CORRECTION)
    for line_id, price in wanted.items():
        if line_id not in lines:
            raise OrderActionError(
                f"Line {line_id} is not part of order {order.number}.", code=OrderErrorCode.UNKNOWN_LINE
            )
        if price < 0:
            raise OrderActionError(
                f"{lines[line_id].product_name}: a price cannot be negative.", code=OrderErrorCode.NEGATIVE_PRICE
            )
        if price == lines[line_id].unit_price.amount:
            raise OrderActionError(
                f"{lines[line_id].product_name}: the corrected price equals the current one.",
                code=OrderErrorCode.SAME_PRICE,
            )


def order_price_error_mark(*, order_id: int, corrections: dict[int, Decimal], actor) -> Order:
    """ORD-PRICE-ERROR: staff found a wrong price; ask the customer to accept the corrected one.

    ``corrections`` maps line ids to corrected unit prices. A price-confirmation hold opens, due in
    ``Policy.price_error_answer_days`` (calendar days, as the policy says). A paid order may only get
    a lower price: asking for more money after payment is refused with a message (staff cancel instead).
    """
    with transaction.atomic():
        order = lock_order(order_id)
        lines = {line.pk: line for line in order.lines.all()}
        wanted = {int(k): Decimal(v) for k, v in corrections.items()}
        if holds.open_hold(order, H.PRICE_CONFIRMATION) is not None:
            pending = {c.line_id: c.new_unit_price.amount for c in order.price_corrections.filter(resolved=False)}
            if pending == wanted:
                return order
            raise OrderActionError(
                "This order is already waiting for the customer's answer on a corrected price.",
                code=OrderErrorCode.ALREADY_WAITING,
            )
        _price_corrections_check(order, lines, wanted)
        if order.status not in holds.OPENS_IN[H.PRICE_CONFIRMATION]:
            raise OrderActionError(
                f"Order {order.number} is {order.get_status_display().lower()}: prices can be corrected only "
                "before it is packed.",
                code=OrderErrorCode.NOT_ALLOWED,
            )
        new_total = order_total_with(order, wanted)
        if order.paid_at is not None and new_total > order.total:
            raise OrderActionError(
                f"Order {order.number} is already paid: a corrected price may only lower the total "
                f"({order.total} now, {new_total} corrected). Cancel the order instead.",
                code=OrderErrorCode.PAID_PRICE_RISE,
            )
        currency = order.total.currency
        PriceCorrection.objects.bulk_create(
            PriceCorrection(
                order=order,
                line=lines[line_id],
                old_unit_price=lines[line_id].unit_price,
                new_unit_price=money(price, currency),
            )
            for line_id, price in sorted(wanted.items())
        )
        answer_by = timezone.now() + dt.timedelta(days=Policy.load().price_error_answer_days)
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
            answer_by=answer_by,
            actor=actor,
        )
        holds.hold_open(order=order, kind=H.PRICE_CONFIRMATION, due_at=answer_by, actor=actor)
        notifications.order_price_error_request_queue(order=order)
        return order


def _price_corrections_apply(order: Order) -> list[dict]:
    pending = list(order.price_corrections.filter(resolved=False).select_related("line"))
    changed = []
    for correction in pending:
        line = correction.line
        line.unit_price = correction.new_unit_price
        line.line_total = money(correction.new_unit_price.amount * line.quantity, line.unit_price.currency)
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
    order.subtotal = money(subtotal, currency)
    order.total = money(subtotal + order.delivery_cost.amount - order.discount.amount, currency)
    order.save(update_fields=["subtotal", "total"])
    return changed


def order_price_error_answer(*, order_id: int, accept: bool, actor=None) -> Order:
    """ORD-PRICE-ERROR: the customer accepts the corrected price (order goes on) or declines (cancelled).

    Accepting a lower price on a paid order writes a refund of the difference (``order_refund_due``
    hook, in this transaction); declining a paid order refunds everything (``order_cancelled``).
    An answer after the deadline is refused; answering twice changes nothing.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        hold = holds.open_hold(order, H.PRICE_CONFIRMATION)
        if hold is None:
            return order
        if hold.due_at is not None and timezone.now() > hold.due_at:
            raise OrderActionError(
                _("The time to answer has passed; the order will be cancelled."), code=OrderErrorCode.ANSWER_TOO_LATE
            )
        if not accept:
            events.price_error_declined(order=order, actor=actor)
            return _cancel_locked(order, reason="You declined the corrected price.", actor=actor, kind="price_error")
        old_total = order.total
        changed = _price_corrections_apply(order)
        events.price_error_accepted(order=order, old_total=old_total, new_total=order.total, lines=changed, actor=actor)
        holds.hold_release(
            order=order, kind=H.PRICE_CONFIRMATION, resolution=gettext_noop("Customer accepted."), actor=actor
        )
        notifications.order_price_error_accepted_queue(order=order, old_total=old_total)
        if order.paid_at is not None and order.total < old_total:
            hooks.run("order_refund_due", order.pk, (old_total - order.total).amount, kind="price_error")
        order_ready_check(order, actor=actor)
        return order


#: Due orders handled per transaction by a periodic sweep: locks held, and the transaction, stay bounded.
SWEEP_CHUNK = 500


def orders_cancel_unanswered_price_errors() -> int:
    """ORD-PRICE-ERROR: cancel orders whose corrected price was not answered in time.

    One indexed query on the open price-confirmation holds past ``due_at``; then, per chunk of
    ``SWEEP_CHUNK`` orders, one transaction that locks them (pk order, one query), re-checks each hold
    under the lock and cancels them together (``_cancel_many``), so running twice (or late) cancels each
    order once and the queries do not grow with the orders (issue #14). Returns how many were cancelled.
    """
    now = timezone.now()
    cancelled = 0
    with policy_memoized():
        due = list(dict.fromkeys(holds.holds_due(H.PRICE_CONFIRMATION, now=now).values_list("order_id", flat=True)))
        for start in range(0, len(due), SWEEP_CHUNK):
            chunk = due[start : start + SWEEP_CHUNK]
            with transaction.atomic():
                locked = lock_orders(chunk)
                open_holds = holds.open_holds_many(list(locked.values()), H.PRICE_CONFIRMATION)
                orders = [
                    locked[pk]
                    for pk in chunk
                    if pk in open_holds and open_holds[pk].due_at is not None and open_holds[pk].due_at < now
                ]
                with events.batched():
                    for order in orders:
                        events.price_error_timed_out(order=order)
                    _cancel_many(orders, reason="No answer to the corrected price in time.", kind="price_error")
                cancelled += len(orders)
    return cancelled


def order_again(*, request, order: Order) -> tuple[list[str], list[str]]:
    """ "Order again": the order's products go into the request's cart at today's prices (the cart always
    shows current prices; ORD-PRICE-LOCK fixes them only at the next confirmation).

    Returns (added, refused): the names added and, for each product that could not be added (no
    longer sold, out of stock, fewer left), the reason. Each addition is its own cart write.
    """
    added, refused = [], []
    for line in order.lines.select_related("product").order_by("pk"):
        if line.product is None:
            refused.append(f"“{line.product_name}” is no longer sold.")
            continue
        try:
            cart_add(request=request, product_id=line.product_id, quantity=line.quantity)
        except CartError as error:
            refused.append(str(error))
        else:
            added.append(line.product.name)
    return added, refused
