"""Issue #14: periodic tasks that are batched stay batched: their query count does not grow with the
number of due rows (pinned at two sizes)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from orders.models import Order
from shipping.services.queue import QueueClock, ship_by_digest_send
from shop.models import Email
from shop.tasks import emails_retry_unsent
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db
MARKED_AT = dt.datetime(2026, 11, 16, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
#: Whole runs, whatever the number of due rows (measured on SQLite, a little headroom).
PRICE_SWEEP_QUERIES = 75
REMIND_SWEEP_QUERIES = 25
LATE_SWEEP_QUERIES = 25
STOCKOUT_SWEEP_QUERIES = 140


def _open_moment() -> dt.datetime:
    moment = timezone.now().replace(minute=30, second=0, microsecond=0)
    while not QueueClock.current(moment).is_open:
        moment += dt.timedelta(hours=1)
    return moment


@pytest.mark.parametrize("due", [2, 12])
def test_ship_within_2bd_digest_queries_do_not_grow_with_overdue_orders(policy, due, django_assert_max_num_queries):
    """SHIP-WITHIN-2BD: the staff digest of overdue orders reads them in a fixed number of queries."""
    now = _open_moment()
    for _ in range(due):
        make_order(status="processing", payment_method="cash_courier")
    Order.objects.update(ship_by=now - dt.timedelta(hours=1))
    with django_assert_max_num_queries(25):
        email = ship_by_digest_send(now=now)
    assert email is not None
    assert all(order.number in email.body_text for order in Order.objects.all())


@pytest.mark.parametrize("due", [3, 30])
def test_email_sweep_reads_due_rows_in_one_query(policy, due, django_assert_max_num_queries, settings):
    created = Email.objects.bulk_create(Email(to=f"c{i}@example.com", subject="S", body_text="B") for i in range(due))
    Email.objects.filter(pk__in=[e.pk for e in created]).update(created_at=timezone.now() - dt.timedelta(hours=1))
    from config.celery import app

    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False  # queue, do not send: the sweep's own queries only
    app.conf.broker_url = "memory://"
    try:
        with django_assert_max_num_queries(1):
            assert emails_retry_unsent() == due
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, broker


# --- Issue #14: the sweeps over due rows handle them in batches --------------------------------------
# Each is pinned at 3 and 30 due rows to the same constant: a query per row (an N+1) fails at 30.
SIZES = [3, 30]


def _late_price_errors(n: int, staff) -> list[Order]:
    """``n`` orders whose corrected price waits for an answer since MARKED_AT: every other one paid by
    bank transfer (its money goes back), the others cash on delivery (nothing paid)."""
    from orders import services as order_services
    from tests.shipping.support import paid_by_transfer

    orders = []
    with time_machine.travel(MARKED_AT, tick=False):
        for i in range(n):
            if i % 2:
                order = paid_by_transfer(lines=[("4990.00", 1)])
            else:
                order = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 1)])
            line = order.lines.get()
            order_services.order_price_error_mark(
                order_id=order.pk, corrections={line.pk: Decimal("3990")}, actor=staff
            )
            orders.append(order)
    return orders


@pytest.mark.parametrize("due", SIZES)
def test_ord_price_error_timeout_sweep_queries_do_not_grow_with_due_orders(
    policy, due, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """ORD-PRICE-ERROR: unanswered corrections past their deadline are cancelled in batches: the same
    number of queries for 3 orders as for 30 (issue #14), and every order is cancelled, e-mailed once,
    its hold released and its timeline written as when one order is cancelled; a paid one gets a
    price-error case refunding all it paid (PAY-REFUND-SAME-WAY), closed at once."""
    from orders.models import HoldKind, OrderEvent, OrderHold
    from orders.services import orders_cancel_unanswered_price_errors
    from payments.models import Refund
    from refunds.models import Case, CaseKind, CaseStatus
    from tests.factories import UserFactory

    orders = _late_price_errors(due, UserFactory(is_staff=True))
    with time_machine.travel(MARKED_AT + dt.timedelta(days=3, minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(PRICE_SWEEP_QUERIES):
            assert orders_cancel_unanswered_price_errors() == due
        assert orders_cancel_unanswered_price_errors() == 0  # idempotent
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.CANCELLED}
    assert not OrderHold.objects.filter(kind=HoldKind.PRICE_CONFIRMATION, released_at__isnull=True).exists()
    for order in orders:
        assert Email.objects.filter(key=f"order-cancelled:{order.pk}").count() == 1
        types = list(order.events.values_list("type", flat=True))
        tail = types[types.index(OrderEvent.Type.PRICE_ERROR_TIMED_OUT) :]
        assert tail[:1] == [OrderEvent.Type.PRICE_ERROR_TIMED_OUT]
        assert OrderEvent.Type.CANCELLED in tail and OrderEvent.Type.EMAIL_QUEUED in tail
        case = Case.objects.filter(key=f"cancel:{order.pk}").first()
        if order.payment_method == "bank_transfer":
            assert case.kind == CaseKind.PRICE_ERROR and case.status == CaseStatus.RESOLVED
            assert [r.amount for r in Refund.objects.filter(order=order)] == [order.total]
        else:
            assert case is None and not Refund.objects.filter(order=order).exists()


def _awaiting_collection(n: int) -> list:
    from tests.shipping.support import paid_by_transfer
    from tests.shipping.test_collection import _waiting, at

    with time_machine.travel(at(1, 10), tick=False):
        orders = [
            paid_by_transfer() if i % 2 else make_order(payment_method="cash_courier", status="processing")
            for i in range(n)
        ]
    return [_waiting(order) for order in orders]


@pytest.mark.parametrize("due", SIZES)
def test_dlv_accept_14d_reminder_sweep_queries_do_not_grow_with_due_parcels(
    policy, due, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """DLV-ACCEPT-14D: the collection reminders go out in batches: the same number of queries for 3
    parcels as for 30 (issue #14); each parcel is reminded once, with its pick-up point."""
    from shipping.models import Shipment
    from shipping.services.delivery import shipments_remind_collection
    from tests.shipping.test_collection import at

    parcels = _awaiting_collection(due)
    with time_machine.travel(at(17, 0, 30), tick=False):
        with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(REMIND_SWEEP_QUERIES):
            assert shipments_remind_collection() == due
        assert shipments_remind_collection() == 0  # once per parcel
    assert not Shipment.objects.filter(collect_reminded_at__isnull=True).exists()
    for parcel in parcels:
        email = Email.objects.get(key=f"parcel-collect-reminder:{parcel.pk}")
        assert "Pick-up point 17, Tverskaya 5" in email.body_text
        assert parcel.order.number in email.body_text


@pytest.mark.parametrize("due", SIZES)
def test_dlv_late_sweep_queries_do_not_grow_with_late_parcels(
    policy, due, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """DLV-LATE: the shop opens its investigations in batches: the same number of queries for 3 late
    parcels as for 30 (issue #14); one case, one staff alert and one customer e-mail per parcel."""
    from refunds.models import Case, CaseKind
    from shipping.services import parcels
    from tests.shipping.test_parcels import at, shipped_on

    late = [shipped_on(dt.date(2026, 6, 1))[1] for _ in range(due)]
    with at(late[0].investigate_on):
        with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(LATE_SWEEP_QUERIES):
            assert parcels.parcels_investigate_late() == due
        assert parcels.parcels_investigate_late() == 0
    cases = {case.shipment_id: case for case in Case.objects.filter(kind=CaseKind.LATE_PARCEL)}
    assert set(cases) == {parcel.pk for parcel in late}
    for parcel in late:
        assert Email.objects.filter(key=f"staff-late-parcel:{parcel.pk}").count() == 1
        assert Email.objects.filter(key=f"case-opened:{cases[parcel.pk].pk}").count() == 1
        assert cases[parcel.pk].amount.amount == Decimal("2500.00") + parcel.order.delivery_cost.amount


def _unanswered_shortages(n: int, staff) -> tuple[list[Order], Order]:
    """``n`` - 1 orders short of 2 of the 3 units of their first line since MARKED_AT, the customer
    silent: every other one paid by bank transfer (the missing part's money goes back), the others cash
    on delivery (staff found the units missing at packing); and one paid order short of everything."""
    from shipping.services import stockout
    from tests.shipping.support import paid_by_transfer
    from tests.shipping.test_stockout import _reserve

    lines = [("1000.00", 3), ("500.00", 1)]
    orders = []
    with time_machine.travel(MARKED_AT, tick=False):
        for i in range(n - 1):
            if i % 2:
                order = paid_by_transfer(lines=lines, stock=1)
            else:
                order = make_order(status="processing", payment_method="cash_courier", lines=lines)
                _reserve(order)
                first = order.lines.order_by("pk").first()
                stockout.stockout_report(order_id=order.pk, missing={first.pk: 2}, actor=staff)
            orders.append(order)
        emptied = paid_by_transfer(lines=[("1000.00", 2)], stock=0)
    return orders, emptied


@pytest.mark.parametrize("due", SIZES)
def test_ship_stockout_timeout_sweep_queries_do_not_grow_with_due_orders(
    policy, due, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """SHIP-STOCKOUT: unanswered stock-outs past their deadline are decided in batches: the same number
    of queries for 3 orders as for 30 (issue #14). Each order's missing units are cancelled as when one
    order times out: its value comes off what is owed, a paid order is refunded it (PAY-REFUND-SAME-WAY),
    the customer is e-mailed once, the hold released and the order, ready now, goes to the partner
    (SHIP-SUBCONTRACTOR); an order with nothing left is cancelled and refunded all it paid."""
    from orders.models import AdjustmentKind, HoldKind, OrderAdjustment, OrderEvent, OrderHold
    from payments.models import Refund
    from shipping.models import PartnerNotice, StockoutVia
    from shipping.services.stockout import stockouts_cancel_unanswered
    from tests.factories import UserFactory
    from tests.shipping.partner_support import make_partner

    orders, emptied = _unanswered_shortages(due, UserFactory(is_staff=True))
    make_partner(endpoint="https://partner.example/orders", secret="s3cret")
    with time_machine.travel(MARKED_AT + dt.timedelta(days=7), tick=False):
        with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(STOCKOUT_SWEEP_QUERIES):
            assert stockouts_cancel_unanswered() == due
        assert stockouts_cancel_unanswered() == 0  # idempotent
    assert not OrderHold.objects.filter(kind=HoldKind.STOCK_DECISION, released_at__isnull=True).exists()
    for order in orders:
        order.refresh_from_db()
        hold = order.holds.get(kind=HoldKind.STOCK_DECISION)
        assert order.status == Order.Status.PROCESSING and order.ready_at is not None
        assert order.lines.order_by("pk").first().quantity_cancelled == 2
        assert order.stock_shortages.get().via == StockoutVia.TIMEOUT
        assert order.events.filter(type=OrderEvent.Type.STOCKOUT_TIMED_OUT).count() == 1
        [adjustment] = OrderAdjustment.objects.filter(order=order)
        assert adjustment.kind == AdjustmentKind.CANCELLED_PART and adjustment.amount.amount == Decimal("-2000.00")
        assert Email.objects.filter(key=f"stockout-outcome:{hold.pk}").count() == 1
        assert PartnerNotice.objects.filter(order=order).count() == 1
        refunds = [refund.amount.amount for refund in Refund.objects.filter(order=order)]
        assert refunds == ([Decimal("2000.00")] if order.payment_method == "bank_transfer" else [])
    emptied.refresh_from_db()
    assert emptied.status == Order.Status.CANCELLED and not emptied.adjustments.exists()
    assert [refund.amount for refund in Refund.objects.filter(order=emptied)] == [emptied.total]
