"""SHIP-STOCKOUT: items are unavailable — the customer chooses, or the missing part is cancelled.

A shortage is found at payment (``orders.services._take_stock_or_hold`` reserves what is on the shelf
and runs the ``order_stock_short`` hook: ``stockout_record`` here) or by staff at packing
(``stockout_report``). Either way the order gets a stock-decision hold, due in
``Policy.stockout_answer_days`` business days, one ``StockShortage`` row per short line, and the
customer an e-mail with a signed link to the choice page (``shipping.stockout_views``); the page
refuses choices after the hold's ``due_at``.

Stock (orders/stock.py): the units on the shelf are reserved when the shortage is found; the
missing ones are counted short on their lines and never go back to the shelf.

The choices (``stockout_choose``; by the link, or by phone as staff record it):

- cancel all: ``orders.services.order_cancel`` (stock back, everything paid refunded);
- cancel missing (also the timeout, ``stockouts_cancel_unanswered``): the missing units are
  cancelled on their lines, what is owed drops by their value (a negative CANCELLED_PART adjustment)
  and a paid order is refunded that value (``order_refund_due`` hook, in the transaction); if nothing
  would be left the order is cancelled instead;
- split: the available part is packed and shipped now; the missing part ships by the date staff set
  (``stockout_set_date``, before or after the choice; if not set yet the page says the date follows
  by e-mail and the choice is recorded all the same). When the goods arrive staff reserve them
  (``stockout_missing_reserve``) and the rest can be shipped.

Every choice releases the hold and then asks ``order_ready_check``. A choice made twice changes
nothing; a choice after the deadline is refused (``ANSWER_TOO_LATE``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from orders import events, holds, lifecycle, stock
from orders import services as order_services
from orders.access import order_link_for_email
from orders.models import AdjustmentKind, HoldKind, Order, OrderHold, OrderLine
from orders.notifications import OrderMail, order_emails_queue, shop_local
from orders.pricing import adjustments_load, order_amount_due
from refunds.models import CaseKind
from shop import hooks
from shop.calendar import BusinessCalendar
from shop.errors import ServiceError
from shop.locks import lock_order, lock_orders
from shop.models import policy_memoized
from shop.money import money

from ..models import StockoutChoice, StockoutVia, StockShortage

__all__ = [
    "StockoutError",
    "StockoutErrorCode",
    "stockout_choose",
    "stockout_current",
    "stockout_missing_reserve",
    "stockout_record",
    "stockout_report",
    "stockout_set_date",
    "stockouts_cancel_unanswered",
]

C = StockoutChoice
H = HoldKind.STOCK_DECISION
S = Order.Status


class StockoutErrorCode(models.TextChoices):
    NO_SHORTAGE = "no_shortage", "Nothing is waiting for a choice"
    CLOSED = "closed", "The question no longer stands"
    ANSWER_TOO_LATE = "answer_too_late", "Choice after the deadline"
    UNKNOWN_CHOICE = "unknown_choice", "Unknown choice"
    NOTHING_MISSING = "nothing_missing", "No missing units given"
    UNKNOWN_LINE = "unknown_line", "Line not in the order"
    TOO_MANY = "too_many", "More units than the order has on the shelf"
    ALREADY_WAITING = "already_waiting", "Already waiting for the customer's choice"
    NOT_ALLOWED = "not_allowed", "Not allowed in the order's present state"
    DATE_IN_PAST = "date_in_past", "Date in the past"
    NOT_SPLIT = "not_split", "The missing part was not kept"
    NOTHING_ARRIVED = "nothing_arrived", "None of the missing units is on the shelf"


class StockoutError(ServiceError):
    """A stock-out action cannot be done as asked; the message says why. Nothing changed."""


# --- Reading --------------------------------------------------------------------------------
def stockout_current(order: Order) -> tuple[OrderHold | None, list[StockShortage]]:
    """The order's latest shortage: its hold and its rows (lines loaded), in one query."""
    rows = list(
        StockShortage.objects.filter(order=order).select_related("hold", "order_line").order_by("-hold_id", "pk")
    )
    if not rows:
        return None, []
    hold = rows[0].hold
    return hold, [row for row in rows if row.hold_id == hold.pk]


def _items(rows: list[StockShortage]) -> list[dict]:
    return [
        {"line_id": row.order_line_id, "product": row.order_line.product_name, "quantity": row.quantity_missing}
        for row in rows
    ]


def _mail(order: Order, hold: OrderHold, rows, *, template: str, key: str, **extra) -> OrderMail:
    return OrderMail(
        order,
        template.replace("_", " "),
        template,
        key,
        {
            "shortages": rows,
            "answer_url": order_link_for_email(order, view="shipping:stockout_answer"),
            "answer_by_local": shop_local(hold.due_at),
            **extra,
        },
    )


