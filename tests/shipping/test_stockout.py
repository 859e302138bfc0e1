"""SHIP-STOCKOUT: a short order, the customer's three choices (link or phone), the timeout, the refunds."""

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from orders import holds, lifecycle
from orders.access import order_link
from orders.models import AdjustmentKind, HoldKind, Order, OrderEvent
from payments.models import Refund
from payments.services import payment_record_bank_transfer
from shipping.models import StockoutChoice, StockoutVia, StockShortage
from shipping.services import stockout
from shipping.services.stockout import StockoutErrorCode
from shipping.tasks import stockouts_cancel_unanswered
from shop.email_delivery import email_deliver
from shop.models import Email, Product
from tests.factories import UserFactory
from tests.payments.payment_support import make_order

pytestmark = pytest.mark.django_db
T = OrderEvent.Type
C = StockoutChoice
MSK = ZoneInfo("Europe/Moscow")
PAID_AT = dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK)  # a Monday, in business hours


@pytest.fixture
def staff():
    return UserFactory(username="warehouse", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _short_order(staff, *, when=PAID_AT, on_shelf=1, capture=None):
    """A guest's bank-transfer order of 3 × 1000 + 1 × 500 (+350 delivery), paid when only
    ``on_shelf`` units of the first product are in stock: 3 - on_shelf units are missing."""
    order = make_order(payment_method="bank_transfer", user=None, lines=[("1000.00", 3), ("500.00", 1)])
    first = order.lines.order_by("pk").first()
    Product.objects.filter(pk=first.product_id).update(stock=on_shelf)
    with time_machine.travel(when, tick=False):
        if capture is not None:
            with capture(execute=True):
                payment_record_bank_transfer(
                    order_id=order.pk, amount=order.total, credited_on=when.date(), reference="BANK-1", actor=staff
                )
        else:
            payment_record_bank_transfer(
                order_id=order.pk, amount=order.total, credited_on=when.date(), reference="BANK-1", actor=staff
            )
    order.refresh_from_db()
    return order


def _link(order) -> str:
    """The link in the e-mail asking the customer to choose, as sent: the outbox row holds only a
    placeholder (issue #10), the worker signs the link when it sends the message."""
    email = Email.objects.get(to=order.email, subject__contains="unavailable")
    email_deliver(email_id=email.pk, force=True)
    return re.search(r"http://testserver(/shipping/stockout/\S+)", mail.outbox[-1].body).group(1)


def _choose_by_link(client, order, choice, capture):
    """The guest follows the e-mail's link the next day and presses one of the three buttons."""
    link = _link(order)
    mail.outbox.clear()
    with time_machine.travel(PAID_AT + dt.timedelta(days=1), tick=False), capture(execute=True):
        response = client.post(link, {"choice": choice})
    assert response.status_code == 302
    return link


def _stock(line) -> int:
    return Product.objects.get(pk=line.product_id).stock


def test_ship_stockout_at_payment_reserves_what_is_there_and_emails_a_signed_link(
    staff, client, django_capture_on_commit_callbacks
):
    order = _short_order(staff, capture=django_capture_on_commit_callbacks)
    first, second = order.lines.order_by("pk")
    assert order.status == Order.Status.PROCESSING and order.stock_taken
    # The unit on the shelf and the other line are reserved at once; two units are short.
    assert (_stock(first), _stock(second)) == (0, 9)
    assert (first.quantity_short, first.quantity_on_shelf, second.quantity_short) == (2, 1, 0)
    hold = holds.open_hold(order, HoldKind.STOCK_DECISION)
    assert hold.due_at == dt.datetime(2026, 11, 19, 10, 0, tzinfo=MSK)  # 3 business days
    [row] = StockShortage.objects.filter(order=order)
    assert (row.order_line_id, row.quantity_missing, row.hold_id, row.choice) == (first.pk, 2, hold.pk, "")
    assert order.events.get(type=T.STOCK_SHORT).message == "Not available now: 2 × Binocular 1 10x42."
    assert order.ready_at is None

    link = _link(order)
    with time_machine.travel(PAID_AT + dt.timedelta(hours=1), tick=False):
        page = client.get(link)  # a guest following the link from the e-mail
        # The order page says what the order waits for and links the choice.
        detail = client.get(reverse("orders:detail", kwargs={"number": order.number})).content.decode()
    html = page.content.decode()
    assert page.status_code == 200
    assert "19 November 2026, 10:00" in html
    for choice in C:
        assert f'value="{choice.value}"' in html
    assert "by a date we will e-mail you (we do not know it yet)" in html
    assert reverse("shipping:stockout_answer", kwargs={"number": order.number}) in detail


def test_ship_stockout_choice_page_is_for_the_link_holder_only(staff, client):
    order = _short_order(staff)
    url = reverse("shipping:stockout_answer", kwargs={"number": order.number})
    assert client.get(url).status_code == 404
    assert client.get(url + "?key=forged").status_code == 404


def test_ship_stockout_guest_cancels_the_missing_part_and_the_paid_value_is_refunded(
    staff, client, django_capture_on_commit_callbacks
):
    order = _short_order(staff, capture=django_capture_on_commit_callbacks)
    link = _choose_by_link(client, order, C.CANCEL_MISSING, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    first, second = order.lines.order_by("pk")
    assert (first.quantity_cancelled, first.quantity_short, first.quantity_open) == (2, 0, 1)
    assert second.quantity_cancelled == 0
    assert holds.open_kinds(order) == set() and order.ready_at is not None
    assert order.status == Order.Status.PROCESSING
    # What is owed drops by the missing units' value; the payments hook wrote the refund.
    adjustment = order.adjustments.get()
    assert adjustment.kind == AdjustmentKind.CANCELLED_PART and adjustment.amount.amount == Decimal("-2000.00")
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount.amount == Decimal("2000.00") and refund.way == Refund.Way.BANK_ACCOUNT
    assert refund.cases.get().kind == "stockout_cancel"  # REF-SLA: the desk sees it as a case
    assert {row.choice for row in order.stock_shortages.all()} == {C.CANCEL_MISSING}
    assert order.stock_shortages.get().via == StockoutVia.LINK
    assert order.events.filter(type=T.STOCKOUT_CHOSEN).count() == 1
    assert order.events.get(type=T.STOCKOUT_PART_CANCELLED).parameters["value"]["amount"] == "2000.00"
    [outcome] = [m for m in mail.outbox if "are cancelled" in m.subject]
    assert "RUB 2,000.00 will be refunded the way you paid" in outcome.body

    # Choosing again (another choice) changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link, {"choice": C.CANCEL_ALL})
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING and Refund.objects.filter(order=order).count() == 1
    assert order.events.filter(type=T.STOCKOUT_CHOSEN).count() == 1
    page = client.get(link).content.decode()
    assert "Your choice: <strong>Cancel the unavailable items, send the rest</strong>" in page


def test_ship_stockout_guest_cancels_the_whole_order_and_everything_is_refunded(
    staff, client, django_capture_on_commit_callbacks
):
    order = _short_order(staff, capture=django_capture_on_commit_callbacks)
    first, second = order.lines.order_by("pk")
    _choose_by_link(client, order, C.CANCEL_ALL, django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and holds.open_kinds(order) == set()
    # Only the reserved units go back: the missing ones were never on the shelf.
    assert (_stock(first), _stock(second)) == (1, 10)
    assert [line.quantity_cancelled for line in order.lines.order_by("pk")] == [3, 1]
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == order.total and refund.cases.get().kind == "stockout_cancel"
    assert order.events.get(type=T.STOCKOUT_CHOSEN).parameters["choice"] == C.CANCEL_ALL
    assert any("has been cancelled" in m.subject for m in mail.outbox)


def test_ship_stockout_guest_splits_before_a_date_is_set_then_staff_set_it(
    staff, client, django_capture_on_commit_callbacks
):
    order = _short_order(staff, capture=django_capture_on_commit_callbacks)
    link = _choose_by_link(client, order, C.SPLIT, django_capture_on_commit_callbacks)
    with (
        time_machine.travel(PAID_AT + dt.timedelta(days=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        html = client.get(link).content.decode()
        assert "We will e-mail you the date the unavailable items ship by" in html
        # The split is recorded; the available part may be shipped on its own.
        order.refresh_from_db()
        assert holds.open_kinds(order) == set() and order.ready_at is not None
        assert order.stock_shortages.get().choice == C.SPLIT
        lifecycle.check(order, to=Order.Status.PARTIALLY_SHIPPED)
        assert order.lines.order_by("pk").first().quantity_on_shelf == 1

        stockout.stockout_set_date(order_id=order.pk, new_date=dt.date(2026, 12, 4), actor=staff)
        stockout.stockout_set_date(order_id=order.pk, new_date=dt.date(2026, 12, 4), actor=staff)  # no change
    assert "We will e-mail you the date they ship by" in mail.outbox[0].body
    assert order.stock_shortages.get().new_date == dt.date(2026, 12, 4)
    assert order.events.filter(type=T.STOCKOUT_DATE_SET).count() == 1
    dated = [m for m in mail.outbox if "the date for your remaining items" in m.subject]
    assert len(dated) == 1 and "will ship by 4 December 2026" in dated[0].body
    detail = client.get(order_link(order, absolute=False)).content.decode()
    assert "The unavailable items will ship by 4 December 2026." in detail  # the customer's timeline

    # The goods arrive: staff raise the stock and reserve the missing units for the order.
    first = order.lines.order_by("pk").first()
    with pytest.raises(stockout.StockoutError) as info:
        stockout.stockout_missing_reserve(order_id=order.pk, actor=staff)
    assert info.value.code == StockoutErrorCode.NOTHING_ARRIVED
    Product.objects.filter(pk=first.product_id).update(stock=5)
    assert stockout.stockout_missing_reserve(order_id=order.pk, actor=staff) == {first.pk: 2}
    first.refresh_from_db()
    assert (first.quantity_short, first.quantity_on_shelf, _stock(first)) == (0, 3, 3)


def test_ship_stockout_date_in_the_past_is_refused(staff):
    order = _short_order(staff)
    with time_machine.travel(PAID_AT, tick=False), pytest.raises(stockout.StockoutError) as info:
        stockout.stockout_set_date(order_id=order.pk, new_date=dt.date(2026, 11, 15), actor=staff)
    assert info.value.code == StockoutErrorCode.DATE_IN_PAST
    assert order.stock_shortages.get().new_date is None


def test_ship_stockout_page_shows_the_date_staff_set_before_the_choice(staff, client):
    order = _short_order(staff)
    with time_machine.travel(PAID_AT + dt.timedelta(hours=2), tick=False):
        stockout.stockout_set_date(order_id=order.pk, new_date=dt.date(2026, 12, 1), actor=staff)
        html = client.get(_link(order)).content.decode()
    assert '<strong class="stockout-date">1 December 2026</strong>' in html


def test_ship_stockout_expired_link_refuses_the_choice_next_to_the_form(staff, client):
    order = _short_order(staff)
    link = _link(order)
    with time_machine.travel(dt.datetime(2026, 11, 19, 10, 1, tzinfo=MSK), tick=False):
        page = client.get(link).content.decode()
        assert "The time to choose has passed" in page and 'name="choice"' not in page
        refused = client.post(link, {"choice": C.SPLIT})
        assert refused.status_code == 200
        assert "The time to choose has passed; the unavailable items are cancelled." in refused.content.decode()
        with pytest.raises(stockout.StockoutError) as info:
            stockout.stockout_choose(order_id=order.pk, choice=C.SPLIT, via=StockoutVia.LINK)
        assert info.value.code == StockoutErrorCode.ANSWER_TOO_LATE
    order.refresh_from_db()
    assert holds.open_kinds(order) == {HoldKind.STOCK_DECISION}
    assert order.stock_shortages.get().choice == ""


def test_ship_stockout_timeout_across_a_holiday_and_weekend_cancels_the_missing_part_once(
    staff, django_capture_on_commit_callbacks
):
    """SHIP-STOCKOUT: 3 business days from Thursday 11 June 2026: Friday 12 June (Russia Day) and the
    weekend do not count — due Wednesday 17 June, 12:00. The task acts once, then never again."""
    paid = dt.datetime(2026, 6, 11, 12, 0, tzinfo=MSK)
    silent = _short_order(staff, when=paid)
    answered = _short_order(staff, when=paid)
    hold = holds.open_hold(silent, HoldKind.STOCK_DECISION)
    assert hold.due_at == dt.datetime(2026, 6, 17, 12, 0, tzinfo=MSK)
    with time_machine.travel(paid + dt.timedelta(hours=1), tick=False):
        stockout.stockout_choose(order_id=answered.pk, choice=C.SPLIT, via=StockoutVia.LINK)
    mail.outbox.clear()

    for moment in (dt.datetime(2026, 6, 15, 9, 0), dt.datetime(2026, 6, 17, 11, 59)):
        with time_machine.travel(moment.replace(tzinfo=MSK), tick=False):
            assert stockouts_cancel_unanswered.delay().get() == 0
    late = dt.datetime(2026, 6, 17, 12, 10, tzinfo=MSK)
    with time_machine.travel(late, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert stockouts_cancel_unanswered.delay().get() == 1
        assert stockouts_cancel_unanswered.delay().get() == 0  # twice: nothing more
    with time_machine.travel(late + dt.timedelta(days=3), tick=False):
        assert stockouts_cancel_unanswered.delay().get() == 0  # late: nothing more

    silent.refresh_from_db()
    assert silent.status == Order.Status.PROCESSING and holds.open_kinds(silent) == set()
    assert silent.lines.order_by("pk").first().quantity_cancelled == 2
    assert silent.stock_shortages.get().via == StockoutVia.TIMEOUT
    assert silent.events.filter(type=T.STOCKOUT_TIMED_OUT).count() == 1
    [refund] = Refund.objects.filter(order=silent)
    assert refund.amount.amount == Decimal("2000.00")
    assert not Refund.objects.filter(order=answered).exists()
    [outcome] = [m for m in mail.outbox if "are cancelled" in m.subject]
    assert outcome.to == [silent.email] and "we had no answer in time" in outcome.body


def test_ship_stockout_nothing_left_after_cancelling_the_missing_part_cancels_the_order(staff):
    order = make_order(payment_method="bank_transfer", user=None, lines=[("1000.00", 2)], stock=0)
    with time_machine.travel(PAID_AT, tick=False):
        payment_record_bank_transfer(
            order_id=order.pk, amount=order.total, credited_on=PAID_AT.date(), reference="B-2", actor=staff
        )
        stockout.stockout_choose(order_id=order.pk, choice=C.CANCEL_MISSING, via=StockoutVia.LINK)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert not order.adjustments.exists()
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == order.total
    assert order.lines.get().product.stock == 0


# --- Staff: missing items at packing, a choice by phone ---------------------------------------
def _cod_order():
    return make_order(status="processing", payment_method="cash_courier", lines=[("1000.00", 3), ("500.00", 1)])


def _reserve(order):
    from django.db import transaction

    from orders.stock import take_stock

    with transaction.atomic():
        take_stock(order=order)


def test_ship_stockout_staff_report_missing_items_at_packing_and_record_a_phone_choice(
    staff_client, staff, django_capture_on_commit_callbacks
):
    order = _cod_order()
    _reserve(order)
    first, second = order.lines.order_by("pk")
    report = reverse("admin:shipping_stockout_report", args=[order.pk])
    assert staff_client.get(report).status_code == 200

    # Bad input: a message next to the field, nothing changes.
    bad = staff_client.post(report, {f"line_{first.pk}": "4"})
    assert bad.status_code == 200 and "Ensure this value is less than or equal to 3." in bad.content.decode()
    empty = staff_client.post(report, {})
    assert "Enter how many units are missing of at least one line." in empty.content.decode()
    assert not StockShortage.objects.exists()

    with time_machine.travel(PAID_AT, tick=False), django_capture_on_commit_callbacks(execute=True):
        ok = staff_client.post(report, {f"line_{first.pk}": "2", f"line_{second.pk}": "0"})
    assert ok.status_code == 302
    order.refresh_from_db()
    assert holds.open_kinds(order) == {HoldKind.STOCK_DECISION}
    assert order.stock_shortages.get().quantity_missing == 2
    first.refresh_from_db()
    assert first.quantity_short == 2 and _stock(first) == 7  # the shelf count is not touched
    assert "unavailable" in mail.outbox[-1].subject and _link(order) in mail.outbox[-1].body
    # A second report while the customer chooses is refused.
    again = staff_client.post(report, {f"line_{first.pk}": "1"})
    assert "already waiting for the customer" in again.content.decode()

    change = staff_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Record a choice taken by phone" in change and "Unavailable items" in change

    phone = reverse("admin:shipping_stockout_phone", args=[order.pk])
    with (
        time_machine.travel(PAID_AT + dt.timedelta(hours=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = staff_client.post(phone, {"choice": C.CANCEL_MISSING, "note": "Anna called at 13:00"})
    assert done.status_code == 302
    order.refresh_from_db()
    row = order.stock_shortages.get()
    assert (row.choice, row.via, row.decided_by) == (C.CANCEL_MISSING, StockoutVia.PHONE, staff)
    assert holds.open_kinds(order) == set()
    # Paid on delivery: no refund, what the courier collects drops by the missing units' value.
    assert not Refund.objects.filter(order=order).exists()
    assert order.adjustments.get().amount.amount == Decimal("-2000.00")
    assert "Now owed: RUB 1,850.00." in mail.outbox[-1].body
    assert order.events.get(type=T.STOCKOUT_CHOSEN).message.endswith("(by phone).")
    assert order.events.filter(type=T.STAFF_NOTE).count() == 1
    # Cancelling the order later returns only the units on the shelf.
    from orders.services import order_cancel

    order_cancel(order_id=order.pk, actor=staff)
    assert (_stock(first), _stock(second)) == (8, 10)

    late = staff_client.post(phone, {"choice": C.SPLIT})
    assert late.status_code == 302  # a choice made twice changes nothing
    assert order.stock_shortages.get().choice == C.CANCEL_MISSING


def test_ship_stockout_phone_choice_after_the_deadline_is_refused_next_to_the_form(staff_client, staff):
    order = _cod_order()
    _reserve(order)
    first = order.lines.order_by("pk").first()
    with time_machine.travel(PAID_AT, tick=False):
        stockout.stockout_report(order_id=order.pk, missing={first.pk: 1}, actor=staff)
    with time_machine.travel(PAID_AT + dt.timedelta(days=7), tick=False):
        page = staff_client.post(reverse("admin:shipping_stockout_phone", args=[order.pk]), {"choice": C.SPLIT})
    assert page.status_code == 200 and "The time to choose has passed" in page.content.decode()
    assert order.stock_shortages.get().choice == ""


def test_ship_stockout_report_on_a_packed_order_unpacks_it(staff):
    order = _cod_order()
    _reserve(order)
    from django.db import transaction

    from shop.locks import lock_order

    with transaction.atomic():
        lifecycle.move(lock_order(order.pk), Order.Status.PACKED)
    second = order.lines.order_by("pk").last()
    with pytest.raises(stockout.StockoutError) as info:
        stockout.stockout_report(order_id=order.pk, missing={second.pk: 2}, actor=staff)
    assert info.value.code == StockoutErrorCode.TOO_MANY
    stockout.stockout_report(order_id=order.pk, missing={second.pk: 1}, actor=staff)
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING
    with pytest.raises(lifecycle.OrderOnHold):
        lifecycle.check(order, to=Order.Status.PACKED)


def test_ship_stockout_shortage_list_in_admin(staff_client, staff, django_assert_max_num_queries):
    for _ in range(2):
        _short_order(staff)
    url = reverse("admin:shipping_stockshortage_changelist")
    with django_assert_max_num_queries(12):
        assert staff_client.get(url).status_code == 200
    for _ in range(4):
        _short_order(staff)
    with django_assert_max_num_queries(12):
        page = staff_client.get(url)
    assert page.content.decode().count("Binocular 1 10x42") >= 6
