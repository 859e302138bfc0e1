"""``manage.py runshop``'s supervisor: prefixed output, stop-all on a signal or a dying child."""

import io
import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings

from shop.management.commands.runshop import Supervisor, shop_children

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


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
    assert sleeper.returncode is not None and not _alive(sleeper.pid)
    text = out.getvalue()
    assert "crasher | bye" in text
    assert "crasher exited with code 3; stopping the others" in text


def test_stop_request_terminates_every_child_and_exits_zero():
    out = io.StringIO()
    supervisor = Supervisor([("one", SLEEPER), ("two", SLEEPER)], out=out, grace=5)
    supervisor.start()
    deadline = time.monotonic() + 10
    while out.getvalue().count("| up") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
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
    while "| up" not in out.getvalue():
        time.sleep(0.05)
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
        "import sys\n"
        "from shop.management.commands.runshop import Supervisor\n"
        "class Recording(Supervisor):\n"
        "    def start(self):\n"
        "        super().start()\n"
        f"        open({str(pidfile)!r}, 'w').write(' '.join(str(c.process.pid) for c in self.children))\n"
        f"sys.exit(Recording([('a', {SLEEPER!r}), ('b', {SLEEPER!r})], grace=5).run())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    pids = [int(p) for p in pidfile.read_text().split()]

    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=15)

    assert proc.returncode == 0
    assert "runshop | stopping (Ctrl-C again to kill at once)" in output
    assert not any(_alive(pid) for pid in pids)


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
    while "| up" not in out.getvalue():
        time.sleep(0.05)
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
