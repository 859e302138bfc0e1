"""`make run`'s stack with no services: runshop starts web, worker and beat on SQLite and the
on-disk (kombu filesystem://) broker; a task queued by another process runs in the worker; killing
runshop leaves none of them running.

Every check waits for the state it reads to be complete (a row written, a page served), never for a
file or a log line that appears before it."""

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tests.process_support import descendants, free_port, kill_all, wait_gone, wait_until

ROOT = settings.BASE_DIR
SCRUB = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "TEST_DATABASE_NAME", "CELERY_QUEUE", "PAYPAL_CLIENT_ID"}


def _rows(db_path, sql: str) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        return db.execute(sql).fetchall()


def _status(url: str) -> int | None:
    """The page's HTTP status, or None while nothing listens yet (runserver announces itself
    before it binds the port). An HTTP error fails at once."""
    try:
        with urllib.request.urlopen(url, timeout=10) as page:
            return page.status
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError:
        return None


def _start_runshop(env: dict[str, str], log, port: int) -> subprocess.Popen:
    """runshop (web, worker, beat) in its own process group, once all three say they are ready."""
    with open(log, "wb") as out:
        runshop = subprocess.Popen(
            [sys.executable, "manage.py", "runshop", "--addr", f"127.0.0.1:{port}", "--no-standin"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for marker in ("celery@", "ready.", "beat: Starting...", "Starting development server"):
            wait_until(lambda m=marker: m in log.read_text(), 60, marker, log)
        wait_until(lambda: _status(f"http://127.0.0.1:{port}/") == 200, 30, "the web server to answer", log)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runshop.pid, signal.SIGKILL)
        runshop.wait()
        raise
    return runshop


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
    port = free_port()
    log = tmp_path / "runshop.log"
    db_path = tmp_path / "var" / "db.sqlite3"
    runshop = _start_runshop(local_env, log, port)
    try:
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

        # The mail file exists from the moment the backend opens it; the row says "sent" only once
        # the message is written and the file closed.
        wait_until(
            lambda: _rows(db_path, "SELECT status, attempts FROM shop_email") == [("sent", 1)],
            30,
            "the worker to send the e-mail",
            log,
        )
        sent = "".join(path.read_text() for path in (tmp_path / "mail").iterdir())
        assert "Subject: Through the disk broker" in sent
        # Beat copies the schedule from config/celery.py into its tables after it logs "Starting...".
        wait_until(
            lambda: ("emails-retry-unsent",) in _rows(db_path, "SELECT name FROM django_celery_beat_periodictask"),
            30,
            "beat to store its schedule",
            log,
        )
    finally:
        runshop.send_signal(signal.SIGINT)
        returncode = runshop.wait(timeout=60)

    text = log.read_text()
    assert returncode == 0, text
    assert "runshop | stopping" in text
    assert "Task shop.tasks.email_send" in text and "succeeded" in text


@pytest.mark.parametrize("kill", ["runshop alone", "its group, sigterm then sigkill"])
def test_killed_runshop_leaves_no_child_running_and_frees_the_port(local_env, tmp_path, kill):
    """The review's scenario on the real stack: runshop SIGKILLed, or its process group SIGTERMed
    and at once SIGKILLed, long before its grace period is over (an impatient process manager).
    runshop gets no time to stop its children, yet web, worker (with its pool processes) and beat
    all die, and the web server's port is free again."""
    port = free_port()
    log = tmp_path / "runshop.log"
    runshop = _start_runshop(local_env, log, port)
    children = [int(pid) for pid in re.findall(r"started \w+ \(pid (\d+)\)", log.read_text())]
    pids = descendants(runshop.pid)
    try:
        assert len(children) == 3 and set(children) <= pids
        assert len(pids) > 3, "the worker's pool processes are there too"

        if kill == "runshop alone":
            runshop.kill()
        else:
            os.killpg(runshop.pid, signal.SIGTERM)
            os.killpg(runshop.pid, signal.SIGKILL)
        runshop.wait(timeout=10)

        wait_gone(pids, [port], log)
    finally:
        kill_all(pids)
