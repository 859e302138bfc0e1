"""SHIP-NOTICES: a tracked parcel of a PayPal-paid order is added to the PayPal order, exactly once,
as an obligation that survives a crash between the commit and the task (the sweep adds it)."""

from __future__ import annotations

import pytest
import time_machine

from orders.models import OrderEvent
from payments.models import PayPalTracker
from payments.tasks import payments_paypal_tracker_send, payments_paypal_trackers_sweep
from shipping.services.shipments import shipment_create
from tests.payments.payment_support import approve_and_return, start_paypal

from .shipping_support import DHL_NUMBER, all_lines, msk, order_to_ship

pytestmark = pytest.mark.django_db

TRACK = "/track"


@pytest.fixture
def paid_order(client, paypal_standin, django_capture_on_commit_callbacks):
    """A PayPal-paid order of two lines (2 + 1 units) by express courier, processing."""
    order = order_to_ship(status="awaiting_payment", payment_method="paypal", quantities=(2, 1))
    payment = start_paypal(client, order)
    with django_capture_on_commit_callbacks(execute=True):
        approve_and_return(client, paypal_standin, payment)
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "processing" and payment.capture_id
    return order


def ship(order, lines, tracking):
    return shipment_create(
        order_id=order.pk, method_id=order.delivery_method_id, tracking_number=tracking, lines=lines, actor=None
    )


def track_calls(standin) -> list[dict]:
    return [r for r in standin.requests() if r["method"] == "POST" and r["path"].endswith(TRACK)]


def standin_trackers(standin, order) -> list[dict]:
    paypal_order_id = order.payments.get().paypal_order_id
    unit = standin.order(paypal_order_id)["purchase_units"][0]
    return unit.get("shipping", {}).get("trackers", [])


