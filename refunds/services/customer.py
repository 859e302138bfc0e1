"""What a customer starts from the order page: a withdrawal (REF-WITHDRAW-30D) and claims for a
defect (REF-DEFECT), wrong items (REF-WRONG-ITEM) or missing items (REF-SHORT-DELIVERY).

Each checks its rule's window and choices here (the views only validate the form), then opens the
case through ``case_open`` and takes the steps the rule makes automatic.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from orders import lifecycle
from orders import services as order_services
from orders.models import Order
from shop.calendar import BusinessCalendar
from shop.locks import lock_order
from shop.money import money

from .. import rules
from ..models import Case, CaseKind, CasePhoto, CaseRemedy, CaseStatus
from ._common import CaseError, CaseErrorCode, lock_case_with_order
from .cases import _actor, _order_refundable, _resolve_locked, case_accept, case_open, case_refund

K = CaseKind

#: The remedies the customer may choose per claim (REF-DEFECT: refund, replacement or repair;
#: REF-WRONG-ITEM and REF-SHORT-DELIVERY: replacement or refund).
REMEDIES: dict[str, tuple[str, ...]] = {
    K.DEFECT: (CaseRemedy.REFUND, CaseRemedy.REPLACEMENT, CaseRemedy.REPAIR),
    K.WRONG_ITEM: (CaseRemedy.REPLACEMENT, CaseRemedy.REFUND),
    K.SHORT_DELIVERY: (CaseRemedy.REPLACEMENT, CaseRemedy.REFUND),
}

RECEIVED_STATUSES = rules.RECEIVED_STATUSES


def _date(moment) -> str:
    return formats.date_format(BusinessCalendar.current().local(moment), "DATE_FORMAT")


def withdrawal_request(*, order_id: int, actor=None, statement: str = "") -> Case:
    """REF-WITHDRAW-30D: the customer withdraws from the purchase within ``Policy.withdraw_days`` of the order.

    The right is unconditional inside the window, so the case is accepted at once. Not shipped yet:
    the order is cancelled (stock back, the ``order_cancelled`` hook refunds what was paid through this
    case). Already on its way or delivered: what was paid is refunded at once, due
    ``Policy.withdraw_refund_days`` after the statement, and the case waits for the goods to come back
    (staff record them at the refund desk). Withdrawing twice returns the first case.
    """
    with transaction.atomic():
        order = lock_order(order_id)
        key = f"withdrawal:{order.pk}"
        existing = Case.objects.filter(key=key).first()
        if existing is not None:
            return existing
        ends = rules.withdrawal_ends(order)
        if not rules.withdrawal_open(order):
            raise CaseError(
                _("The right to withdraw from this order ended on %(date)s.") % {"date": _date(ends)},
                code=CaseErrorCode.WITHDRAWAL_ENDED,
            )
        if order.status in (Order.Status.CANCELLED, Order.Status.REFUSED):
            raise CaseError(
                _("Order %(number)s is %(status)s: there is nothing to withdraw from.")
                % {"number": order.number, "status": order.get_status_display().lower()},
                code=CaseErrorCode.NOT_ALLOWED,
            )
        cancellable = order.status in lifecycle.CANCELLABLE
        lines = {
            line.pk: (line.quantity - line.quantity_cancelled) if cancellable else line.quantity_shipped
            for line in order.lines.all()
        }
        paid = _order_refundable(order)
        case = case_open(
            order_id=order.pk,
            kind=K.WITHDRAWAL,
            lines={pk: n for pk, n in lines.items() if n > 0},
            statement=statement or "I withdraw from the purchase.",
            remedy=CaseRemedy.REFUND,
            actor=actor,
            key=key,
            amount=money(paid, order.total.currency) if paid > 0 else None,
        )
        case_accept(case_id=case.pk, actor=actor, remedy=CaseRemedy.REFUND)
        if cancellable:
            order_services.order_cancel(
                order_id=order.pk,
                reason="Withdrawn by the customer (REF-WITHDRAW-30D).",
                actor=_actor(actor),
                kind=K.WITHDRAWAL,
            )
            locked = lock_case_with_order(case.pk)
            if locked.status == CaseStatus.ACCEPTED:  # nothing was paid: the cancellation is all
                _resolve_locked(locked, actor=actor, note="Order cancelled; nothing was paid.")
        elif paid > 0:
            case_refund(case_id=case.pk, actor=actor)  # REF-WITHDRAW-30D: at once, the goods follow
        case.refresh_from_db()
        return case


def claim_report(
    *,
    order_id: int,
    kind: str,
    lines: dict[int, int],
    remedy: str,
    statement: str = "",
    photos=(),
    keeps_wrong_goods: bool = False,
    actor=None,
    key: str = "",
) -> Case:
    """REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY: the customer reports a problem with goods received.

    A defect is accepted for a line only within its warranty (the product's, as sold, else
    ``Policy.default_warranty_months``) counted from the handover; after that the error says the date
    the right ended. Wrong or missing items with a refund are due ``Policy.wrong_item_refund_days`` /
    ``short_delivery_refund_days`` after the claim (REF-SLA); a defect refund once the goods arrive.
    ``photos`` are validated images (the form); they are stored with the media storage.
    """
    if kind not in REMEDIES:
        raise ValueError(f"Not a customer claim: {kind!r}")
    if remedy not in REMEDIES[kind]:
        raise CaseError(
            _("Choose one of: %(remedies)s.")
            % {"remedies": ", ".join(str(CaseRemedy(r).label).lower() for r in REMEDIES[kind])},
            code=CaseErrorCode.REMEDY_NOT_OFFERED,
            field="remedy",
        )
    lines = {int(k): int(v) for k, v in lines.items() if int(v)}
    if not lines:
        raise CaseError(_("Choose the items and how many."), code=CaseErrorCode.NO_LINES, field="lines")
    with transaction.atomic():
        order = lock_order(order_id)
        if key:
            existing = Case.objects.filter(key=key).first()
            if existing is not None:
                return existing
        if order.status not in RECEIVED_STATUSES:
            raise CaseError(
                _("Order %(number)s has not reached you yet: report a problem once the parcel arrives.")
                % {"number": order.number},
                code=CaseErrorCode.NOT_DELIVERED,
            )
        order_lines = {line.pk: line for line in order.lines.all()}
        start = rules.warranty_starts(order)
        for line_id, qty in lines.items():
            line = order_lines.get(line_id)
            if line is None:
                raise CaseError(
                    _("Line %(line)s is not part of this order.") % {"line": line_id}, code=CaseErrorCode.UNKNOWN_LINE
                )
            received = line.quantity_shipped - line.quantity_refused
            if qty > received:
                raise CaseError(
                    _("%(product)s: at most %(count)s reached you.")
                    % {"product": line.product_name, "count": received},
                    code=CaseErrorCode.BAD_QUANTITY,
                    field="lines",
                )
            if kind == K.DEFECT:
                ends = rules.defect_right_ends(line, start=start)
                if not rules.right_open(ends):
                    raise CaseError(
                        _("The right to report a defect in %(product)s ended on %(ends)s.")
                        % {"product": line.product_name, "ends": _date(ends)},
                        code=CaseErrorCode.WARRANTY_ENDED,
                        field="lines",
                    )
        case = case_open(
            order_id=order.pk,
            kind=kind,
            lines=lines,
            statement=statement,
            remedy=remedy,
            actor=actor,
            key=key,
        )
        if keeps_wrong_goods and kind == K.WRONG_ITEM:
            case.keeps_wrong_goods = True
            case.save(update_fields=["keeps_wrong_goods"])
        for photo in photos:
            CasePhoto.objects.create(case=case, image=photo)
        return case