def _email(order: Order, hold: OrderHold, rows, *, template: str, key: str, **extra) -> None:
    order_emails_queue([_mail(order, hold, rows, template=template, key=key, **extra)])


# --- Finding a shortage ---------------------------------------------------------------------
def stockout_record(order_id: int, missing: dict[int, int]) -> list[StockShortage]:
    """``order_stock_short`` receiver (ShippingConfig.ready): the rows of the shortage and the e-mail
    offering the three choices, in the caller's transaction (the order is locked, its hold open)."""
    order = lock_order(order_id)
    hold = holds.open_hold(order, H)
    for line_id, units in sorted(missing.items()):
        StockShortage.objects.get_or_create(
            hold=hold, order_line_id=line_id, defaults={"order": order, "quantity_missing": units}
        )
    rows = stockout_current(order)[1]
    _email(order, hold, rows, template="stockout_request", key=f"stockout-request:{hold.pk}")
    return rows


def stockout_report(*, order_id: int, missing: dict[int, int], actor) -> Order:
    """SHIP-STOCKOUT at packing: staff found ``missing`` units (line id → units) not on the shelf.

    The order (processing, or packed: it goes back to processing) gets the same hold, rows and
    e-mail as a shortage found at payment. Bad input is refused with a message; nothing changes.
    """
    wanted = {int(line_id): int(units) for line_id, units in missing.items() if units}
    with transaction.atomic():
        order = lock_order(order_id)
        if not wanted:
            raise StockoutError(
                _("Enter how many units are missing of at least one line."), code=StockoutErrorCode.NOTHING_MISSING
            )
        if holds.open_hold(order, H) is not None:
            raise StockoutError(
                _("Order %(number)s is already waiting for the customer's choice on unavailable items.")
                % {"number": order.number},
                code=StockoutErrorCode.ALREADY_WAITING,
            )
        if order.status not in {S.PROCESSING, S.PACKED} or not order.stock_taken:
            raise StockoutError(
                _("Order %(number)s is %(status)s: missing items can be reported only while it is processed or packed.")
                % {"number": order.number, "status": order.get_status_display().lower()},
                code=StockoutErrorCode.NOT_ALLOWED,
            )
        lines = {line.pk: line for line in order.lines.all()}
        for line_id, units in sorted(wanted.items()):
            line = lines.get(line_id)
            if line is None:
                raise StockoutError(
                    _("Line %(line)s is not part of order %(number)s.") % {"line": line_id, "number": order.number},
                    code=StockoutErrorCode.UNKNOWN_LINE,
                )
            if units < 0 or units > line.quantity_on_shelf:
                raise StockoutError(
                    _("%(product)s: between 0 and %(count)s units can be missing.")
                    % {"product": line.product_name, "count": line.quantity_on_shelf},
                    code=StockoutErrorCode.TOO_MANY,
                )
        if order.status == S.PACKED:
            lifecycle.move(order, S.PROCESSING, actor=actor, note="Unpacked: an item is missing.")
        stock.mark_short(order=order, missing=wanted)
        order_services.order_stock_short(order=order, missing=wanted, actor=actor)
        return order


# --- The choice -----------------------------------------------------------------------------
def stockout_choose(*, order_id: int, choice: str, via: str, actor=None) -> Order:
    """The customer's choice (``via`` link), or one taken by phone (``via`` phone, staff as actor).

    Made twice (or after another), nothing changes; after the deadline it is refused.
    """
    if choice not in C.values:
        raise StockoutError(_("Choose one of the three options."), code=StockoutErrorCode.UNKNOWN_CHOICE)
    with transaction.atomic():
        order = lock_order(order_id)
        hold, rows = stockout_current(order)
        if not rows:
            raise StockoutError(
                _("This order has no unavailable items to choose about."), code=StockoutErrorCode.NO_SHORTAGE
            )
        if rows[0].choice:
            return order
        if hold.released_at is not None:
            raise StockoutError(
                _("There is nothing to choose any more: %(why)s")
                % {"why": hold.resolution or _("the question was closed.")},
                code=StockoutErrorCode.CLOSED,
            )
        if timezone.now() > hold.due_at:
            raise StockoutError(
                _("The time to choose has passed; the unavailable items are cancelled."),
                code=StockoutErrorCode.ANSWER_TOO_LATE,
            )
        _decide(order, hold, rows, choice=choice, via=via, actor=actor)
        return order


def _decide(order: Order, hold: OrderHold, rows: list[StockShortage], *, choice: str, via: str, actor) -> None:
    """Record the choice on the rows, then carry it out (the order locked, the hold open)."""
    _decide_many([(order, hold, rows)], choice=choice, via=via, actor=actor)


Shortage = tuple[Order, OrderHold, list[StockShortage]]


