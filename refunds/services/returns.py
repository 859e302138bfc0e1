"""Goods coming back for a case: what arrived (per line: received, damaged) and where it went
(restocked onto the shelf, or written off). Recording the arrival starts REF-DEFECT's refund clock."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from orders import events
from shop.locks import lock_order_lines, lock_products

from .. import rules
from ..models import CaseKind, CaseRemedy, CaseStatus
from ._common import CaseError, CaseErrorCode, case_email, case_not_open, lock_case_with_order
from .cases import _actor


def case_goods_receive(*, case_id: int, received: dict[int, tuple[int, int]], actor) -> object:
    """Staff record the goods that came back: ``received`` maps case line ids to (received, damaged).

    Counts add up over several parcels, never above what the case asked for (CHECK constraints
    back the checks here). The first arrival is the moment REF-DEFECT's refund clock starts
    (``refund_due_at`` = arrival + Policy.defect_refund_days). The order line's returned counter follows.
    """
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        if case.status not in (CaseStatus.REQUESTED, CaseStatus.ACCEPTED, CaseStatus.RESOLVED):
            raise case_not_open(case)
        order = case.order
        case_lines = {cl.pk: cl for cl in case.lines.all()}
        order_lines = lock_order_lines(order.pk)
        items = []
        for line_id, (got, damaged) in sorted(received.items()):
            cl = case_lines.get(int(line_id))
            if cl is None:
                raise CaseError(
                    _("Line %(line)s is not part of this case.") % {"line": line_id}, code=CaseErrorCode.UNKNOWN_LINE
                )
            got, damaged = int(got), int(damaged)
            if got < 0 or damaged < 0 or damaged > got or cl.quantity_received + got > cl.quantity:
                raise CaseError(
                    _("%(product)s: at most %(more)s more can arrive, and no more damaged than received.")
                    % {"product": cl.order_line.product_name, "more": cl.quantity - cl.quantity_received},
                    code=CaseErrorCode.BAD_QUANTITY,
                    field="received",
                )
            if not got:
                continue
            cl.quantity_received += got
            cl.quantity_damaged += damaged
            cl.save(update_fields=["quantity_received", "quantity_damaged"])
            line = order_lines[cl.order_line_id]
            back = min(got, line.quantity_delivered - line.quantity_returned)
            if back > 0:
                line.quantity_returned += back
                line.save(update_fields=["quantity_returned"])
            items.append({"line_id": cl.pk, "product": line.product_name, "quantity": got, "damaged": damaged})
        if not items:
            raise CaseError(_("Enter how many units arrived."), code=CaseErrorCode.NO_LINES, field="received")
        fields = []
        if case.goods_received_at is None:
            case.goods_received_at = timezone.now()
            fields.append("goods_received_at")
            if case.kind == CaseKind.DEFECT and case.remedy in ("", CaseRemedy.REFUND):
                case.refund_due_at = rules.refund_due(case.kind, at=case.goods_received_at)  # REF-DEFECT
                fields.append("refund_due_at")
        if fields:
            case.save(update_fields=fields)
        events.case_goods_received(
            order=order, case_id=case.pk, items=items, refund_due_at=case.refund_due_at, actor=_actor(actor)
        )
        case_email(case, step="received", step_key=len(items) + sum(i["quantity"] for i in items), items=items)
        return case


def case_goods_settle(*, case_id: int, case_line_id: int, restock: int, write_off: int, actor) -> object:
    """Staff put arrived units back on the shelf (product stock goes up) or write them off."""
    restock, write_off = int(restock), int(write_off)
    with transaction.atomic():
        case = lock_case_with_order(case_id)
        cl = case.lines.select_related("order_line").filter(pk=case_line_id).first()
        if cl is None:
            raise CaseError(_("That line is not part of this case."), code=CaseErrorCode.UNKNOWN_LINE)
        if restock < 0 or write_off < 0 or restock + write_off == 0 or restock + write_off > cl.quantity_unsettled:
            raise CaseError(
                ngettext(
                    "%(product)s: %(count)s unit arrived and waits for a decision.",
                    "%(product)s: %(count)s units arrived and wait for a decision.",
                    cl.quantity_unsettled,
                )
                % {"product": cl.order_line.product_name, "count": cl.quantity_unsettled},
                code=CaseErrorCode.BAD_QUANTITY,
                field="restock",
            )
        product_id = cl.order_line.product_id
        if restock and product_id is not None:
            product = lock_products([product_id]).get(product_id)
            if product is not None:
                product.stock += restock
                product.save(update_fields=["stock"])
        cl.quantity_restocked += restock
        cl.quantity_written_off += write_off
        cl.save(update_fields=["quantity_restocked", "quantity_written_off"])
        events.case_goods_settled(
            order=case.order,
            case_id=case.pk,
            product=cl.order_line.product_name,
            restocked=restock,
            written_off=write_off,
            actor=_actor(actor),
        )
        return cl