def test_ship_notices_two_parcels_each_tracker_added_once_at_paypal(
    paid_order, paypal_standin, django_capture_on_commit_callbacks
):
    order = paid_order
    first_line, second_line = order.lines.order_by("pk")
    with time_machine.travel(msk(2026, 6, 11, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            first = ship(order, {first_line.pk: 2}, DHL_NUMBER)
        with django_capture_on_commit_callbacks(execute=True):
            second = ship(order, {second_line.pk: 1}, "9876543210")
    order.refresh_from_db()
    assert order.status == "shipped"

    trackers = {t.shipment_id: t for t in PayPalTracker.objects.filter(order=order)}
    assert set(trackers) == {first.pk, second.pk}
    assert all(t.status == PayPalTracker.Status.ADDED and t.attempts == 1 for t in trackers.values())
    calls = track_calls(paypal_standin)
    assert len(calls) == 2
    body = calls[0]["body"]
    capture_id = order.payments.get().capture_id
    assert body["capture_id"] == capture_id and body["tracking_number"] == DHL_NUMBER
    assert body["carrier"] == "DHL" and body["shipment_date"] == "2026-06-11"
    assert body["items"] == [{"name": first_line.product_name, "quantity": "2", "sku": first_line.sku}]
    assert calls[0]["headers"]["PayPal-Request-Id"] == trackers[first.pk].request_id
    at_paypal = standin_trackers(paypal_standin, order)
    assert [t["id"] for t in at_paypal] == [f"{capture_id}-{DHL_NUMBER}", f"{capture_id}-9876543210"]
    assert trackers[first.pk].paypal_tracker_id == f"{capture_id}-{DHL_NUMBER}"
    assert order.events.filter(type=OrderEvent.Type.PAYPAL_TRACKER_ADDED).count() == 2

    # The sweep, run again (and late), adds nothing more.
    assert payments_paypal_trackers_sweep(margin_seconds=0) == 0
    assert len(track_calls(paypal_standin)) == 2


def test_ship_notices_tracker_survives_a_crash_after_commit_the_sweep_adds_it_once(
    paid_order, paypal_standin, django_capture_on_commit_callbacks
):
    order = paid_order
    # The process dies right after the commit: the on-commit callbacks (task, e-mail) never run.
    with django_capture_on_commit_callbacks(execute=False):
        shipment = ship(order, all_lines(order, line0=1, line1=0), DHL_NUMBER)
    tracker = PayPalTracker.objects.get(shipment_id=shipment.pk)
    assert tracker.status == PayPalTracker.Status.PENDING
    assert track_calls(paypal_standin) == []

    # Within the margin the sweep leaves it to the task queued at commit.
    assert payments_paypal_trackers_sweep() == 0
    assert payments_paypal_trackers_sweep(margin_seconds=0) == 1
    tracker.refresh_from_db()
    assert tracker.status == PayPalTracker.Status.ADDED
    assert payments_paypal_trackers_sweep(margin_seconds=0) == 0
    assert len(track_calls(paypal_standin)) == 1
    assert len(standin_trackers(paypal_standin, order)) == 1


def test_ship_notices_paypal_answer_lost_the_retry_adds_the_tracker_once(
    paid_order, paypal_standin, django_capture_on_commit_callbacks
):
    """PayPal added the tracker but its answer timed out: Celery's retry (same PayPal-Request-Id) adds nothing twice."""
    order = paid_order
    paypal_standin.fault("track", "timeout")
    with django_capture_on_commit_callbacks(execute=True):
        shipment = ship(order, all_lines(order, line0=1, line1=0), DHL_NUMBER)
    tracker = PayPalTracker.objects.get(shipment_id=shipment.pk)
    assert (tracker.status, tracker.attempts) == (PayPalTracker.Status.PENDING, 1)
    assert "did not answer" in tracker.last_error
    payments_paypal_tracker_send.apply(args=[tracker.pk]).get()  # the retry, as the worker runs it after the back-off
    tracker.refresh_from_db()
    assert (tracker.status, tracker.attempts, tracker.last_error) == (PayPalTracker.Status.ADDED, 2, "")
    assert len(standin_trackers(paypal_standin, order)) == 1
    calls = track_calls(paypal_standin)
    assert {c["headers"]["PayPal-Request-Id"] for c in calls} == {tracker.request_id}


def test_ship_notices_paypal_5xx_leaves_the_tracker_pending_for_the_retry(
    paid_order, paypal_standin, django_capture_on_commit_callbacks
):
    order = paid_order
    paypal_standin.fault("track", "500")
    with django_capture_on_commit_callbacks(execute=True):
        shipment = ship(order, all_lines(order, line0=1, line1=0), DHL_NUMBER)
    tracker = PayPalTracker.objects.get(shipment_id=shipment.pk)
    assert tracker.status == PayPalTracker.Status.PENDING and "INTERNAL_SERVER_ERROR" in tracker.last_error
    assert standin_trackers(paypal_standin, order) == []
    assert payments_paypal_trackers_sweep(margin_seconds=0) == 1
    tracker.refresh_from_db()
    assert tracker.status == PayPalTracker.Status.ADDED
    assert len(standin_trackers(paypal_standin, order)) == 1


def test_ship_notices_paypal_refusal_is_recorded_and_not_retried(
    paid_order, paypal_standin, django_capture_on_commit_callbacks
):
    order = paid_order
    capture_id = order.payments.get().capture_id
    paypal_standin.state.captures[capture_id]["status"] = "REFUNDED"  # refunded at PayPal meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        shipment = ship(order, all_lines(order, line0=1, line1=0), DHL_NUMBER)
    tracker = PayPalTracker.objects.get(shipment_id=shipment.pk)
    assert tracker.status == PayPalTracker.Status.FAILED
    assert "CAPTURE_STATUS_NOT_VALID" in tracker.last_error
    failed = order.events.get(type=OrderEvent.Type.PAYPAL_TRACKER_FAILED)
    assert DHL_NUMBER in failed.message
    assert payments_paypal_trackers_sweep(margin_seconds=0) == 0


def test_ship_notices_no_tracker_for_cash_on_delivery_or_without_tracking_number(django_capture_on_commit_callbacks):
    order = order_to_ship()
    with django_capture_on_commit_callbacks(execute=True):
        shipment_create(
            order_id=order.pk,
            method_id=order.delivery_method_id,
            tracking_number=DHL_NUMBER,
            lines=all_lines(order),
            actor=None,
        )
    assert not PayPalTracker.objects.exists()
