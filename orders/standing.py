"""PAY-COD-RESTRICT: whether a customer may pay on delivery (cash or card to the courier).

Withdrawn when (a) in the last ``Policy.cod_restrict_orders`` orders that went out for delivery
the refused value exceeds ``Policy.cod_refused_share`` of those orders' total, (b) the last
``Policy.cod_failed_deliveries`` delivery outcomes were all failures beyond the shop's control,
or (c) staff marked misconduct. The decision is stored on ``CustomerStanding`` (so checkout reads
it with one query) and every change is written to ``CustomerStandingLog``. After staff lift a
restriction only evidence newer than ``lifted_at`` counts.

Evidence comes from ``OrderEvent`` rows (selected by ``OrderEvent.Type``) written by the delivery
side: ``ITEMS_REFUSED`` (parameter ``value``: Money, {"amount", "currency"}, or a number),
``DELIVERY_FAILED`` (parameter ``beyond_shop_control``), a ``STATUS_CHANGED`` to REFUSED (the
whole order counts as refused) and a ``STATUS_CHANGED`` to DELIVERED/COMPLETED or a ``HANDED_OVER``
parcel (a successful delivery, which ends a run of failures). The writers are the delivery services
(shipping/services/delivery.py), which recompute the standing in the same transaction. Every status
move writes that event (``orders.lifecycle.move`` is the only way a status changes), so no move goes unseen here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shop.locks import lock_standing
from shop.models import Policy

from .models import CustomerStanding, CustomerStandingLog, Order, OrderEvent

S = Order.Status
T = OrderEvent.Type

#: Orders that went out for delivery: only these can have refused items.
_DELIVERY_OUTCOME_STATUSES = (S.DELIVERED, S.COMPLETED, S.REFUSED)
_SUCCESS_TARGETS = (S.DELIVERED, S.COMPLETED)


@dataclass(frozen=True)
class CodDecision:
    allowed: bool
    reason: str = ""


def _normalise(email: str) -> str:
    return (email or "").strip().lower()


def cod_decision(*, email: str) -> CodDecision:
    """The stored decision (one query). A customer with no standing yet may pay on delivery."""
    row = CustomerStanding.objects.filter(email=_normalise(email)).values_list("cod_allowed", "cod_reason").first()
    if row is None:
        return CodDecision(allowed=True)
    return CodDecision(allowed=row[0], reason=row[1] if not row[0] else "")


def _amount(value) -> Decimal:
    if isinstance(value, dict):
        value = value.get("amount", 0)
    if hasattr(value, "amount"):
        value = value.amount
    try:
        return Decimal(str(value))
    except (ArithmeticError, ValueError):
        return Decimal("0")


def _refused_reason(email: str, since, policy: Policy) -> str:
    """(a) refused value over the share of the last N delivered-or-refused orders."""
    n = policy.cod_restrict_orders
    if n <= 0:
        return ""
    orders = Order.objects.filter(email__iexact=email, status__in=_DELIVERY_OUTCOME_STATUSES)
    if since:
        orders = orders.filter(created_at__gt=since)
    recent = list(orders.order_by("-created_at", "-pk").values_list("pk", "total", "status")[:n])
    if len(recent) < n:
        return ""
    evidence = OrderEvent.objects.filter(
        order_id__in=[pk for pk, _, _ in recent], type__in=[T.ITEMS_REFUSED, T.STATUS_CHANGED]
    )
    if since:
        evidence = evidence.filter(created_at__gt=since)
    refused_by_order: dict[int, Decimal] = {}
    wholly_refused: set[int] = set()
    for order_id, type_, params in evidence.values_list("order_id", "type", "parameters"):
        params = params or {}
        if type_ == T.ITEMS_REFUSED:
            refused_by_order[order_id] = refused_by_order.get(order_id, Decimal("0")) + _amount(params.get("value"))
        elif params.get("target") == S.REFUSED:
            wholly_refused.add(order_id)
    total = Decimal("0")
    refused = Decimal("0")
    for pk, order_total, status in recent:
        total += order_total
        if status == S.REFUSED or pk in wholly_refused:
            refused += order_total
        else:
            refused += min(refused_by_order.get(pk, Decimal("0")), order_total)
    if total > 0 and refused > total * policy.cod_refused_share:
        return (
            f"In your last {n} orders, items worth {refused:.2f} of {total:.2f} were refused at delivery "
            f"(more than {policy.cod_refused_share * 100:.0f}%)."
        )
    return ""


def _failed_deliveries_reason(email: str, since, policy: Policy) -> str:
    """(b) the last N delivery outcomes were all failures beyond the shop's control."""
    n = policy.cod_failed_deliveries
    if n <= 0:
        return ""
    # A parcel handed over is a success even when the order is not finished (another parcel is on its way).
    outcomes = OrderEvent.objects.filter(order__email__iexact=email).filter(
        type__in=[T.DELIVERY_FAILED, T.HANDED_OVER]
    ) | OrderEvent.objects.filter(
        order__email__iexact=email, type=T.STATUS_CHANGED, parameters__target__in=list(_SUCCESS_TARGETS)
    )
    if since:
        outcomes = outcomes.filter(created_at__gt=since)
    last = list(outcomes.order_by("-created_at", "-pk").values_list("type", "parameters")[:n])
    if len(last) < n:
        return ""
    if all(type_ == T.DELIVERY_FAILED and (params or {}).get("beyond_shop_control") is True for type_, params in last):
        return f"The last {n} deliveries to you failed for reasons beyond the shop's control."
    return ""


