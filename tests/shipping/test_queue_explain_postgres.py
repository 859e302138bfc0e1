"""SHIP-WITHIN-2BD on PostgreSQL with 100,000 orders: the digest and the work queue read open orders
through the partial index ``order_open_ship_by_idx`` (EXPLAIN), never by scanning every order.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> .venv/bin/pytest
tests/shipping/test_queue_explain_postgres.py``.
"""

import pytest
from django.db import connection

from orders.models import Order
from shipping.services.queue import QueueClock, ship_by_digest_orders, work_queue_orders
from tests.orders.lifecycle_support import make_order
from tests.shipping.queue_support import msk

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ORDERS = 100_000
OPEN = 2_000  # the newest orders are still open; the rest are completed, as in a shop that has run a while
INDEX = "order_open_ship_by_idx"


def _fill_orders():
    """100,000 copies of one order in one INSERT … SELECT: ship-by every 5 minutes from 1 January 2026."""
    template = make_order(status="completed", payment_method="cash_courier")
    replaced = {
        "number": "'RX-T' || g",
        "checkout_token": "'explain-' || g",
        "status": f"CASE WHEN g <= {ORDERS - OPEN} THEN 'completed' "
        "WHEN g %% 2 = 0 THEN 'processing' ELSE 'packed' END",
        "ship_by": "timestamptz '2026-01-01 09:00+03' + g * interval '5 minutes'",
        "created_at": "timestamptz '2025-12-30 09:00+03' + g * interval '5 minutes'",
    }
    columns = [f.column for f in Order._meta.concrete_fields if f.column != "id"]
    names = ", ".join(f'"{column}"' for column in columns)
    values = ", ".join(replaced.get(column, f't."{column}"') for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO orders_order ({names}) "
            f"SELECT {values} FROM orders_order t, generate_series(1, {ORDERS}) g WHERE t.id = %s",
            [template.pk],
        )
        cursor.execute("ANALYZE orders_order")


def test_ship_within_2bd_digest_and_work_queue_use_the_partial_ship_by_index(policy):
    _fill_orders()
    assert Order.objects.count() == ORDERS + 1
    # The open orders' ship-by moments span the last week of the range (7 to 14 December 2026); the
    # digest's cut-off takes the first day of them, as a shop that keeps up would have: a few hundred
    # overdue among 100,000. (With half of the open orders overdue, reading all open orders through
    # the status index and sorting them costs about the same, and the planner's choice between the
    # two then hangs on ANALYZE's random sample: the test was flaky.)
    clock = QueueClock.current(msk(2026, 12, 8, 11, 0))
    digest = ship_by_digest_orders(clock)
    assert 0 < digest.count() < OPEN

    plan = digest.explain()
    assert INDEX in plan, plan
    assert "Seq Scan on orders_order" not in plan, plan

    page = work_queue_orders()[:100]
    plan = page.explain()
    assert INDEX in plan, plan
    assert "Seq Scan on orders_order" not in plan, plan

    # Why partial: every completed order's ship-by is in the past too, so "ship_by < cutoff" matches
    # nearly all of them and the plain ship_by index cannot narrow the query. Without the partial
    # index PostgreSQL reads every open order through the status index and sorts them all.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {INDEX}")  # rolled back with the test's transaction
    plan = digest.explain()
    assert "Index Cond: (ship_by" not in plan, plan
