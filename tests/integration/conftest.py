"""Integration fixtures: a REAL Celery worker and beat, as subprocesses, on PostgreSQL and Redis.

Every test in ``tests/integration/`` is marked ``integration``, ``postgres`` and ``redis``
automatically (so it is skipped on a laptop without the services and fails in CI without them),
and runs Celery for real: tasks queued by the test process travel through Redis to the worker.

Run them::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop_<you> REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/pytest tests/integration

Fixtures (request them in your test; all are function-scoped):

``celery_env``
    The environment for the child processes, a dict. It points ``DATABASE_URL`` at the test
    database pytest-django created (``test_<name>``; the test needs committed data, so this
    fixture pulls in ``transactional_db``), uses the same ``REDIS_URL``, and gives the test its
    own Celery queue (``CELERY_QUEUE``), which the test process also sends to, so two test runs
    sharing one Redis never take each other's tasks. Mail is written by Django's file backend to
    ``celery_env["EMAIL_FILE_PATH"]``. Add or change keys *before* starting a process (e.g.
    request ``celery_env`` in your own fixture and set ``PAYPAL_API_BASE``).

``celery_processes``
    A ``CeleryProcesses`` factory: ``.worker(**extra_env)`` and ``.beat(**extra_env)`` start a
    process and wait until it is ready; every process started is killed after the test.
    ``CeleryProcess`` has ``.log()`` (its output so far), ``.wait_for(text)``, ``.stop()``
    (SIGTERM, warm shutdown) and ``.kill()`` (SIGKILL to the worker and its pool children).

``celery_worker_process`` / ``celery_beat_process``
    One started worker / beat (beat on django-celery-beat's DatabaseScheduler reading the test
    database). Typical use::

        def test_something(celery_worker_process, mail_dir):
            with transaction.atomic():
                order_confirm(...)          # queues work on commit
            wait_until(lambda: Email.objects.get(...).status == Email.Status.SENT)

``mail_dir``
    The directory the worker's file backend writes messages to; ``sent_messages(mail_dir)``
    returns their texts.

``wait_until(predicate, timeout=30, message=...)`` polls (0.1 s) until ``predicate()`` is truthy.
Import the helpers with ``from tests.integration.conftest import sent_messages, wait_until``.

Slow or crashing sends for fault tests: ``tests.integration.mail_backends.HangOnceEmailBackend``
(pass ``EMAIL_BACKEND`` and ``INTEGRATION_HANG_MARKER`` to ``.worker(...)``); a short
``CELERY_VISIBILITY_TIMEOUT`` makes Redis redeliver a dead worker's message quickly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from tests.process_support import wait_until

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 60


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            for name in ("integration", "postgres", "redis"):
                item.add_marker(name)


def sent_messages(mail_dir: Path) -> list[str]:
    """The messages Django's file backend wrote (one file per connection, one or more messages each)."""
    if not mail_dir.exists():
        return []
    return [path.read_text(errors="replace") for path in sorted(mail_dir.glob("*.log"))]


class CeleryProcess:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self._log_file = open(log_path, "ab")  # noqa: SIM115 (closed in stop/kill)
        # Its own session: kill() can take the whole process group (a worker's pool children too).
        self.process = subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = START_TIMEOUT) -> None:
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
            return text in self.log()

        try:
            wait_until(seen, timeout=timeout, message=f"{text!r} from {self.name}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log ---\n{self.log()}") from None

    def stop(self, timeout: float = 20) -> int:
        """Warm shutdown (SIGTERM); SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self._kill_group()
        self._log_file.close()
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL the process and everything it started, as a crash or an OOM kill would."""
        self._kill_group()
        self._log_file.close()
        return self.process.returncode

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)


class CeleryProcesses:
    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env, self.log_dir = env, log_dir
        self.started: list[CeleryProcess] = []

    def _start(self, kind: str, args: list[str], ready: str, extra_env: dict) -> CeleryProcess:
        name = f"{kind}{len(self.started) + 1}"
        argv = [sys.executable, "-m", "celery", "-A", "config", kind, "-l", "info", *args]
        env = {**self.env, **{key: str(value) for key, value in extra_env.items()}}
        proc = CeleryProcess(name, argv, env, self.log_dir / f"{name}.log")
        self.started.append(proc)
        proc.wait_for(ready)
        return proc

    def worker(self, **extra_env) -> CeleryProcess:
        # A unique node name per start: a restarted worker is a new node, as after a crash.
        node = f"itest-{uuid.uuid4().hex[:8]}@%h"
        return self._start(
            "worker", ["--concurrency", "1", "-n", node, "--without-mingle", "--without-gossip"], "ready.", extra_env
        )

    def beat(self, **extra_env) -> CeleryProcess:
        return self._start("beat", ["--max-interval", "1"], "beat: Starting...", extra_env)

    def stop_all(self) -> None:
        # After the test nothing it checks is in flight: kill (instant) rather than a warm
        # shutdown (seconds per process). Tests that need a graceful stop call .stop() themselves.
        for proc in reversed(self.started):
            proc.kill()


def _test_database_url() -> str:
    db = connection.settings_dict  # pytest-django has switched NAME to the test database
    auth = db["USER"] or ""
    if db.get("PASSWORD"):
        auth += f":{db['PASSWORD']}"
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{db['NAME']}"


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    path = tmp_path / "mail"
    path.mkdir()
    return path


@pytest.fixture
def celery_env(transactional_db, tmp_path, mail_dir, settings):
    queue = f"itest-{uuid.uuid4().hex[:12]}"
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SITE_URL": settings.SITE_URL,
        "VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("TEST_DATABASE_NAME", None)
    # The test process sends to the same private queue (the router reads this per message).
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    # Templates for the integration tests' own e-mails (rendered in the test process).
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], HERE / "templates"]},
        *settings.TEMPLATES[1:],
    ]
    yield env
    celery_app.conf.task_default_queue = previous_queue
    with contextlib.suppress(Exception):
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete(queue)
        client.close()


@pytest.fixture
def celery_processes(celery_env, tmp_path):
    processes = CeleryProcesses(celery_env, tmp_path)
    yield processes
    processes.stop_all()


@pytest.fixture
def celery_worker_process(celery_processes) -> CeleryProcess:
    return celery_processes.worker()


@pytest.fixture
def celery_beat_process(celery_processes) -> CeleryProcess:
    return celery_processes.beat()
