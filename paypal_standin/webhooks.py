"""Webhook deliveries of the PayPal stand-in: signed POSTs to the shop, in background threads, with retries.

Like PayPal, a delivery that does not get a 2xx answer is retried (here after the delays in
``state.webhook_retry_delays``, default 0.2 s, 0.5 s, 1 s), each attempt as a new transmission
(new transmission id, time and signature) of the same event. Every attempt is recorded in
``state.deliveries`` (``GET /_standin/webhooks``).
"""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request

from . import signing
from .state import Delivery, StandinState, now_iso, transmission_headers

USER_AGENT = "PayPal/AUT-JAVA (local stand-in)"
POST_TIMEOUT = 10.0


def dispatch(state: StandinState, deliveries: list[Delivery], *, wait: bool = False) -> list[dict]:
    """Start delivering; with ``wait`` return once every copy is delivered or has given up."""
    threads: list[threading.Thread] = []
    records: list[dict] = []
    for delivery in deliveries:
        with state.lock:
            url = state.webhook_url
        body = signing.canonical_body(delivery.event)
        barrier = threading.Barrier(delivery.copies) if delivery.concurrent and delivery.copies > 1 else None
        copy_records = []
        for number in range(1, delivery.copies + 1):
            record = {
                "event_id": delivery.event["id"],
                "event_type": delivery.event["event_type"],
                "copy": number,
                "url": url,
                "bad_signature": delivery.bad_signature,
                "concurrent": bool(barrier),
                "attempts": [],
                "delivered": False,
                "done": url is None,
                "skipped": "no webhook URL configured" if url is None else None,
            }
            state.record_delivery(record)
            records.append(record)
            copy_records.append(record)
        if url is None:
            continue
        if barrier:
            for record in copy_records:
                threads.append(_start(state, url, body, record, delivery.bad_signature, barrier))
        else:
            threads.append(_start_sequence(state, url, body, copy_records, delivery.bad_signature))
    if wait:
        for thread in threads:
            thread.join()
    return records


def _start(state, url, body, record, bad_signature, barrier) -> threading.Thread:
    thread = threading.Thread(
        target=_deliver, args=(state, url, body, record, bad_signature, barrier), daemon=True, name="standin-webhook"
    )
    thread.start()
    return thread


def _start_sequence(state, url, body, records, bad_signature) -> threading.Thread:
    def run():
        for record in records:
            _deliver(state, url, body, record, bad_signature, None)

    thread = threading.Thread(target=run, daemon=True, name="standin-webhook")
    thread.start()
    return thread


def _deliver(state: StandinState, url: str, body: bytes, record: dict, bad_signature: bool, barrier) -> None:
    with state.lock:
        delays = list(state.webhook_retry_delays)
    try:
        for attempt in range(len(delays) + 1):
            if attempt:
                time.sleep(delays[attempt - 1])
            headers = transmission_headers(state, body, bad_signature=bad_signature)
            request = urllib.request.Request(  # noqa: S310 -- the URL is the configured shop endpoint
                url,
                data=body,
                method="POST",
                headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
            )
            if barrier is not None and attempt == 0:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=5)
            result = {"transmission_id": headers["PAYPAL-TRANSMISSION-ID"], "time": now_iso()}
            try:
                with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as answer:  # noqa: S310
                    result["status"] = answer.status
            except urllib.error.HTTPError as error:
                result["status"] = error.code
            except (urllib.error.URLError, OSError) as error:
                result["status"] = None
                result["error"] = str(getattr(error, "reason", error))
            with state.lock:
                record["attempts"].append(result)
            if result["status"] is not None and 200 <= result["status"] < 300:
                with state.lock:
                    record["delivered"] = True
                return
    finally:
        with state.lock:
            record["done"] = True
