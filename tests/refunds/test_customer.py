"""What the customer starts from the order page: withdrawal (REF-WITHDRAW-30D) and claims (REF-DEFECT,
REF-WRONG-ITEM, REF-SHORT-DELIVERY), their windows and refund due dates (REF-SLA)."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from orders.models import Order
from refunds import services
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus
from shop.models import Email
from tests.factories import ProductFactory, UserFactory

from .support import delivered, make_order, paid_by_transfer, rub

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def _placed_at(moment, **kwargs) -> Order:
    with time_machine.travel(moment, tick=False):
        return paid_by_transfer(user=UserFactory(), **kwargs)


# --- REF-WITHDRAW-30D ----------------------------------------------------------------------------
def test_ref_withdraw_30d_day_30_is_allowed_day_31_is_refused():
    """REF-WITHDRAW-30D: placed 1 March 10:00 → may withdraw through 31 March 23:59; refused on 1 April."""
    late = _placed_at(msk(2027, 3, 1, 10, 0))
    in_time = _placed_at(msk(2027, 3, 1, 10, 0))
    with time_machine.travel(msk(2027, 4, 1, 0, 0, 1), tick=False), pytest.raises(services.CaseError) as error:
        services.withdrawal_request(order_id=late.pk)
    assert error.value.code == services.CaseErrorCode.WITHDRAWAL_ENDED
    assert "31 March 2027" in str(error.value)
    assert not Case.objects.filter(order=late).exists()
    with time_machine.travel(msk(2027, 3, 31, 23, 59), tick=False):
        case = services.withdrawal_request(order_id=in_time.pk)
    assert case.kind == CaseKind.WITHDRAWAL


def test_ref_withdraw_30d_paid_order_not_shipped_is_cancelled_and_refunded_due_3_days_over_new_year():
    """REF-WITHDRAW-30D, REF-SLA: a statement on 30 Dec (Wed) is due 2 Jan 2027 — calendar days: the
    New Year holidays and the weekend do not stop the clock."""
    order = _placed_at(msk(2026, 12, 28, 11, 0))
    with time_machine.travel(msk(2026, 12, 30, 16, 30), tick=False):
        case = services.withdrawal_request(order_id=order.pk)
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert case.status == CaseStatus.RESOLVED and case.remedy == CaseRemedy.REFUND
    assert case.refund_due_at == msk(2027, 1, 2, 16, 30)
    [refund] = case.refunds.all()
    assert refund.amount == order.total
    assert Case.objects.filter(order=order).count() == 1  # the cancellation found the withdrawal's case
    assert Email.objects.filter(key=f"case-opened:{case.pk}").exists()
    assert services.withdrawal_request(order_id=order.pk) == case


def test_ref_withdraw_30d_unpaid_order_is_cancelled_without_refund():
    """REF-WITHDRAW-30D: an order not paid yet is simply cancelled; the case closes without a refund."""
    order = make_order(status=Order.Status.AWAITING_PAYMENT, payment_method="bank_transfer")
    case = services.withdrawal_request(order_id=order.pk)
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and case.status == CaseStatus.RESOLVED
    assert case.refunds.count() == 0


def test_ref_withdraw_30d_delivered_order_is_refunded_at_once_and_waits_for_the_goods():
    """REF-WITHDRAW-30D: delivered goods: refund at once (due in 3 days), the return recorded on arrival."""
    order = delivered(lines=((Decimal("1000.00"), 2),))
    case = services.withdrawal_request(order_id=order.pk)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and case.refunds.get().amount == order.total
    [cl] = case.lines.all()
    assert cl.quantity == 2
    services.case_goods_receive(case_id=case.pk, received={cl.pk: (2, 0)}, actor=None)
    cl.refresh_from_db()
    assert cl.quantity_received == 2
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


# --- REF-DEFECT -----------------------------------------------------------------------------------
def _delivered_at(moment, warranty_months=None, lines=((Decimal("1000.00"), 1),)):
    with time_machine.travel(moment, tick=True):  # the handover comes after the shipping, a moment later
        order = delivered(lines=lines, user=UserFactory())
    if warranty_months is not None:
        order.lines.update(warranty_months=warranty_months)
    return order


def test_ref_defect_within_product_warranty_and_refused_the_day_after_with_the_end_date():
    """REF-DEFECT: a 12-month warranty from the handover on 10 Feb 2027 lasts through 10 Feb 2028."""
    order = _delivered_at(msk(2027, 2, 10, 12, 0), warranty_months=12)
    line = order.lines.get()
    with time_machine.travel(msk(2028, 2, 11, 0, 0, 1), tick=False), pytest.raises(services.CaseError) as error:
        services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="repair")
    assert error.value.code == services.CaseErrorCode.WARRANTY_ENDED
    assert "ended on 10 February 2028" in str(error.value)
    with time_machine.travel(msk(2028, 2, 10, 23, 0), tick=False):
        case = services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="repair")
    assert case.status == CaseStatus.REQUESTED and case.refund_due_at is None


def test_ref_defect_without_product_warranty_uses_the_policy_two_years():
    """REF-DEFECT: no warranty set → Policy.default_warranty_months (24)."""
    order = _delivered_at(msk(2027, 2, 10, 12, 0))
    line = order.lines.get()
    assert line.warranty_months is None
    with time_machine.travel(msk(2029, 2, 10, 20, 0), tick=False):
        services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="refund", key="a")
    with time_machine.travel(msk(2029, 2, 11, 9, 0), tick=False), pytest.raises(services.CaseError):
        services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="refund", key="b")


def test_ref_defect_refund_due_10_days_after_the_goods_arrive():
    """REF-DEFECT, REF-SLA: the 10-day refund clock starts when staff record the goods received."""
    order = _delivered_at(msk(2027, 2, 10, 12, 0))
    line = order.lines.get()
    with time_machine.travel(msk(2027, 3, 1, 10, 0), tick=False):
        case = services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="refund")
        services.case_accept(case_id=case.pk, actor=None)
    case.refresh_from_db()
    assert case.refund_due_at is None
    [cl] = case.lines.all()
    with time_machine.travel(msk(2027, 3, 5, 14, 0), tick=False):  # a Friday
        services.case_goods_receive(case_id=case.pk, received={cl.pk: (1, 1)}, actor=None)
    case.refresh_from_db()
    assert case.refund_due_at == msk(2027, 3, 15, 14, 0)


def test_ref_defect_remedy_must_be_one_offered():
    order = delivered()
    line = order.lines.get()
    with pytest.raises(services.CaseError) as error:
        services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="reship")
    assert error.value.field == "remedy"


# --- REF-WRONG-ITEM, REF-SHORT-DELIVERY -------------------------------------------------------------
def test_ref_wrong_item_refund_due_10_days_after_the_claim_and_kept_goods_recorded():
    """REF-WRONG-ITEM: refund due 10 days after the claim (Saturday 6 March → Tuesday 16 March)."""
    order = _delivered_at(msk(2027, 3, 1, 12, 0))
    line = order.lines.get()
    with time_machine.travel(msk(2027, 3, 6, 11, 0), tick=False):
        case = services.claim_report(
            order_id=order.pk,
            kind=CaseKind.WRONG_ITEM,
            lines={line.pk: 1},
            remedy="refund",
            statement="A red one came, I ordered black.",
            keeps_wrong_goods=True,
        )
    assert case.refund_due_at == msk(2027, 3, 16, 11, 0)
    assert case.keeps_wrong_goods


def test_ref_short_delivery_replacement_is_a_new_order_that_goes_to_fulfilment():
    """REF-SHORT-DELIVERY: missing units are sent in a new order at no charge."""
    order = delivered(lines=((Decimal("500.00"), 2),))
    line = order.lines.get()
    case = services.claim_report(
        order_id=order.pk, kind=CaseKind.SHORT_DELIVERY, lines={line.pk: 1}, remedy="replacement"
    )
    assert case.refund_due_at is None
    services.case_accept(case_id=case.pk, actor=None)
    replacement = services.case_replacement_order(case_id=case.pk, actor=None)
    assert replacement.lines.get().quantity == 1 and replacement.total == rub("0.00")
    assert replacement.ready_at is not None


def test_claims_need_goods_received():
    order = paid_by_transfer()
    with pytest.raises(services.CaseError) as error:
        services.claim_report(
            order_id=order.pk, kind=CaseKind.WRONG_ITEM, lines={order.lines.get().pk: 1}, remedy="refund"
        )
    assert error.value.code == services.CaseErrorCode.NOT_DELIVERED


# --- The pages ---------------------------------------------------------------------------------------
def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return SimpleUploadedFile("scratch.png", buffer.getvalue(), content_type="image/png")


def test_ref_withdraw_30d_order_page_shows_the_end_date_and_the_confirmation_step_withdraws(client):
    """REF-WITHDRAW-30D: the order page and the confirmation step show the date the right ends."""
    order = _placed_at(msk(2027, 3, 1, 10, 0))
    with time_machine.travel(msk(2027, 3, 2, 10, 0), tick=False):
        client.force_login(order.user)  # a session made now, not one expired by the time travel
        page = client.get(order.get_absolute_url()).content.decode()
        assert "You may withdraw from this purchase until 31 March 2027" in page
        confirm = client.get(reverse("cases:withdraw", args=[order.number])).content.decode()
        assert "31 March 2027" in confirm and "cancelled at once" in confirm
        assert Case.objects.count() == 0  # the first step changes nothing
        response = client.post(reverse("cases:withdraw", args=[order.number]))
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Withdrawal" in page and "Resolved" in page


def test_ref_defect_claim_form_stores_photos_and_refuses_a_non_image_next_to_the_field(client):
    """REF-DEFECT: photos are images only (Pillow), stored with the media storage; bad input changes nothing."""
    order = delivered(user=UserFactory())
    line = order.lines.get()
    client.force_login(order.user)
    url = reverse("cases:claim", args=[order.number, "defect"])
    bad = client.post(
        url,
        {
            f"line_{line.pk}": 1,
            "remedy": "repair",
            "statement": "The focus wheel is stuck.",
            "photos": SimpleUploadedFile("x.png", b"not an image", content_type="image/png"),
        },
    )
    assert bad.status_code == 400 and "id_photos_errors" in bad.content.decode()
    assert not Case.objects.exists()
    good = client.post(
        url, {f"line_{line.pk}": 1, "remedy": "repair", "statement": "The focus wheel is stuck.", "photos": _png()}
    )
    assert good.status_code == 302
    case = Case.objects.get()
    assert case.kind == CaseKind.DEFECT and case.photos.count() == 1
    photo = case.photos.get().image
    assert photo.storage.exists(photo.name)
    # Private: outside MEDIA_ROOT, so the public media route (product pictures) cannot serve it.
    assert not Path(settings.MEDIA_ROOT, photo.name).exists()
    assert client.get(f"/{settings.MEDIA_URL}{photo.name}").status_code == 404


def test_ref_defect_after_warranty_the_page_says_when_the_right_ended(client):
    """REF-DEFECT: after the warranty the order page names the end date; sending the form is refused with it."""
    order = _delivered_at(msk(2027, 2, 10, 12, 0), warranty_months=6)
    line = order.lines.get()
    with time_machine.travel(msk(2027, 9, 1, 10, 0), tick=False):
        client.force_login(order.user)
        page = client.get(order.get_absolute_url()).content.decode()
        assert "The right to report a defect in" in page and "ended on 10 August 2027" in page
        response = client.post(
            reverse("cases:claim", args=[order.number, "defect"]),
            {f"line_{line.pk}": 1, "remedy": "refund", "statement": "Broken."},
        )
    assert response.status_code == 400 and "ended on 10 August 2027" in response.content.decode()
    assert not Case.objects.exists()


def test_ref_wrong_item_kept_goods_are_charged_at_the_site_price_off_the_refund():
    """REF-WRONG-ITEM: the customer keeps the wrong goods: the site price comes off the refund."""
    order = delivered(lines=((Decimal("1000.00"), 1),))
    line = order.lines.get()
    case = services.claim_report(
        order_id=order.pk, kind=CaseKind.WRONG_ITEM, lines={line.pk: 1}, remedy="refund", keeps_wrong_goods=True
    )
    kept = ProductFactory(price=rub("300.00"))
    charge = services.case_charge_kept_goods(case_id=case.pk, product_id=kept.pk, quantity=1, actor=None)
    assert charge == rub("300.00")
    assert services.case_charge_kept_goods(case_id=case.pk, product_id=kept.pk, quantity=1, actor=None) == charge
    refund = services.case_refund(case_id=case.pk)
    assert refund.amount == rub("700.00")


def test_ref_wrong_item_kept_goods_with_a_replacement_are_owed_on_the_order():
    """REF-WRONG-ITEM: with a replacement, the kept goods' site price is added to what the order owes."""
    from orders.pricing import order_amount_due

    order = delivered(lines=((Decimal("1000.00"), 1),))
    line = order.lines.get()
    case = services.claim_report(order_id=order.pk, kind=CaseKind.WRONG_ITEM, lines={line.pk: 1}, remedy="replacement")
    kept = ProductFactory(price=rub("300.00"))
    services.case_charge_kept_goods(case_id=case.pk, product_id=kept.pk, quantity=2, actor=None)
    order.refresh_from_db()
    assert order_amount_due(order) == order.total + rub("600.00")


@pytest.mark.parametrize("n_cases", [1, 6])
def test_order_page_cases_section_query_count_does_not_grow_with_cases(client, django_assert_max_num_queries, n_cases):
    order = delivered(user=UserFactory(), lines=((Decimal("100.00"), 6),))
    line = order.lines.get()
    for i in range(n_cases):
        services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="repair", key=f"k{i}")
    client.force_login(order.user)
    with django_assert_max_num_queries(21):
        page = client.get(order.get_absolute_url()).content.decode()
    assert page.count('class="case"') == n_cases


def test_customer_takes_back_an_undecided_claim_from_the_order_page(client):
    order = delivered(user=UserFactory())
    line = order.lines.get()
    case = services.claim_report(order_id=order.pk, kind=CaseKind.DEFECT, lines={line.pk: 1}, remedy="repair")
    client.force_login(order.user)
    assert "Take back" in client.get(order.get_absolute_url()).content.decode()
    response = client.post(reverse("cases:claim_withdraw", args=[order.number, case.pk]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert Email.objects.filter(key=f"case-withdrawn:{case.pk}").exists()
