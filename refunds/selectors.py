"""Reads for the order page and the refund desk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone

from orders import lifecycle
from orders.models import Order, OrderLine
from payments.models import Refund, RefundStatus
from shop.models import Policy

from . import rules
from .models import OPEN_STATUSES, Case, CaseKind, CaseLine


@dataclass
class LineRight:
    line: OrderLine
    defect_ends: dt.datetime
    defect_open: bool


@dataclass
class OrderCases:
    """What the order page shows about cases and what the customer may still start."""

    cases: list[Case]
    withdraw_ends: dt.datetime
    can_withdraw: bool
    withdrawal: Case | None
    can_claim: bool
    lines: list[LineRight] = field(default_factory=list)

    @property
    def any_defect_open(self) -> bool:
        return any(right.defect_open for right in self.lines)


def order_cases(order: Order, policy: Policy | None = None) -> OrderCases:
    """REF-WITHDRAW-30D, REF-DEFECT: the order's cases, and the dates the customer's rights end."""
    cases = list(
        order.cases.prefetch_related(
            Prefetch("lines", queryset=CaseLine.objects.select_related("order_line")),
        ).order_by("-created_at", "-pk")
    )
    now = timezone.now()
    policy = policy or Policy.load()
    withdrawal = next((c for c in cases if c.kind == CaseKind.WITHDRAWAL), None)
    ends = rules.withdrawal_ends(order, policy)
    can_withdraw = (
        withdrawal is None
        and rules.right_open(ends, now=now)
        and order.status not in (Order.Status.CANCELLED, Order.Status.REFUSED)
    )
    can_claim = order.status in rules.RECEIVED_STATUSES
    rights = []
    if can_claim:
        start = rules.warranty_starts(order, policy)
        for line in order.lines.all():
            ends_at = rules.defect_right_ends(line, start=start, policy=policy)
            rights.append(LineRight(line=line, defect_ends=ends_at, defect_open=rules.right_open(ends_at, now=now)))
    return OrderCases(
        cases=cases,
        withdraw_ends=ends,
        can_withdraw=can_withdraw,
        withdrawal=withdrawal,
        can_claim=can_claim,
        lines=rights,
    )


def withdrawal_outcome(order: Order) -> str:
    """What pressing "Withdraw" will do, in words for the confirmation step (REF-WITHDRAW-30D)."""
    if order.status in lifecycle.CANCELLABLE:
        return "cancel"
    return "return"


# --- The refund desk (REF-SLA) -------------------------------------------------------------------
def desk_cases():
    """Open cases, soonest refund due first (no due date last), with what the desk row shows."""
    return (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .select_related("order")
        .order_by("refund_due_at", "created_at", "pk")
    )


def unsent_case_refunds():
    """Refunds started for a case and not sent yet (PayPal pending, or waiting for a bank transfer)."""
    return (
        Refund.objects.filter(cases__isnull=False)
        .exclude(status__in=(RefundStatus.SENT, RefundStatus.FAILED))
        .select_related("order")
        .distinct()
    )


def refunds_due_for_reminder(now: dt.datetime | None = None):
    """REF-SLA: cases whose refund is due within one business day, or overdue, and not sent yet:
    open cases owing a refund not started, and cases whose refund was started but is not sent
    (waiting for the customer's bank account, or for staff to make the transfer)."""
    soon = rules.due_soon_before(now)
    unsent = (RefundStatus.REQUESTED, RefundStatus.PENDING, RefundStatus.AWAITING_BANK_DETAILS)
    owing = Q(status__in=OPEN_STATUSES, remedy__in=("", "refund"), refunds__isnull=True)
    return (
        Case.objects.filter(refund_due_at__lte=soon)
        .filter(owing | Q(refunds__status__in=unsent))
        .select_related("order")
        .distinct()
        .order_by("refund_due_at", "pk")
    )
