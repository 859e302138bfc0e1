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

from orders.models import Order
from payments.models import Refund
from payments.tasks import payments_refunds_sweep
from shop.models import Email
from shop.tasks import emails_retry_unsent
from tests.factories import OrderLineFactory
from tests.integration.conftest import wait_until
from tests.integration.order_flow_support import messages_with_subject, pdf_attachments
from tests.payments.payment_support import approve_and_return, make_order, start_paypal

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


# The same death, for a cancellation of a paid order: the refund row commits with the cancellation.
CANCEL_DIES_AFTER_COMMIT = """
import os, signal, sys
import django
django.setup()
from django.db import transaction
from orders.services import order_cancel
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    order_cancel(order_id=int(sys.argv[1]), reason="Out of stock")
"""


def _die_after_commit(script: str, celery_env, *args) -> None:
    web = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=celery_env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert web.returncode == -signal.SIGKILL, web.stderr


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
    _die_after_commit(DIES_AFTER_COMMIT, celery_env, order.pk)

    email = Email.objects.get(key=f"order-ack:{order.pk}")  # committed before the process died
    assert email.status == Email.Status.QUEUED and email.attempts == 0
    assert _broker_keys(celery_env["CELERY_QUEUE"]) == []  # the send task never reached Redis

    celery_processes.worker()
    assert emails_retry_unsent.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 1
    subject = f"Your order {order.number} at "
    # The row says SENT only after the message file is closed: read the file once it is complete.
    wait_until(lambda: Email.objects.get(pk=email.pk).status == Email.Status.SENT, message="the acknowledgement")
    assert len(messages_with_subject(mail_dir, subject)) == 1

    # Nothing is pending any more: the second sweep queues nothing, and still one message was sent.
    assert emails_retry_unsent.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 0
    (message,) = messages_with_subject(mail_dir, subject)
    assert str(message["To"]) == order.email
    ((filename, content),) = pdf_attachments(message)
    assert content.startswith(b"%PDF")
    email.refresh_from_db()
    assert email.status == Email.Status.SENT and email.attempts == 1
    assert mail.outbox == [], "the test process sent mail itself: Celery ran eagerly in the test process"


def test_ord_refuse_refund_lost_with_the_web_process_is_sent_once_by_the_workers_sweep(
    client, paypal_standin, celery_env, celery_processes
):
    """ORD-REFUSE + PAY-REFUND-SAME-WAY: staff cancel a PayPal-paid order and the web process dies right
    after the commit. The refund row committed with the cancellation; PayPal heard nothing. The refund
    sweep run by the real worker sends it once (PayPal, the stand-in, sees one refund), and a second
    sweep sends nothing more."""
    order = make_order(email="vera@example.com")
    payment = start_paypal(client, order)
    approve_and_return(client, paypal_standin, payment)
    assert Order.objects.get(pk=order.pk).payment_status == Order.PaymentStatus.PAID

    _die_after_commit(CANCEL_DIES_AFTER_COMMIT, celery_env, order.pk)

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    (refund,) = Refund.objects.filter(order=order)
    assert refund.status == Refund.Status.REQUESTED and refund.amount == order.total
    assert _refund_posts(paypal_standin) == []

    celery_processes.worker(
        PAYPAL_API_BASE=paypal_standin.url,
        PAYPAL_WEBHOOK_ID=settings.PAYPAL_WEBHOOK_ID,
        PAYPAL_TIMEOUT=settings.PAYPAL_TIMEOUT,
    )
    assert payments_refunds_sweep.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 1
    wait_until(lambda: Refund.objects.get(pk=refund.pk).status == Refund.Status.SENT, message="the refund")
    assert Order.objects.get(pk=order.pk).payment_status == Order.PaymentStatus.REFUNDED

    assert payments_refunds_sweep.apply_async(kwargs={"margin_seconds": 0}).get(timeout=60) == 0
    assert len(_refund_posts(paypal_standin)) == 1


def _refund_posts(standin) -> list[dict]:
    return [r for r in standin.requests() if r["method"] == "POST" and r["path"].endswith("/refund")]
