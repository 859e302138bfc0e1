"""Every periodic task of fulfilment finds its work with one indexed query, also with 100,000 rows
(issue #15): the stock-out and price-answer deadlines (open holds by due date) and the PayPal tracker
sweep (pending trackers). The digest, the work queue, the collection window and the partner notices
have theirs next to their own tests.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> .venv/bin/pytest
tests/shipping/test_sweeps_explain_postgres.py``.
"""

import datetime as dt

import pytest
from django.utils import timezone

from orders import holds
from orders.models import HoldKind, OrderHold
from payments.models import Payment, PayPalTracker
from tests.explain_support import clone_rows
from tests.orders.lifecycle_support import make_order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 100_000


@pytest.mark.parametrize("kind", [HoldKind.STOCK_DECISION, HoldKind.PRICE_CONFIRMATION])
def test_ship_stockout_and_price_deadline_sweeps_read_open_holds_through_the_partial_index(kind):
    """SHIP-STOCKOUT, ORD-PRICE-ERROR: 100,000 released holds and a few open ones; the sweep's query
    (``orders.holds.holds_due``) reads the partial index of open holds by due date."""
    order = make_order(status="processing", payment_method="cash_courier")
    released = OrderHold.objects.create(
        order=order, kind=kind, due_at=timezone.now() - dt.timedelta(days=30), released_at=timezone.now()
    )
    clone_rows(OrderHold, released.pk, ROWS, {"due_at": "t.due_at - g * interval '1 minute'"})
    for _ in range(3):
        OrderHold.objects.create(
            order=make_order(status="processing", payment_method="cash_courier"),
            kind=kind,
            due_at=timezone.now() - dt.timedelta(hours=1),
        )
    due = holds.holds_due(kind).values_list("order_id", flat=True)
    assert len(list(due)) == 3
    plan = due.explain()
    assert "orderhold_open_due_idx" in plan, plan
    assert "Seq Scan on orders_orderhold" not in plan, plan


def test_ship_notices_paypal_tracker_sweep_reads_pending_trackers_through_the_partial_index():
    """SHIP-NOTICES (the PayPal tracker): 100,000 trackers already added and a few pending; the sweep's
    query reads the partial index of pending trackers."""
    from payments.services.trackers import MAX_ATTEMPTS

    order = make_order()
    payment = Payment.objects.create(
        order=order, method="paypal", gateway="paypal", status="completed", amount=order.total,
        captured_amount=order.total, refunded_amount=order.total * 0,
    )  # fmt: skip
    added = PayPalTracker.objects.create(
        order=order,
        payment=payment,
        shipment_id=1,
        carrier="DHL",
        tracking_number="1234567890",
        shipped_on=dt.date(2026, 11, 20),
        status=PayPalTracker.Status.ADDED,
        request_id="explain-template",
    )
    clone_rows(PayPalTracker, added.pk, ROWS, {"shipment_id": "1 + g", "request_id": "'explain-' || g"})
    PayPalTracker.objects.filter(shipment_id__lte=4).update(status=PayPalTracker.Status.PENDING)
    stuck = PayPalTracker.objects.filter(
        status=PayPalTracker.Status.PENDING,
        created_at__lte=timezone.now() + dt.timedelta(minutes=1),
        attempts__lt=MAX_ATTEMPTS,
    ).values_list("pk", flat=True)
    assert len(list(stuck)) == 4
    plan = stuck.order_by("pk")[:100].explain()
    assert "paypaltracker_pending_idx" in plan, plan
    assert "Seq Scan on payments_paypaltracker" not in plan, plan