def _decide_many(shortages: list[Shortage], *, choice: str, via: str, actor) -> None:
    """``_decide`` for several orders (one choice by the customer, or a sweep's batch of timeouts,
    issue #14): the rows of all written with one UPDATE, the choice carried out for them together."""
    StockShortage.objects.filter(hold__in=[hold for _order, hold, _rows in shortages]).update(
        choice=choice, via=via, decided_at=timezone.now(), decided_by=actor
    )
    for order, hold, rows in shortages:
        for row in rows:
            row.choice, row.via = choice, via
        if via == StockoutVia.TIMEOUT:
            events.stockout_timed_out(order=order, due_at=hold.due_at)
        else:
            events.stockout_chosen(order=order, choice=choice, via=via, actor=actor)
    if choice == C.CANCEL_ALL:
        order_services.orders_cancel(
            [order for order, _hold, _rows in shortages],
            reason="The whole order was cancelled as chosen: an item is unavailable.",
            actor=actor,
            kind=CaseKind.STOCKOUT_CANCEL,
        )
        return
    if choice == C.CANCEL_MISSING:
        left = _cancel_missing_many(shortages, actor=actor)  # without the orders cancelled: nothing was left
    else:
        orders = [order for order, _hold, _rows in shortages]
        holds.holds_release_many(
            orders, H, resolution=gettext_noop("Split: what is available ships now, the rest later."), actor=actor
        )
        order_emails_queue(
            [
                _mail(
                    order, hold, rows, template="stockout_outcome", key=f"stockout-outcome:{hold.pk}", outcome="split"
                )
                for order, hold, rows in shortages
            ]
        )
        left = orders
    order_services.orders_ready_check(left, actor=actor)


def _cancel_missing_many(shortages: list[Shortage], *, actor) -> list[Order]:
    """Cancel the missing units of each order: counters, adjustment, refund, in one write of each kind
    for all (issue #14). An order with nothing left is cancelled instead (everything paid refunded).
    Returns the orders not cancelled."""
    lines: dict[int, dict] = {order.pk: {} for order, _hold, _rows in shortages}
    for line in OrderLine.objects.filter(order__in=list(lines)).order_by("pk"):
        lines[line.order_id][line.pk] = line
    emptied, kept = [], []
    for order, hold, rows in shortages:
        mine = lines[order.pk]
        cancel = {row.order_line_id: min(row.quantity_missing, mine[row.order_line_id].quantity_short) for row in rows}
        if sum(line.quantity_open for line in mine.values()) <= sum(cancel.values()):
            emptied.append(order)
        else:
            kept.append((order, hold, rows, cancel))
    order_services.orders_cancel(
        emptied, reason="None of the items ordered is available.", actor=actor, kind=CaseKind.STOCKOUT_CANCEL
    )
    if not kept:
        return []
    adjustments_load([order for order, *_rest in kept])
    changed, values = [], {}
    for order, _hold, rows, cancel in kept:
        value = Decimal("0")
        for line_id, units in sorted(cancel.items()):
            line = lines[order.pk][line_id]
            line.quantity_cancelled += units
            line.quantity_short -= units
            changed.append(line)
            value += line.net_value(units)  # PAY-DISCOUNTS: what these units cost after discounts
        # Never more than is owed (an order-wide discount): what is owed cannot go below zero.
        values[order.pk] = money(min(value, order_amount_due(order).amount), order.total.currency)
        events.stockout_part_cancelled(order=order, items=_items(rows), value=values[order.pk], actor=actor)
    OrderLine.objects.bulk_update(changed, ["quantity_cancelled", "quantity_short"])
    orders = [order for order, *_rest in kept]
    holds.holds_release_many(orders, H, resolution=gettext_noop("The unavailable items are cancelled."), actor=actor)
    owed = [(order, hold, values[order.pk]) for order, hold, _rows, _cancel in kept if values[order.pk].amount > 0]
    order_services.orders_adjust(
        [
            order_services.Adjustment(
                order,
                AdjustmentKind.CANCELLED_PART,
                -value,
                gettext_noop("Unavailable items cancelled"),
                f"stockout:{hold.pk}",
            )
            for order, hold, value in owed
        ],
        actor=actor,
    )
    # PAY-REFUND-SAME-WAY: the payments app writes the refunds in this transaction.
    refunded = [(order, hold, value) for order, hold, value in owed if order.paid_at is not None]
    hooks.run_each(
        "order_refund_due",
        [
            ((order.pk, value.amount), {"key": f"stockout-{hold.pk}", "kind": CaseKind.STOCKOUT_CANCEL})
            for order, hold, value in refunded
        ],
    )
    refunds = {order.pk: value for order, _hold, value in refunded}
    order_emails_queue(
        [
            _mail(
                order,
                hold,
                rows,
                template="stockout_outcome",
                key=f"stockout-outcome:{hold.pk}",
                outcome=rows[0].via,
                value=values[order.pk],
                refund=refunds.get(order.pk),
                amount_due=order_amount_due(order),
            )
            for order, hold, rows, _cancel in kept
        ]
    )
    return orders


