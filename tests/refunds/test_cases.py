"""The case services: open, accept, decline, refund, replacement order, goods back (REF-SLA)."""

from decimal import Decimal

import pytest
from django.core import mail

from orders import services as order_services
from orders.models import Order, OrderEvent
from payments.models import Refund
from refunds import services
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus

from .support import delivered, paid_by_transfer, rub, staff_user

pytestmark = pytest.mark.django_db


def _one_line(order):
    line = order.lines.first()
    return line, {line.pk: 1}


def test_ref_sla_case_refund_never_above_the_case_value_and_a_retry_sends_nothing_more(
    django_capture_on_commit_callbacks,
):
    """REF-SLA, PAY-REFUND-SAME-WAY: a case refunds its value once, the way the money came."""
    order = delivered(lines=((Decimal("1000.00"), 2),))
    line, lines = _one_line(order)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_open(order_id=order.pk, kind=CaseKind.WRONG_ITEM, lines=lines, remedy=CaseRemedy.REFUND)
    assert case.amount == rub("1000.00") and case.refund_due_at is not None
    assert order.events.filter(type=OrderEvent.Type.CASE_OPENED).count() == 1
    staff = staff_user()
    services.case_accept(case_id=case.pk, actor=staff)
    with pytest.raises(services.CaseError) as error:
        services.case_refund(case_id=case.pk, amount=rub("1000.01"), actor=staff)
    assert error.value.code == services.CaseErrorCode.REFUND_ABOVE_VALUE
    refund = services.case_refund(case_id=case.pk, actor=staff)
    assert refund.amount == rub("1000.00") and refund.way == Refund.Way.BANK_ACCOUNT
    assert services.case_refund(case_id=case.pk, actor=staff) == refund
    assert list(case.refunds.all()) == [refund]
    assert Refund.objects.filter(order=order).count() == 1
    assert any(f"case {case.pk}" in m.subject for m in mail.outbox)


def test_ref_sla_decline_needs_a_reason_and_emails_it():
    """REF-SLA: a declined case carries its reason, e-mailed to the customer; no reason, nothing changes."""
    order = delivered()
    _, lines = _one_line(order)
    case = services.case_open(order_id=order.pk, kind=CaseKind.DEFECT, lines=lines, remedy=CaseRemedy.REPAIR)
    with pytest.raises(services.CaseError) as error:
        services.case_decline(case_id=case.pk, reason="  ", actor=staff_user())
    assert error.value.field == "reason"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REQUESTED
    services.case_decline(case_id=case.pk, reason="Damage by a fall, not a defect.", actor=staff_user())
    case.refresh_from_db()
    assert case.status == CaseStatus.DECLINED
    from shop.models import Email

    assert Email.objects.filter(key=f"case-declined:{case.pk}", body_text__contains="Damage by a fall").exists()


def test_case_open_is_idempotent_by_key():
    order = delivered()
    _, lines = _one_line(order)
    first = services.case_open(order_id=order.pk, kind=CaseKind.DEFECT, lines=lines, key="k1")
    again = services.case_open(order_id=order.pk, kind=CaseKind.DEFECT, lines=lines, key="k1")
    assert first == again and Case.objects.count() == 1


def test_ref_defect_replacement_order_at_no_charge_goes_to_fulfilment():
    """REF-DEFECT: a replacement is a new linked order, total zero, processing and ready to fulfil."""
    order = delivered(lines=((Decimal("1000.00"), 1),))
    _, lines = _one_line(order)
    case = services.case_open(order_id=order.pk, kind=CaseKind.DEFECT, lines=lines, remedy=CaseRemedy.REPLACEMENT)
    services.case_accept(case_id=case.pk, actor=staff_user())
    replacement = services.case_replacement_order(case_id=case.pk, actor=staff_user())
    assert services.case_replacement_order(case_id=case.pk, actor=staff_user()) == replacement
    replacement.refresh_from_db()
    assert replacement.total.amount == 0 and replacement.status == Order.Status.PROCESSING
    assert replacement.ready_at is not None and replacement.ship_by is not None and replacement.stock_taken
    assert [(ln.sku, ln.quantity) for ln in replacement.lines.all()] == [(order.lines.get().sku, 1)]
    case.refresh_from_db()
    assert case.replacement_order == replacement
    assert order.events.filter(type=OrderEvent.Type.CASE_REPLACEMENT_ORDERED).exists()


