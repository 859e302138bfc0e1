"""The refund desk in the admin and its reminder (REF-SLA)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from refunds import services
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus
from refunds.tasks import refunds_due_digest
from shop.models import Email

from .support import delivered, paid_by_transfer

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def _wrong_item_refund_case(order=None, *, at=None) -> Case:
    order = order or delivered()
    line = order.lines.first()
    with time_machine.travel(at or msk(2027, 3, 1, 10, 0), tick=False):
        return services.claim_report(
            order_id=order.pk, kind=CaseKind.WRONG_ITEM, lines={line.pk: 1}, remedy=CaseRemedy.REFUND
        )


def _desk(admin_client):
    return admin_client.get(reverse("admin:refunds_case_changelist"))


def test_ref_sla_desk_sorts_by_due_date_and_marks_due_soon_and_overdue(admin_client, admin_user):
    """REF-SLA: open cases soonest due first; "overdue" and "due soon" (within one business day) marked."""
    late = _wrong_item_refund_case(at=msk(2027, 3, 1, 10, 0))  # due 11 March 10:00
    soon = _wrong_item_refund_case(at=msk(2027, 3, 5, 10, 0))  # due 15 March (Monday) 10:00
    later = _wrong_item_refund_case(at=msk(2027, 3, 20, 10, 0))  # due 30 March
    closed = _wrong_item_refund_case(at=msk(2027, 3, 2, 10, 0))
    services.case_decline(case_id=closed.pk, reason="Not our goods.", actor=None)
    with time_machine.travel(msk(2027, 3, 12, 14, 0), tick=False):  # Friday: Monday is one business day away
        admin_client.force_login(admin_user)  # a session made "now", not one the time travel expired
        page = _desk(admin_client).content.decode()
    rows = [page.index(f">{c}<") for c in (late, soon, later)]
    assert rows == sorted(rows)
    assert f">{closed}<" not in page  # the desk holds open cases and unsent refunds only
    assert page.count(">overdue<") == 1 and page.count(">due soon<") == 1


@pytest.mark.parametrize("count", [2, 12])
def test_ref_sla_desk_query_count_is_flat(admin_client, django_assert_max_num_queries, count):
    for _ in range(count):
        _wrong_item_refund_case()
    with django_assert_max_num_queries(14):
        assert _desk(admin_client).status_code == 200


def test_ref_sla_decline_from_the_desk_needs_a_reason_and_emails_the_customer(admin_client):
    case = _wrong_item_refund_case()
    url = reverse("admin:refunds_case_decline", args=[case.pk])
    response = admin_client.post(url, {"reason": ""})
    assert response.status_code == 200 and Case.objects.get(pk=case.pk).status == CaseStatus.REQUESTED
    response = admin_client.post(url, {"reason": "The goods match the order."})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DECLINED
    assert Email.objects.filter(key=f"case-declined:{case.pk}", body_text__contains="match the order").exists()


def test_ref_defect_record_goods_received_from_the_desk_starts_the_clock_then_refund(admin_client):
    """REF-DEFECT: staff record the goods (per line received/damaged), the 10-day due date appears; refund."""
    order = delivered(lines=((Decimal("700.00"), 2),))
    line = order.lines.get()
    case = services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 2}, remedy="refund")
    assert (
        admin_client.post(reverse("admin:refunds_case_accept", args=[case.pk]), {"remedy": "refund"}).status_code == 302
    )
    [cl] = case.lines.all()
    response = admin_client.post(
        reverse("admin:refunds_case_received", args=[case.pk]), {f"received_{cl.pk}": 2, f"damaged_{cl.pk}": 1}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.refund_due_at == case.goods_received_at + dt.timedelta(days=10)
    stock = line.product.stock
    response = admin_client.post(
        reverse("admin:refunds_case_settle", args=[case.pk]), {f"restock_{cl.pk}": 1, f"write_off_{cl.pk}": 1}
    )
    assert response.status_code == 302
    line.product.refresh_from_db()
    assert line.product.stock == stock + 1
    response = admin_client.post(reverse("admin:refunds_case_refund", args=[case.pk]), {"amount": ""})
    assert response.status_code == 302
    assert case.refunds.get().amount.amount == Decimal("1400.00")
    page = admin_client.get(reverse("admin:refunds_case_change", args=[case.pk])).content.decode()
    assert "Record goods received" in page and "Issue refund" in page


def test_pay_refund_same_way_refund_started_from_the_order_admin_page_opens_a_case(admin_client):
    """The order's admin page links a refund form; the refund is a case, never above what was paid."""
    order = paid_by_transfer()
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    url = reverse("admin:refunds_order_refund", args=[order.pk])
    assert url in page
    too_much = admin_client.post(url, {"kind": "defect", "amount": "999999", "reason": "Goodwill"})
    assert too_much.status_code == 200 and not Case.objects.filter(order=order).exists()
    response = admin_client.post(url, {"kind": "defect", "amount": "100.00", "reason": "Goodwill"})
    assert response.status_code == 302
    case = Case.objects.get(order=order)
    assert case.refunds.get().amount.amount == Decimal("100.00")


def test_ref_sla_staff_digest_in_business_hours_lists_due_soon_and_overdue_once():
    """REF-SLA: Friday 10:00 the digest lists a refund due Sunday (due soon) and one overdue; Saturday
    nothing is sent; a second run the same day with the same cases sends nothing more."""
    overdue = _wrong_item_refund_case(at=msk(2027, 3, 1, 10, 0))  # due 11 March
    soon = _wrong_item_refund_case(at=msk(2027, 3, 4, 12, 0))  # due Sunday 14 March
    _wrong_item_refund_case(at=msk(2027, 3, 20, 10, 0))  # due 30 March: not yet
    with time_machine.travel(msk(2027, 3, 13, 10, 0), tick=False):  # Saturday
        assert refunds_due_digest.delay().get() == 0
    with time_machine.travel(msk(2027, 3, 12, 10, 0), tick=False):  # Friday
        email_id = refunds_due_digest.delay().get()
        assert refunds_due_digest.delay().get() == email_id
    email = Email.objects.get(pk=email_id)
    assert "1 overdue, 1 due within a business day" in email.subject
    assert f"case {overdue.pk}" in email.body_text and f"case {soon.pk}" in email.body_text
    assert Email.objects.filter(subject__startswith="Refunds:").count() == 1


def test_ord_price_error_accepted_lower_price_refund_has_a_price_error_case():
    """ORD-PRICE-ERROR: the refund of a lowered price on a paid order is a price-error case."""
    from orders import services as order_services

    order = paid_by_transfer()
    line = order.lines.first()
    order_services.order_price_error_mark(
        order_id=order.pk, corrections={line.pk: line.unit_price.amount - 100}, actor=None
    )
    order_services.order_price_error_answer(order_id=order.pk, accept=True)
    [case] = Case.objects.filter(order=order)
    assert case.kind == CaseKind.PRICE_ERROR and case.refunds.get().amount.amount == Decimal("100.00") * line.quantity
