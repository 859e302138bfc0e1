"""The outbox through a real worker and beat: PostgreSQL for data, Redis as the broker.

The worker is a separate process, so everything the test writes must be committed first
(``transactional_db``), exactly as in production where the web process commits and then queues.
"""

import datetime as dt
import os
import signal

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, IntervalSchedule, PeriodicTask

from shop.emails import email_queue
from shop.models import Email
from tests.integration.conftest import sent_messages, wait_until


def _status(email: Email) -> str:
    email.refresh_from_db()
    return email.status


def test_email_queued_in_a_transaction_is_sent_by_the_worker(celery_worker_process, mail_dir):
    with transaction.atomic():
        email = email_queue(to="anna@example.com", template="integration_check", context={"number": 1}, key="it-1")
        # Nothing leaves before commit: the worker would not even see the row yet.
        assert sent_messages(mail_dir) == []

    wait_until(lambda: _status(email) == Email.Status.SENT, message="the e-mail to be sent")

    messages = sent_messages(mail_dir)
    assert len(messages) == 1
    assert "Subject: Integration check 1" in messages[0]
    assert "To: anna@example.com" in messages[0]
    assert email.attempts == 1 and email.sent_at is not None
    assert "shop.tasks.email_send" in celery_worker_process.log()


def test_email_rolled_back_is_never_sent(celery_worker_process, mail_dir):
    try:
        with transaction.atomic():
            email_queue(to="anna@example.com", template="integration_check", context={"number": 2}, key="it-2")
            raise RuntimeError("the order failed")
    except RuntimeError:
        pass
    # A later e-mail arriving proves the worker was listening all along.
    later = email_queue(to="bob@example.com", template="integration_check", context={"number": 3}, key="it-3")
    wait_until(lambda: _status(later) == Email.Status.SENT, message="the later e-mail")

    assert not Email.objects.filter(key="it-2").exists()
    assert len(sent_messages(mail_dir)) == 1


def test_worker_killed_mid_send_redelivers_and_sends_exactly_once(celery_processes, mail_dir, tmp_path):
    """acks_late + the visibility timeout: a worker SIGKILLed while sending leaves the message
    unacknowledged; a new worker takes it over and the e-mail goes out once, not twice."""
    marker = tmp_path / "hanging"
    hang_env = {
        "EMAIL_BACKEND": "tests.integration.mail_backends.HangOnceEmailBackend",
        "INTEGRATION_HANG_MARKER": marker,
        "CELERY_VISIBILITY_TIMEOUT": 3,
    }
    first = celery_processes.worker(**hang_env)

    email = email_queue(to="anna@example.com", template="integration_check", context={"number": 4}, key="it-4")
    wait_until(marker.exists, message="the first worker to start sending")
    first.kill()
    delivered_to_first = time_of(marker)

    # The row lock died with the worker's connection; the send was not recorded.
    assert _status(email) == Email.Status.QUEUED
    assert sent_messages(mail_dir) == []

    # Redis hands the message out again once the visibility timeout has passed.
    wait_until(lambda: timezone.now() > delivered_to_first + dt.timedelta(seconds=3.5), message="timeout")
    second = celery_processes.worker(**hang_env)
    wait_until(lambda: _status(email) == Email.Status.SENT, message="the redelivered e-mail to be sent")

    email.refresh_from_db()
    assert email.attempts == 1
    assert len(sent_messages(mail_dir)) == 1
    assert "shop.tasks.email_send" in second.log()

    # Nothing more arrives later (no second redelivery, no duplicate).
    second.stop()
    assert len(sent_messages(mail_dir)) == 1


def test_pool_process_killed_mid_send_is_retried_by_the_same_worker(celery_processes, mail_dir, tmp_path):
    """The OOM-killer case: only the pool process running the task dies. With acks_late and
    reject_on_worker_lost the message goes straight back to the queue; the e-mail goes out once."""
    marker = tmp_path / "hanging"
    worker = celery_processes.worker(
        EMAIL_BACKEND="tests.integration.mail_backends.HangOnceEmailBackend", INTEGRATION_HANG_MARKER=marker
    )

    email = email_queue(to="dan@example.com", template="integration_check", context={"number": 5}, key="it-5")
    wait_until(lambda: marker.exists() and marker.read_text(), message="the pool process to start sending")
    pool_pid = int(marker.read_text())
    assert pool_pid != worker.pid
    os.kill(pool_pid, signal.SIGKILL)

    wait_until(lambda: _status(email) == Email.Status.SENT, message="the requeued e-mail to be sent")
    email.refresh_from_db()
    assert email.attempts == 1
    assert len(sent_messages(mail_dir)) == 1
    assert "WorkerLostError" in worker.log()


def time_of(path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


def test_beat_fires_a_one_off_sweep_once_and_the_worker_sends(celery_processes, celery_worker_process, mail_dir):
    """Beat (DatabaseScheduler on the test database) runs a clocked one-off entry exactly once:
    the outbox sweep picks up an e-mail whose first enqueue was lost, and the worker sends it."""
    email = Email.objects.create(to="carol@example.com", subject="Lost in the broker", body_text="Hello")
    Email.objects.filter(pk=email.pk).update(created_at=timezone.now() - dt.timedelta(minutes=10))
    task = PeriodicTask.objects.create(
        name="integration: emails sweep",
        task="shop.tasks.emails_retry_unsent",
        clocked=ClockedSchedule.objects.create(clocked_time=timezone.now() + dt.timedelta(seconds=1)),
        one_off=True,
    )
    # A harmless every-second entry shows beat ticking on (created before beat starts, so it does
    # not count as a schedule change).
    PeriodicTask.objects.create(
        name="integration: ticks",
        task="celery.backend_cleanup",
        interval=IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS),
    )

    beat = celery_processes.beat()
    wait_until(lambda: _status(email) == Email.Status.SENT, message="the swept e-mail to be sent")

    # Three more ticks of beat (not a fixed sleep, which a loaded machine may fill with fewer) must
    # not fire the one-off again; then stop beat gracefully: it writes its run counts to the
    # database when it syncs (on shutdown at the latest).
    def ticks() -> int:
        return beat.log().count("Sending due task integration: ticks")

    seen = ticks()
    wait_until(lambda: ticks() >= seen + 3, message="three more beat ticks")
    beat.stop()
    assert beat.log().count("Sending due task integration: emails sweep") == 1
    task.refresh_from_db()
    assert task.total_run_count == 1
    messages = sent_messages(mail_dir)
    assert len(messages) == 1 and "Subject: Lost in the broker" in messages[0]


def test_beat_loads_the_schedule_from_config_celery(celery_beat_process):
    """DatabaseScheduler copies ``app.conf.beat_schedule`` (config/celery.py) into its tables."""
    from config.celery import app

    wait_until(
        lambda: set(app.conf.beat_schedule) <= set(PeriodicTask.objects.values_list("name", flat=True)),
        message="the beat schedule in the database",
    )
    sweep = PeriodicTask.objects.get(name="emails-retry-unsent")
    assert sweep.task == "shop.tasks.emails_retry_unsent"
    assert sweep.crontab.minute == "*/5"
