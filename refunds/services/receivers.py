"""Hook receivers (registered in ``RefundsConfig.ready``): every path that gives money back opens a
case here, so the refund desk sees all money owed back in one place (REF-SLA).

They run inside the caller's transaction (a cancellation, a price answer, a stock-out outcome, a
refusal at the door, a parcel not collected): the case and its refund row commit with the change.
Both are idempotent by key: a second run finds the case and sends nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import transaction

from orders.models import Order
from shop.locks import lock_cases, lock_orders
from shop.money import money

from ..models import Case, CaseKind, CaseStatus
from .cases import CaseOpening, _orders_refundable, _resolve_many, cases_open, cases_refund

#: The kinds a cancellation may carry (``hooks.run("order_cancelled", order_id, kind=...)``).
CANCEL_KINDS = frozenset(
    {CaseKind.STAFF_CANCEL, CaseKind.FRAUD_CANCEL, CaseKind.PRICE_ERROR, CaseKind.WITHDRAWAL, CaseKind.STOCKOUT_CANCEL}
)


def cancellation_key(order_id: int, kind: str) -> str:
    # A withdrawal opened its case before cancelling (refunds.services.customer): the same key finds it.
    return f"withdrawal:{order_id}" if kind == CaseKind.WITHDRAWAL else f"cancel:{order_id}"


def _refund_and_resolve(case: Case) -> None:
    _refund_and_resolve_many([case])


def _refund_and_resolve_many(cases: list[Case]) -> None:
    """Refund each case all it is worth (``cases_refund``) and close it, together (issue #14)."""
    if not cases:
        return
    with transaction.atomic():
        refunds = cases_refund([(case.pk, None) for case in cases])
        orders = lock_orders({case.order_id for case in cases})
        locked = lock_cases(case.pk for case in cases)
        by_note: dict[str, list[Case]] = defaultdict(list)
        for case, refund in zip(cases, refunds, strict=True):
            current = locked[case.pk]
            current.order = orders[current.order_id]
            if current.status in (CaseStatus.REQUESTED, CaseStatus.ACCEPTED):
                note = "Refunded." if refund is not None else "Nothing was paid: nothing to refund."
                current.remedy = current.remedy or Case.Remedy.REFUND
                by_note[note].append(current)
        for note, group in by_note.items():
            _resolve_many(group, actor=None, note=note)


def cancelled_order_refund(order_id: int, *, kind: str = CaseKind.STAFF_CANCEL, reason: str = "") -> Case | None:
    """``order_cancelled`` (ORD-REFUSE, PAY-FRAUD-CHECK, ORD-PRICE-ERROR, REF-WITHDRAW-30D): refund all
    that was captured, through a case of the cancellation's kind. None when nothing was paid."""
    return cancelled_orders_refund([order_id], kind=kind, reason=reason)[0]


def cancelled_orders_refund(order_ids: list[int], *, kind: str = CaseKind.STAFF_CANCEL, reason: str = ""):
    """``cancelled_order_refund`` for several cancelled orders (``hooks.run_many``, issue #14): the orders,
    their cases and what each can still refund are read with one query each, and the new cases opened
    together (``cases_open``); an unpaid order costs nothing more. Returns the case (or None) of each."""
    if kind not in CANCEL_KINDS:
        raise ValueError(f"Not a cancellation kind: {kind!r}")
    orders = Order.objects.in_bulk(order_ids)
    keys = {order_id: cancellation_key(order_id, kind) for order_id in order_ids}
    found = {case.key: case for case in Case.objects.filter(key__in=keys.values())}
    left = _orders_refundable(order_ids)
    openings, refunds = [], []
    for order_id in order_ids:
        order, case = orders[order_id], found.get(keys[order_id])
        if case is None:
            if left.get(order_id, 0) > 0:
                openings.append(
                    CaseOpening(
                        order_id=order_id,
                        kind=kind,
                        statement=reason or order.cancel_reason,
                        amount=money(left[order_id], order.total.currency),
                        key=keys[order_id],
                    )
                )
        elif case.amount is None or case.amount.amount <= 0:
            if left.get(order_id, 0) <= 0:
                continue
            Case.objects.filter(pk=case.pk).update(amount=money(left[order_id], order.total.currency))
            refunds.append(case)
        else:
            refunds.append(case)
    for case in cases_open(openings) if openings else []:
        found[case.key] = case
        refunds.append(case)
    position = {order_id: i for i, order_id in enumerate(order_ids)}
    _refund_and_resolve_many(sorted(refunds, key=lambda c: position[c.order_id]))
    return [found.get(keys[order_id]) for order_id in order_ids]


def due_amount_refund(order_id: int, amount, *, key: str = "", reason: str = "", kind: str = CaseKind.PRICE_ERROR):
    """``order_refund_due`` (ORD-PRICE-ERROR, SHIP-STOCKOUT, DLV-INSPECT, DLV-ACCEPT-14D): part of a paid
    order goes back, through a case of ``kind``. The ``key`` (the caller's, else the order's number,
    the amount and the order's current total) makes a second run refund nothing. Returns the case's
    latest refund (None when the amount is not above zero)."""
    return due_amounts_refund([((order_id, amount), {"key": key, "reason": reason, "kind": kind})])[0]


def _due_opening(order: Order, amount, *, key: str = "", reason: str = "", kind: str = CaseKind.PRICE_ERROR):
    amount = money(Decimal(str(amount)), order.total.currency)
    if amount.amount <= 0:
        return None
    key = f"{order.number}-{key}" if key else f"{order.number}-due-{amount.amount}-{order.total.amount}"
    return CaseOpening(
        order_id=order.pk, kind=kind, statement=reason or CaseKind(kind).label, amount=amount, key=f"due:{key}"
    )


def due_amounts_refund(calls: list[tuple[tuple, dict]]) -> list:
    """``due_amount_refund`` for several calls (``hooks.run_each``, issue #14: a sweep refunds part of
    hundreds of orders): the orders read in one query, the cases opened together (``cases_open``) and
    refunded and closed together; their latest refunds read in one query. Returns each call's refund."""
    orders = Order.objects.in_bulk({args[0] for args, _kwargs in calls})
    openings = [_due_opening(orders[args[0]], *args[1:], **kwargs) for args, kwargs in calls]
    wanted = [opening for opening in openings if opening is not None]
    if not wanted:
        return [None] * len(calls)
    cases = cases_open(wanted)
    _refund_and_resolve_many(list({case.pk: case for case in cases}.values()))
    latest = {
        link.case_id: link.refund
        for link in Case.refunds.through.objects.filter(case__in=cases).select_related("refund").order_by("refund_id")
    }
    found = iter(cases)
    return [latest.get(next(found).pk) if opening is not None else None for opening in openings]