def _evaluate(standing: CustomerStanding, policy: Policy) -> tuple[bool, str]:
    if standing.misconduct:
        note = f": {standing.misconduct_note}" if standing.misconduct_note else "."
        return False, f"Withdrawn by the shop after misconduct{note}"[:300]
    since = standing.lifted_at
    for reason in (
        _refused_reason(standing.email, since, policy),
        _failed_deliveries_reason(standing.email, since, policy),
    ):
        if reason:
            return False, reason[:300]
    return True, ""


def _locked_standing(email: str) -> CustomerStanding:
    return lock_standing(_normalise(email))


def _store(standing: CustomerStanding, allowed: bool, reason: str, *, actor=None, log_reason: str = "") -> None:
    """Save the decision; a log row whenever it changes (or when staff act: ``log_reason``)."""
    changed = (allowed, reason) != (standing.cod_allowed, standing.cod_reason)
    standing.cod_allowed, standing.cod_reason = allowed, reason
    standing.save(
        update_fields=["cod_allowed", "cod_reason", "misconduct", "misconduct_note", "lifted_at", "updated_at"]
    )
    if changed or log_reason:
        CustomerStandingLog.objects.create(
            standing=standing,
            cod_allowed=allowed,
            reason=(log_reason or reason or "Pay on delivery allowed again.")[:300],
            actor=actor,
        )


def standing_recompute(*, email: str, actor=None) -> CustomerStanding:
    """Recompute the decision from order history (PAY-COD-RESTRICT a, b) and the staff flag (c).

    Call after a delivery outcome (refused items, failed delivery). Idempotent: recomputing with
    no new evidence changes nothing and logs nothing.
    """
    policy = Policy.load()
    with transaction.atomic():
        standing = _locked_standing(email)
        allowed, reason = _evaluate(standing, policy)
        _store(standing, allowed, reason, actor=actor)
        return standing


def standing_mark_misconduct(*, email: str, note: str, actor) -> CustomerStanding:
    """PAY-COD-RESTRICT (c): staff withdraw pay on delivery for misconduct, with a note."""
    note = (note or "").strip()
    if not note:
        raise ValueError("Say what happened: a note is required to mark misconduct.")
    policy = Policy.load()
    with transaction.atomic():
        standing = _locked_standing(email)
        if standing.misconduct and standing.misconduct_note == note:
            return standing
        standing.misconduct, standing.misconduct_note = True, note
        allowed, reason = _evaluate(standing, policy)
        _store(standing, allowed, reason, actor=actor, log_reason=reason)
        return standing


def standing_lift(*, email: str, actor, note: str = "") -> CustomerStanding:
    """PAY-COD-RESTRICT: staff lift a restriction; earlier evidence no longer counts."""
    with transaction.atomic():
        standing = _locked_standing(email)
        if standing.cod_allowed and not standing.misconduct:
            return standing
        standing.misconduct = False
        standing.lifted_at = timezone.now()
        text = "Restriction lifted by staff." + (f" {note.strip()}" if note and note.strip() else "")
        _store(standing, True, "", actor=actor, log_reason=text)
        return standing
