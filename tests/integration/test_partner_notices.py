"""SHIP-SUBCONTRACTOR for real: PostgreSQL, Redis, the real worker POSTing to the local partner server.

Run with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        REQUIRE_SERVICES=1 .venv/bin/pytest tests/integration/test_partner_notices.py
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from shipping.models import PartnerNotice
from shipping.tasks import partner_notices_sweep
from shop import obligations
from shop.models import Email
from tests.integration.conftest import wait_until
from tests.orders.checkout_support import make_catalogue
from tests.shipping.partner_support import binocular, confirm_cod

# The worker speaks plain http to the local partner and retries after about a second, not thirty.
WORKER_ENV = {"SHIP_PARTNER_ALLOW_HTTP": "1", "SHIP_PARTNER_RETRY_BACKOFF": "1", "SHIP_PARTNER_TIMEOUT": "5"}


def test_ship_subcontractor_real_worker_delivers_the_signed_notice_retrying_through_a_failure(
    celery_processes, partner_server, fulfilment_partner
):
    """SHIP-SUBCONTRACTOR: a cash-on-delivery order commits; the worker POSTs its notice, the partner answers
    500, Celery retries with back-off, the second try is delivered; the partner processed the key once."""
    partner_server.fail_next(1, status=500)
    celery_processes.worker(**WORKER_ENV)

    order = confirm_cod(make_catalogue(), binocular())  # commits: the task travels through Redis

    notice = PartnerNotice.objects.get(order=order)
    wait_until(
        lambda: PartnerNotice.objects.get(pk=notice.pk).status == PartnerNotice.Status.DELIVERED,
        timeout=60,
        message="the notice delivered by the worker",
    )
    notice.refresh_from_db()
    assert notice.attempts == 2
    assert [a.http_status for a in notice.attempt_log.all()] == [500, 202]
    assert [r["status"] for r in partner_server.received] == [500, 202]
    assert all(r["verified"] for r in partner_server.received)
    assert partner_server.processed == [notice.idempotency_key]
    wait_until(
        lambda: Email.objects.get(key=f"partner-order:{order.pk}:{fulfilment_partner.pk}").status == Email.Status.SENT,
        message="the partner's e-mail",
    )

    # The worker's sweep finds nothing pending: nothing more is sent.
    assert partner_notices_sweep.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 0
    assert len(partner_server.received) == 2


@pytest.mark.django_db
def test_ship_subcontractor_sweep_query_uses_the_pending_index(fulfilment_partner, monkeypatch):
    """SHIP-SUBCONTRACTOR: the sweep finds pending notices through the partial index, not by reading every
    notice ever sent (20,000 delivered, a few pending)."""
    order = confirm_cod(make_catalogue(), binocular())
    now = timezone.now()
    PartnerNotice.objects.bulk_create(
        PartnerNotice(
            order=order,
            partner=fulfilment_partner,
            idempotency_key=f"bulk-{i}",
            payload={},
            status=PartnerNotice.Status.DELIVERED if i % 4000 else PartnerNotice.Status.PENDING,
            delivered_at=now if i % 4000 else None,
        )
        for i in range(20_000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE shipping_partnernotice")
    queued = []
    monkeypatch.setattr(obligations, "enqueue", lambda task, *args: queued.append(args))  # no worker here
    captured = []

    def explain(execute, sql, params, many, context):
        if "shipping_partnernotice" in sql and sql.lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                captured.append("\n".join(row[0] for row in cursor.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(explain):
        assert partner_notices_sweep.apply(kwargs={"margin_seconds": 0}).get() == 6  # 5 + the order's own notice
    assert len(queued) == 6
    assert captured and "partnernotice_pending_idx" in captured[0], captured
