"""Issue #14: periodic tasks that are batched stay batched: their query count does not grow with the
number of due rows (pinned at two sizes)."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.models import Order
from shipping.services.queue import QueueClock, ship_by_digest_send
from shop.models import Email
from shop.tasks import emails_retry_unsent
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db


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
