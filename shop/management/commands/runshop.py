"""``manage.py runshop``: the whole shop in one terminal for development.

Starts the web server, a Celery worker, Celery beat and — in development (``DEBUG``) when no real
PayPal credentials are configured and the command exists — the local PayPal stand-in, prefixes each
one's output with its name, and stops them all together: Ctrl-C (SIGINT) or SIGTERM terminates every child and waits for
it; if one child dies on its own, the others are stopped and runshop exits non-zero. If runshop itself
is killed outright (SIGKILL), Linux kills the children too, so no stray server keeps port 8000 or 8765.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management import get_commands
from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, reverse

STANDIN_PORT = 8765
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent():
    """A ``preexec_fn`` by which Linux SIGKILLs a child as soon as the process that started it dies.

    A SIGKILL of the supervisor, or of its process group (which the children, in their own
    sessions, are not in), runs none of the supervisor's stopping code: without this the web
    server, beat and the stand-in outlived it and kept their ports. The signal follows the death of
    the *thread* that started the child, so children are started from the main thread. A Celery
    worker's pool processes set the same signal towards their worker. None outside Linux.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        if prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL)) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return preexec


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Supervisor:
    """Runs child processes, prefixes their output, and stops them all together.

    Each child runs in its own session so a terminal Ctrl-C reaches only the supervisor, which
    then stops the children in order (SIGTERM, then SIGKILL to the child's whole process group
    after ``grace`` seconds: Celery's pool processes must not outlive their parent). Should the
    supervisor be killed before it has stopped them, each child gets SIGKILL from Linux
    (``die_with_parent``).
    """

    def __init__(self, children: Sequence[tuple[str, list[str]]], *, out=None, grace: float = 20.0, env=None):
        self.children = [Child(name, list(argv)) for name, argv in children]
        self.out = out or sys.stdout
        self.grace = grace
        self.env = env
        self._stop = threading.Event()
        self._force = threading.Event()
        self._write_lock = threading.Lock()
        self._width = max((len(c.name) for c in self.children), default=0)

    def say(self, name: str, line: str) -> None:
        with self._write_lock:
            self.out.write(f"{name.ljust(self._width)} | {line.rstrip()}\n")
            self.out.flush()

    def _pump(self, child: Child) -> None:
        assert child.process and child.process.stdout
        for raw in iter(child.process.stdout.readline, b""):
            self.say(child.name, raw.decode("utf-8", "replace"))
        child.process.stdout.close()

    def start(self) -> None:
        env = {**(self.env if self.env is not None else os.environ), "PYTHONUNBUFFERED": "1"}
        preexec = die_with_parent()
        for child in self.children:
            child.process = subprocess.Popen(  # noqa: S603 (argv built by us, no shell)
                child.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
                preexec_fn=preexec,
            )
            child.reader = threading.Thread(target=self._pump, args=(child,), daemon=True)
            child.reader.start()
            self.say("runshop", f"started {child.name} (pid {child.process.pid}): {' '.join(child.argv)}")

    def request_stop(self, signum=None, frame=None) -> None:
        """First Ctrl-C/SIGTERM: stop gracefully. A second one: kill what is still running."""
        if self._stop.is_set():
            self._force.set()
        self._stop.set()

    def wait(self) -> int:
        """Block until a stop is requested or a child exits; then stop all. Returns the exit code."""
        failed: Child | None = None
        while not self._stop.is_set():
            failed = next((c for c in self.children if c.process and c.process.poll() is not None), None)
            if failed:
                break
            self._stop.wait(0.2)
        if failed:
            self.say("runshop", f"{failed.name} exited with code {failed.process.returncode}; stopping the others")
        else:
            self.say("runshop", "stopping (Ctrl-C again to kill at once)")
        self.stop_all()
        if failed:
            return failed.process.returncode or 1
        return 0

    def stop_all(self) -> None:
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                child.process.terminate()
        deadline = time.monotonic() + self.grace
        while not self._force.is_set() and time.monotonic() < deadline:
            if all(child.process.poll() is not None for child in running):
                break
            self._force.wait(0.1)
        for child in running:
            if child.process.poll() is None:
                reason = "asked to kill" if self._force.is_set() else f"did not stop in {self.grace:g}s"
                self.say("runshop", f"{child.name} {reason}; killing it")
        for child in self.children:
            if child.process is None:
                continue
            # Whatever is left in the child's session (e.g. a worker's pool processes) goes too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()
            if child.reader:
                child.reader.join(timeout=2)

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            return self.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def shop_children(*, addr: str, standin: bool) -> list[tuple[str, list[str]]]:
    python, manage = sys.executable, os.path.abspath(sys.argv[0])
    celery = [python, "-m", "celery", "-A", "config"]
    children = [
        ("web", [python, manage, "runserver", addr, "--noreload"]),
        ("worker", [*celery, "worker", "-l", "info", "--concurrency", "2"]),
        ("beat", [*celery, "beat", "-l", "info"]),
    ]
    if standin:
        try:
            webhook_path = reverse("payments:paypal_webhook")
        except NoReverseMatch:
            webhook_path = "/payments/paypal/webhook/"
        children.append(
            (
                "paypal",
                [
                    python,
                    manage,
                    "paypal_standin",
                    "--port",
                    str(STANDIN_PORT),
                    "--webhook-url",
                    f"http://{addr}{webhook_path}",
                ],
            )
        )
    return children


def children_env(addr: str) -> dict[str, str]:
    """The environment for web, worker and beat: links in e-mails and PayPal's return URLs must
    point at the address the web server really listens on, unless SITE_URL says otherwise."""
    env = dict(os.environ)
    env.setdefault("SITE_URL", f"http://{addr}")
    return env


class Command(BaseCommand):
    help = "Run the web server, Celery worker, Celery beat and (without PayPal credentials) the PayPal stand-in."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="host:port for the web server")
        parser.add_argument("--no-standin", action="store_true", help="do not start the PayPal stand-in")

    def handle(self, *args, addr: str, no_standin: bool, **options):
        has_standin = "paypal_standin" in get_commands()
        # settings.PAYPAL_STANDIN: development (DEBUG) without PayPal credentials. Never in production.
        wants_standin = settings.PAYPAL_STANDIN and not no_standin
        if wants_standin and not has_standin:
            self.stderr.write("runshop: no paypal_standin command in this checkout; PayPal payments will not work.")
        supervisor = Supervisor(
            shop_children(addr=addr, standin=wants_standin and has_standin), out=self.stdout, env=children_env(addr)
        )
        code = supervisor.run()
        if code:
            sys.exit(code)
