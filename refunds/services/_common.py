"""What every case service shares: the error callers catch, the case lock and the case e-mail."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _

from orders.access import order_link_for_email
from orders.models import Order
from shop.emails import Message, emails_queue
from shop.errors import ServiceError
from shop.locks import lock_case, lock_order

from ..models import Case


class CaseErrorCode(models.TextChoices):
    UNKNOWN_LINE = "unknown_line", "Line not in the order"
    BAD_QUANTITY = "bad_quantity", "Quantity out of range"
    NO_LINES = "no_lines", "No lines chosen"
    REMEDY_REQUIRED = "remedy_required", "Remedy not chosen"
    REMEDY_NOT_OFFERED = "remedy_not_offered", "Remedy not offered for this case"
    REASON_REQUIRED = "reason_required", "Reason missing"
    NOT_OPEN = "not_open", "Case closed"
    NOT_ACCEPTED = "not_accepted", "Case not accepted"
    WITHDRAWAL_ENDED = "withdrawal_ended", "Withdrawal period over"
    WARRANTY_ENDED = "warranty_ended", "Warranty over"
    NOT_DELIVERED = "not_delivered", "Goods not delivered"
    NOT_ALLOWED = "not_allowed", "Not allowed in this state"
    NOTHING_TO_REFUND = "nothing_to_refund", "Nothing to refund"
    REFUND_ABOVE_VALUE = "refund_above_value", "More than the case is worth"
    ALREADY_REPLACED = "already_replaced", "Replacement exists"


class CaseError(ServiceError):
    """A case action was refused; nothing changed. ``field`` names the form field it is about."""

    def __init__(self, message: str, *, code: str, field: str = ""):
        super().__init__(message, code=code)
        self.field = field


def case_not_open(case: Case) -> CaseError:
    """The error for an action on a case that is no longer open, in the staff member's language."""
    return CaseError(
        _("This case is %(status)s.") % {"status": case.get_status_display().lower()}, code=CaseErrorCode.NOT_OPEN
    )


def lock_case_with_order(case_id: int) -> Case:
    """The case and its order, locked in the one lock order (``shop.locks``): the order first."""
    order_id = Case.objects.values_list("order_id", flat=True).get(pk=case_id)
    order = lock_order(order_id)
    case = lock_case(case_id)
    case.order = order
    return case


def case_email(case: Case, *, step: str, order: Order | None = None, **extra) -> None:
    """Every step of a case e-mails the customer (templates/emails/case_update.*), once per step."""
    case_emails([case], step=step, orders={case.order_id: order} if order is not None else None, **extra)


def case_emails(
    cases: list[Case], *, step: str, orders: dict[int, Order] | None = None, extra_of=None, **extra
) -> None:
    """``case_email`` for several cases at one step, queued together (issue #14: a periodic sweep).
    ``extra_of(case)``: context of that case's e-mail besides ``extra``."""
    messages = []
    for case in cases:
        order = (orders or {}).get(case.order_id) or case.order
        more = {**extra, **(extra_of(case) if extra_of else {})}
        messages.append(
            Message(
                to=order.email,
                template="case_update",
                language=order.language,
                context={"order": order, "case": case, "step": step, "order_url": order_link_for_email(order), **more},
                key=f"case-{step}:{case.pk}" + (f":{more['step_key']}" if "step_key" in more else ""),
            )
        )
    emails_queue(messages)
