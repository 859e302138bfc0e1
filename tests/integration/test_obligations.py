"""Obligations survive a crash, for real: a web process killed between its commit and its on-commit
callback, PostgreSQL, Redis, and the real worker running the outbox sweep (shop/obligations.py).

Run with::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/7 \\
        REQUIRE_SERVICES=1 .venv/bin/pytest tests/integration/test_obligations.py
"""

import signal
import subprocess
import sys

import redis
from django.conf import settings
from django.core import mail

from shop.models import Email
from shop.tasks import emails_retry_unsent
from tests.factories import OrderLineFactory
from tests.integration.conftest import wait_until
from tests.integration.order_flow_support import messages_with_subject, pdf_attachments

# The "web process": it queues the acknowledgement in the order's transaction and is SIGKILLed by the
# first on-commit callback, registered before the e-mail's own, so it dies after the COMMIT but before
# the send task reaches the broker.
DIES_AFTER_COMMIT = """
import os, signal, sys
import django
django.setup()
from django.db import transaction
from orders.models import Order
from orders.notifications import order_acknowledgement_queue
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    order_acknowledgement_queue(order=Order.objects.get(pk=int(sys.argv[1])))
"""


def _broker_keys(queue: str) -> list[bytes]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        return client.keys(f"{queue}*")
    finally:
        client.close()


def test_ord_ack_lost_with_the_web_process_is_sent_once_by_the_workers_sweep(celery_env, celery_processes, mail_dir):
    """ORD-ACK: the acknowledgement row committed with the order, the process died before queuing
    the send; the sweep run by the real worker delivers it exactly once, and a second sweep adds none."""
    order = OrderLineFactory().order
    web = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_COMMIT, str(order.pk)],
        env=celery_env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert web.returncode == -signal.SIGKILL, web.stderr

    email = Email.objects.get(key=f"order-ack:{order.pk}")  # committed before the process died
    assert email.status == Email.Status.QUEUED and email.attempts == 0
    assert _broker_keys(celery_env["CELERY_QUEUE"]) == []  # the send task never reached Redis

    celery_processes.worker()
    assert emails_retry_unsent.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 1
    subject = f"Your order {order.number} at "
    wait_until(lambda: len(messages_with_subject(mail_dir, subject)) == 1, message="the acknowledgement")

    # Nothing is pending any more: the second sweep queues nothing, and still one message was sent.
    assert emails_retry_unsent.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 0
    (message,) = messages_with_subject(mail_dir, subject)
    assert str(message["To"]) == order.email
    ((filename, content),) = pdf_attachments(message)
    assert content.startswith(b"%PDF")
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 1
    assert mail.outbox == [], "the test process sent mail itself: Celery ran eagerly in the test process"