def test_ref_defect_goods_back_received_damaged_restocked_and_written_off():
    """REF-DEFECT: per-line received/damaged; staff restock (stock goes up) or write off."""
    order = delivered(lines=((Decimal("1000.00"), 3),))
    line, _ = _one_line(order)
    case = services.case_open(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 3}, remedy=CaseRemedy.REFUND)
    assert case.refund_due_at is None  # REF-DEFECT: the clock starts when the goods arrive
    [cl] = case.lines.all()
    staff = staff_user()
    services.case_goods_receive(case_id=case.pk, received={cl.pk: (2, 1)}, actor=staff)
    with pytest.raises(services.CaseError):
        services.case_goods_receive(case_id=case.pk, received={cl.pk: (2, 0)}, actor=staff)
    case.refresh_from_db()
    assert case.goods_received_at is not None and case.refund_due_at is not None
    stock_before = line.product.stock
    services.case_goods_settle(case_id=case.pk, case_line_id=cl.pk, restock=1, write_off=1, actor=staff)
    line.product.refresh_from_db()
    assert line.product.stock == stock_before + 1
    cl.refresh_from_db()
    assert (cl.quantity_received, cl.quantity_damaged, cl.quantity_restocked, cl.quantity_written_off) == (2, 1, 1, 1)
    line.refresh_from_db()
    assert line.quantity_returned == 2
    with pytest.raises(services.CaseError):
        services.case_goods_settle(case_id=case.pk, case_line_id=cl.pk, restock=1, write_off=0, actor=staff)


def test_ord_refuse_staff_cancel_of_a_paid_order_opens_a_resolved_refund_case():
    """ORD-REFUSE: staff cancel a paid order: a staff-cancellation case refunds everything captured."""
    order = paid_by_transfer()
    order_services.order_cancel(order_id=order.pk, reason="No longer sold", actor=staff_user())
    [case] = Case.objects.filter(order=order)
    assert case.kind == CaseKind.STAFF_CANCEL and case.status == CaseStatus.RESOLVED
    assert case.remedy == CaseRemedy.REFUND and case.refund_due_at is not None
    [refund] = case.refunds.all()
    assert refund.amount == order.total


def test_pay_fraud_check_rejected_card_order_refund_has_a_fraud_case():
    """PAY-FRAUD-CHECK: a rejected card payment is refunded through a fraud-cancellation case."""
    from shop import hooks

    order = paid_by_transfer()
    hooks.run("order_cancelled", order.pk, kind=CaseKind.FRAUD_CANCEL)
    hooks.run("order_cancelled", order.pk, kind=CaseKind.FRAUD_CANCEL)
    [case] = Case.objects.filter(order=order)
    assert case.kind == CaseKind.FRAUD_CANCEL and case.refunds.count() == 1


def test_ref_sla_every_step_of_a_case_emails_the_customer_once():
    """REF-SLA: opened, accepted, goods received, refund started, resolved: one e-mail each, with the due date."""
    from shop.models import Email

    order = delivered(lines=((Decimal("800.00"), 1),))
    line = order.lines.get()
    case = services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="refund")
    services.case_accept(case_id=case.pk, actor=None)
    [cl] = case.lines.all()
    services.case_goods_receive(case_id=case.pk, received={cl.pk: (1, 0)}, actor=None)
    services.case_refund(case_id=case.pk)
    services.case_resolve(case_id=case.pk, actor=None, note="Refunded in full.")
    services.case_resolve(case_id=case.pk, actor=None)
    keys = list(
        Email.objects.filter(key__startswith="case-", key__contains=f":{case.pk}").values_list("key", flat=True)
    )
    assert sorted(k.split(":")[0] for k in keys) == [
        "case-accepted",
        "case-opened",
        "case-received",
        "case-refund",
        "case-resolved",
    ]
    refund_mail = Email.objects.get(key__startswith="case-refund:")
    assert "The refund is due by" in refund_mail.body_text
