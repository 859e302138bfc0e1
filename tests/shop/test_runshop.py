"""``manage.py runshop``'s supervisor: prefixed output, stop-all on a signal or a dying child, and
no child left running when the supervisor itself is killed."""

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings

from shop.management.commands.runshop import Supervisor, shop_children
from tests.process_support import free_port, kill_all, running, wait_gone, wait_until

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def test_a_dying_child_stops_the_others_and_exit_is_non_zero():
    out = io.StringIO()
    supervisor = Supervisor(
        [("sleeper", SLEEPER), ("crasher", [sys.executable, "-c", "import sys; print('bye'); sys.exit(3)"])],
        out=out,
        grace=5,
    )
    supervisor.start()

    code = supervisor.wait()

    assert code == 3
    sleeper = supervisor.children[0].process
    assert sleeper.returncode is not None and not running(sleeper.pid)
    text = out.getvalue()
    assert "crasher | bye" in text
    assert "crasher exited with code 3; stopping the others" in text


def test_stop_request_terminates_every_child_and_exits_zero():
    out = io.StringIO()
    supervisor = Supervisor([("one", SLEEPER), ("two", SLEEPER)], out=out, grace=5)
    supervisor.start()
    wait_until(lambda: out.getvalue().count("| up") == 2, 10, "both children to start")
    threading.Timer(0.1, supervisor.request_stop).start()

    assert supervisor.wait() == 0
    assert all(child.process.returncode == -signal.SIGTERM for child in supervisor.children)
    assert "one | up" in out.getvalue() and "two | up" in out.getvalue()


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
    ]
    out = io.StringIO()
    supervisor = Supervisor([("stubborn", stubborn)], out=out, grace=0.5)
    supervisor.start()
    wait_until(lambda: "| up" in out.getvalue(), 10, "the child to start")
    supervisor.request_stop()

    started = time.monotonic()
    assert supervisor.wait() == 0
    assert time.monotonic() - started < 5
    assert supervisor.children[0].process.returncode == -signal.SIGKILL
    assert "stubborn did not stop in 0.5s; killing it" in out.getvalue()


def test_sigint_to_runshop_process_stops_children(tmp_path):
    """The real entry point: SIGINT (Ctrl-C) to the supervisor stops its children and exits 0."""
    script = tmp_path / "sup.py"
    pidfile = tmp_path / "pids"
    script.write_text(
        "import os, pathlib, sys\n"
        "from shop.management.commands.runshop import Supervisor\n"
        "class Recording(Supervisor):\n"
        "    def start(self):\n"
        "        super().start()\n"
        # Written whole, then renamed: the test reads it as soon as it exists.
        "        pids = ' '.join(str(c.process.pid) for c in self.children)\n"
        f"        pathlib.Path({str(pidfile)!r} + '.tmp').write_text(pids)\n"
        f"        os.replace({str(pidfile)!r} + '.tmp', {str(pidfile)!r})\n"
        f"sys.exit(Recording([('a', {SLEEPER!r}), ('b', {SLEEPER!r})], grace=5).run())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    wait_until(pidfile.exists, 15, "the supervisor to start its children")
    pids = [int(p) for p in pidfile.read_text().split()]

    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=15)

    assert proc.returncode == 0
    assert "runshop | stopping (Ctrl-C again to kill at once)" in output
    assert not any(running(pid) for pid in pids)


def test_shop_children_web_worker_beat_and_optional_standin():
    without = dict(shop_children(addr="127.0.0.1:8000", standin=False))
    assert set(without) == {"web", "worker", "beat"}
    assert without["web"][-2:] == ["127.0.0.1:8000", "--noreload"]
    assert without["worker"][-5:] == ["worker", "-l", "info", "--concurrency", "2"]
    assert "beat" in without["beat"]

    with_standin = dict(shop_children(addr="127.0.0.1:8000", standin=True))
    paypal = with_standin["paypal"]
    assert paypal[2:5] == ["paypal_standin", "--port", "8765"]
    assert paypal[-1] == "http://127.0.0.1:8000/payments/paypal/webhook/"


def test_second_stop_request_kills_at_once():
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
    ]
    out = io.StringIO()
    supervisor = Supervisor([("stubborn", stubborn)], out=out, grace=30)
    supervisor.start()
    wait_until(lambda: "| up" in out.getvalue(), 10, "the child to start")
    supervisor.request_stop()
    threading.Timer(0.5, supervisor.request_stop).start()

    started = time.monotonic()
    assert supervisor.wait() == 0
    assert time.monotonic() - started < 5
    assert "stubborn asked to kill; killing it" in out.getvalue()


def test_children_get_site_url_from_the_address_unless_it_is_set(monkeypatch):
    """E-mail links and PayPal return URLs follow `runshop --addr`; an explicit SITE_URL wins."""
    from shop.management.commands.runshop import children_env

    monkeypatch.delenv("SITE_URL", raising=False)
    assert children_env("127.0.0.1:8200")["SITE_URL"] == "http://127.0.0.1:8200"
    monkeypatch.setenv("SITE_URL", "https://shop.example.com")
    assert children_env("127.0.0.1:8200")["SITE_URL"] == "https://shop.example.com"


# Holds a port like the web server or the stand-in; "slow" ignores SIGTERM, like a Celery worker
# still in its warm shutdown when the supervisor is killed.
PORT_HOLDER = (
    "import signal, socket, sys, time\n"
    "if sys.argv[2] == 'slow':\n"
    "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "server = socket.socket()\n"
    "server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "server.bind(('127.0.0.1', int(sys.argv[1])))\n"
    "server.listen()\n"
    "print('up', flush=True)\n"
    "time.sleep(120)\n"
)


@pytest.mark.parametrize("kill", ["supervisor", "group after sigterm"])
def test_children_die_with_a_killed_supervisor_and_free_their_ports(tmp_path, kill):
    """The review's case: runshop SIGKILLed on its own, or its process group SIGTERMed and then
    SIGKILLed while it is still stopping its children (well within its grace period): no child may
    keep running or keep its port."""
    ports = [free_port(), free_port()]
    children = [
        ("web", [sys.executable, "-c", PORT_HOLDER, str(ports[0]), "slow"]),
        ("paypal", [sys.executable, "-c", PORT_HOLDER, str(ports[1]), "quick"]),
    ]
    script = tmp_path / "sup.py"
    script.write_text(
        "import sys\n"
        "from shop.management.commands.runshop import Supervisor\n"
        f"sys.exit(Supervisor({children!r}, grace=60).run())\n"
    )
    log = tmp_path / "runshop.log"
    env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script)], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    pids: list[int] = []
    try:
        wait_until(lambda: log.read_text().count("| up") == 2, 20, "both children to listen", log)
        pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", log.read_text())]
        assert len(pids) == 2 and all(running(pid) for pid in pids)

        if kill == "supervisor":
            proc.kill()
            proc.wait(timeout=10)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
            wait_until(lambda: "runshop | stopping" in log.read_text(), 20, "runshop to start stopping", log)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

        wait_gone(pids, ports, log)
    finally:
        kill_all(pids)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
