"""The table of allowed moves of a Case (like the order's in orders/lifecycle.py).

``case_move`` is the only way a case's status changes: it checks the table, saves with
``update_fields`` and writes the order event with source and target. The caller holds the locks
(``shop.locks``: Order → Case).
"""

from __future__ import annotations

from orders import events
from shop.transitions import Lifecycle, TransitionNotAllowed

from .models import Case, CaseStatus

C = CaseStatus

__all__ = ["CASE_TRANSITIONS", "TransitionNotAllowed", "case_move"]

CASE_TRANSITIONS: dict[str, set[str]] = {
    # Staff (or the rule itself, for a withdrawal in time) accept or decline; the customer may withdraw
    # a claim not decided yet; a cancellation's refund is decided at once (requested → resolved).
    C.REQUESTED: {C.ACCEPTED, C.DECLINED, C.WITHDRAWN, C.RESOLVED},
    # Accepted: the remedy is under way (goods to come back, a refund to send, a replacement to ship).
    C.ACCEPTED: {C.RESOLVED},
    C.DECLINED: set(),
    C.RESOLVED: set(),
    C.WITHDRAWN: set(),
}


def _record(case: Case, *, source: str, target: str, actor=None, note: str = "") -> None:
    events.case_moved(
        order=case.order,
        case_id=case.pk,
        source=source,
        target=target,
        label=CaseStatus(target).label,
        note=note,
        actor=actor,
    )


CASE_LIFECYCLE = Lifecycle(CASE_TRANSITIONS, on_move=_record)


def case_move(case: Case, to: str, *, actor=None, note: str = "", fields=()) -> str:
    """Move the (locked) case; returns the source status."""
    return CASE_LIFECYCLE.move(case, to, actor=actor, fields=fields, note=note)