def _shortages_current(orders: list[Order]) -> dict[int, tuple[OrderHold, list[StockShortage]]]:
    """``stockout_current`` for several orders, in one query: the latest hold and its rows by order id."""
    found: dict[int, tuple[OrderHold, list[StockShortage]]] = {}
    rows = StockShortage.objects.filter(order__in=orders).select_related("hold", "order_line")
    for row in rows.order_by("order_id", "-hold_id", "pk"):
        hold, mine = found.setdefault(row.order_id, (row.hold, []))
        if row.hold_id == hold.pk:
            mine.append(row)
    return found


def stockouts_cancel_unanswered() -> int:
    """SHIP-STOCKOUT: no choice by the deadline — the missing part is cancelled (refunded if paid).

    One query on the open stock-decision holds past ``due_at`` (the partial index); then, per chunk of
    ``SWEEP_CHUNK`` orders, one transaction that locks them (pk order, one query), re-checks each
    shortage under the lock and decides them together (``_decide_many``), so running twice or late
    acts once and the queries do not grow with the orders (issue #14). Returns how many were decided.
    """
    now = timezone.now()
    decided = 0
    with policy_memoized():
        due = list(dict.fromkeys(holds.holds_due(H, now=now).values_list("order_id", flat=True)))
        for start in range(0, len(due), order_services.SWEEP_CHUNK):
            chunk = due[start : start + order_services.SWEEP_CHUNK]
            with transaction.atomic():
                locked = lock_orders(chunk)
                current = _shortages_current(list(locked.values()))
                shortages = []
                for order_id in chunk:
                    hold, rows = current.get(order_id, (None, []))
                    if hold is None or hold.released_at is not None or rows[0].choice or hold.due_at >= now:
                        continue
                    shortages.append((locked[order_id], hold, rows))
                if shortages:
                    with events.batched():
                        _decide_many(shortages, choice=C.CANCEL_MISSING, via=StockoutVia.TIMEOUT, actor=None)
                decided += len(shortages)
    return decided


# --- Split: the date and the goods arriving -------------------------------------------------
def stockout_set_date(*, order_id: int, new_date: dt.date, actor) -> Order:
    """SHIP-STOCKOUT split: staff promise the date the missing part ships by (shown to the customer).

    May be set while the customer chooses (the page shows it) or after a split (the customer is
    e-mailed). Setting the same date again changes nothing.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        hold, rows = stockout_current(order)
        if not rows:
            raise StockoutError(_("This order has no unavailable items."), code=StockoutErrorCode.NO_SHORTAGE)
        if rows[0].choice in {C.CANCEL_ALL, C.CANCEL_MISSING} or (hold.released_at and not rows[0].choice):
            raise StockoutError(
                _("The unavailable items were cancelled: there is nothing to send later."),
                code=StockoutErrorCode.NOT_SPLIT,
            )
        today = BusinessCalendar.current().local(timezone.now()).date()
        if new_date < today:
            raise StockoutError(_("The date cannot be in the past."), code=StockoutErrorCode.DATE_IN_PAST)
        if rows[0].new_date == new_date:
            return order
        StockShortage.objects.filter(hold=hold).update(new_date=new_date)
        events.stockout_date_set(order=order, new_date=new_date, actor=actor)
        if rows[0].choice == C.SPLIT:
            _email(
                order,
                hold,
                rows,
                template="stockout_outcome",
                key=f"stockout-date:{hold.pk}:{new_date.isoformat()}",
                outcome="date",
                new_date=new_date,
            )
        return order


def stockout_missing_reserve(*, order_id: int, actor) -> dict[int, int]:
    """SHIP-STOCKOUT split: the goods arrived (staff raised the product's stock): reserve the missing
    units that are on the shelf now, so the rest of the order can be packed. Returns units by line."""
    with transaction.atomic():
        order = lock_order(order_id)
        _hold, rows = stockout_current(order)
        if not rows or rows[0].choice != C.SPLIT:
            raise StockoutError(
                _("Only the missing part of a split order waits for goods to arrive."), code=StockoutErrorCode.NOT_SPLIT
            )
        taken = stock.take_short(order=order)
        if not taken:
            raise StockoutError(
                _("None of the missing items is on the shelf yet: raise the product's stock first."),
                code=StockoutErrorCode.NOTHING_ARRIVED,
            )
        names = dict(order.lines.filter(pk__in=list(taken)).values_list("pk", "product_name"))
        items = [{"line_id": pk, "product": names[pk], "quantity": n} for pk, n in sorted(taken.items())]
        events.stockout_missing_reserved(order=order, items=items, actor=actor)
        return taken
