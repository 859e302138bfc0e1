"""Run work in threads released at the same moment (concurrency tests on real PostgreSQL)."""

from __future__ import annotations

import threading

from django.db import connection


def race(count, work):
    """Run ``work(i)`` in ``count`` threads released together; returns results (or exceptions) by index."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 -- collected for the assertions
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
