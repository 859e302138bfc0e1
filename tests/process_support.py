"""Tests that run real processes: wait for a condition with a deadline (never a fixed sleep), see
whether a process still runs, whether a port is free, and kill what a failed test left behind."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path


def wait_until(
    predicate: Callable[[], object], timeout: float = 30, message: str = "condition", log: Path | None = None
) -> object:
    """Poll ``predicate`` (every 0.1 s) until it returns something true, and return that; fail after
    ``timeout`` seconds, showing ``log`` if given."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            text = f"\n{log.read_text(errors='replace')}" if log else ""
            raise AssertionError(f"Timed out after {timeout:g}s waiting for {message}{text}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_free(port: int) -> bool:
    """True when a server could listen on ``port`` again (as runserver and the stand-in do, with SO_REUSEADDR)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def running(pid: int) -> bool:
    """True while the process exists and is not a zombie: a dead orphan may stay a zombie until a
    reaper collects it (or forever, in a container whose PID 1 reaps nothing), and it holds no port."""
    stat = _stat(pid)
    return stat is not None and stat[0] not in {"Z", "X"}


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren, ...) at this moment."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            children.setdefault(int(stat[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def wait_gone(pids: Iterable[int], ports: Iterable[int], log: Path, timeout: float = 15) -> None:
    """Wait until none of ``pids`` runs and every one of ``ports`` is free."""
    pids, ports = list(pids), list(ports)

    def gone() -> bool:
        return not any(running(pid) for pid in pids) and all(port_free(port) for port in ports)

    try:
        wait_until(gone, timeout, "every child to die and free its port", log)
    except AssertionError as exc:
        alive = [pid for pid in pids if running(pid)]
        held = [port for port in ports if not port_free(port)]
        raise AssertionError(f"still running: {alive}; ports still held: {held}\n{exc}") from None


def kill_all(pids: Iterable[int]) -> None:
    """Clean-up after a failed test: nothing it started may keep running (or keep a port)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
