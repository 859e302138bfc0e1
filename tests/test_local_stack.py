"""`make run`'s stack with no services: runshop starts web, worker and beat on SQLite and the
on-disk (kombu filesystem://) broker; a task queued by another process runs in the worker."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR
SCRUB = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TEST_DATABASE_NAME", "CELERY_QUEUE", "PAYPAL_CLIENT_ID"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(predicate, timeout, what, log=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{log.read_text()}" if log else ""))


@pytest.fixture
def local_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    return env


def test_runshop_serves_pages_and_runs_tasks_from_other_processes(local_env, tmp_path):
    port = _free_port()
    log = tmp_path / "runshop.log"
    with open(log, "wb") as out:
        runshop = subprocess.Popen(
            [sys.executable, "manage.py", "runshop", "--addr", f"127.0.0.1:{port}", "--no-standin"],
            cwd=ROOT,
            env=local_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for marker in ("celery@", "ready.", "beat: Starting...", "Starting development server"):
            _wait(lambda m=marker: m in log.read_text(), 60, marker, log)

        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status == 200

        # A separate process (like the web server's request) queues a send through the broker.
        queue = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup()\n"
                "from shop.models import Email\nfrom shop.tasks import email_send\n"
                "email = Email.objects.create(\n"
                "    to='eve@example.com', subject='Through the disk broker', body_text='Hi')\n"
                "email_send.delay(email.pk)\n",
            ],
            cwd=ROOT,
            env=local_env,
            capture_output=True,
            text=True,
        )
        assert queue.returncode == 0, queue.stderr

        mail_dir = tmp_path / "mail"
        _wait(lambda: mail_dir.exists() and any(mail_dir.iterdir()), 30, "the worker to send the e-mail", log)
        sent = "".join(path.read_text() for path in mail_dir.iterdir())
        assert "Subject: Through the disk broker" in sent
        with sqlite3.connect(tmp_path / "var" / "db.sqlite3") as db:
            assert db.execute("SELECT status, attempts FROM shop_email").fetchall() == [("sent", 1)]
        # Beat copied the schedule from config/celery.py into its tables.
        with sqlite3.connect(tmp_path / "var" / "db.sqlite3") as db:
            names = {row[0] for row in db.execute("SELECT name FROM django_celery_beat_periodictask")}
        assert "emails-retry-unsent" in names
    finally:
        runshop.send_signal(signal.SIGINT)
        returncode = runshop.wait(timeout=60)

    text = log.read_text()
    assert returncode == 0, text
    assert "runshop | stopping" in text
    assert "Task shop.tasks.email_send" in text and "succeeded" in text
