"""DLV-ACCEPT-14D: a parcel at a pick-up point, the reminder, and expiry with a refund less delivery."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from orders.models import AdjustmentKind, Order, OrderAdjustment, OrderEvent
from payments.models import Refund
from shipping import tasks
from shipping.models import Shipment
from shipping.services import delivery
from shipping.services.delivery import DeliveryError, _awaiting
from shop.models import Email

from .support import make_order, paid_by_transfer, rub, ship

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


def at(day: int, hour: int, minute: int = 0, month: int = 6) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MSK)


def _waiting(order: Order, *, arrived=None) -> Shipment:
    """Shipped Monday 1 June; arrived at the pick-up point on Friday 5 June 10:00 (shop time)."""
    with time_machine.travel(at(1, 11), tick=False):
        shipment = ship(order)
    with time_machine.travel(arrived or at(5, 10), tick=False):
        delivery.delivery_record_awaiting_collection(
            shipment_id=shipment.pk, pickup_point="Pick-up point 17, Tverskaya 5", actor=None
        )
    shipment.refresh_from_db()
    return shipment


def _run(task, moment: dt.datetime) -> int:
    with time_machine.travel(moment, tick=False):
        return task.delay().get()


def _paid_order() -> Order:
    with time_machine.travel(at(1, 10), tick=False):
        return paid_by_transfer()


def test_dlv_accept_14d_collect_by_is_14_calendar_days_stored_and_emailed():
    """DLV-ACCEPT-14D: arrived Friday 5 June: collect by the end of 19 June (the 12 June holiday and
    weekends count: calendar days); the order is "arrived, awaiting collection"; the e-mail gives the date."""
    order = _paid_order()
    shipment = _waiting(order)

    assert shipment.status == Shipment.Status.AWAITING_COLLECTION
    assert shipment.collect_by == at(19, 23, 59).replace(second=59)
    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED
    email = Email.objects.get(key=f"parcel-awaiting:{shipment.pk}")
    assert "19 June 2026" in email.subject and "Pick-up point 17" in email.body_text
    event = order.events.get(type=OrderEvent.Type.AWAITING_COLLECTION)
    assert event.customer_visible and event.message.endswith("collect it by 19 June 2026.")


def test_dlv_accept_14d_reminder_once_collect_reminder_days_before_across_holiday_and_weekend():
    """DLV-ACCEPT-14D: the reminder goes 3 days (Policy) before the deadline, once, however often beat runs."""
    shipment = _waiting(_paid_order())

    assert _run(tasks.shipments_remind_collection, at(12, 12)) == 0  # Russia Day (a holiday): too early
    assert _run(tasks.shipments_remind_collection, at(14, 12)) == 0  # Sunday: too early
    assert _run(tasks.shipments_remind_collection, at(16, 23, 0)) == 0  # just before 3 days before
    assert _run(tasks.shipments_remind_collection, at(17, 0, 30)) == 1
    assert _run(tasks.shipments_remind_collection, at(17, 1, 30)) == 0  # run twice → acts once
    assert _run(tasks.shipments_remind_collection, at(18, 9)) == 0
    [email] = Email.objects.filter(key=f"parcel-collect-reminder:{shipment.pk}")
    assert "19 June 2026" in email.subject
    shipment.refresh_from_db()
    assert shipment.collect_reminded_at == at(17, 0, 30)


def test_dlv_accept_14d_expiry_on_day_15_refuses_and_refunds_goods_less_delivery_once():
    """DLV-ACCEPT-14D: not collected by the end of 19 June: on the 20th (a Saturday) the order is refused
    and the goods are refunded less the delivery cost, exactly once, even when beat runs twice or late."""
    order = _paid_order()
    shipment = _waiting(order)

    assert _run(tasks.shipments_expire_uncollected, at(19, 23, 50)) == 0
    assert _run(tasks.shipments_expire_uncollected, at(20, 0, 10)) == 1
    assert _run(tasks.shipments_expire_uncollected, at(20, 1, 10)) == 0
    assert _run(tasks.shipments_expire_uncollected, at(27, 12)) == 0  # a week late: nothing more

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.NOT_COLLECTED
    assert order.status == Order.Status.REFUSED
    [line] = order.lines.all()
    assert (line.quantity_refused, line.quantity_delivered) == (1, 0)
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == rub("4990.00")  # the 5340.00 paid less 350.00 delivery
    # The refund belongs to a not-collected case (refunds), keyed by the parcel (REF-SLA).
    [case] = refund.cases.all()
    assert case.kind == "not_collected" and case.key == f"due:{order.number}-not-collected:{shipment.pk}"
    [adjustment] = OrderAdjustment.objects.filter(order=order)
    assert adjustment.kind == AdjustmentKind.NOT_COLLECTED and adjustment.amount == rub("-4990.00")
    email = Email.objects.get(key=f"parcel-not-collected:{shipment.pk}")
    assert f"We refund the goods, {rub('4990.00')}" in email.body_text
    assert "delivery cost is not refunded" in email.body_text
    assert order.events.filter(type=OrderEvent.Type.NOT_COLLECTED).count() == 1


def test_dlv_accept_14d_refund_hook_run_twice_refunds_once():
    """The refund key (not-collected:<parcel>) makes a repeated order_refund_due a no-op."""
    from refunds.services import due_amount_refund

    order = _paid_order()
    shipment = _waiting(order)
    _run(tasks.shipments_expire_uncollected, at(20, 0, 10))
    again = due_amount_refund(order.pk, rub("4990.00").amount, key=f"not-collected:{shipment.pk}", kind="not_collected")
    assert Refund.objects.filter(order=order).count() == 1 and again.order_id == order.pk


def test_dlv_accept_14d_cash_order_not_collected_is_refused_without_refund():
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier")
    _waiting(order)
    assert _run(tasks.shipments_expire_uncollected, at(20, 0, 10)) == 1
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUSED
    assert not Refund.objects.filter(order=order).exists()


def test_dlv_accept_14d_collected_in_time_completes_and_never_expires():
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier")
    shipment = _waiting(order)
    with time_machine.travel(at(18, 16), tick=False):
        delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind="customer", actor=None)
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED
    assert _run(tasks.shipments_expire_uncollected, at(21, 12)) == 0
    assert _run(tasks.shipments_remind_collection, at(17, 12)) == 0


def test_dlv_accept_14d_arrival_cannot_be_in_the_future():
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier")
    with time_machine.travel(at(1, 11), tick=False):
        shipment = ship(order)
        with pytest.raises(DeliveryError) as exc:
            delivery.delivery_record_awaiting_collection(shipment_id=shipment.pk, at=at(3, 10), actor=None)
    assert exc.value.field == "at"


def test_dlv_accept_14d_periodic_queries_use_the_partial_index():
    """Both periodic tasks find their parcels with one query on the partial index shipment_collect_by_idx."""
    plans = [
        _awaiting().filter(collect_by__lt=at(20, 0)).values("pk").explain(),
        _awaiting().filter(collect_by__lte=at(20, 0), collect_reminded_at__isnull=True).values("pk").explain(),
    ]
    assert all("shipment_collect_by_idx" in plan for plan in plans), plans
