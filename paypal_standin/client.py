"""A small client for the stand-in's control API (``/_standin/…``), stdlib only.

Works against an in-process stand-in (the ``paypal_standin`` pytest fixture yields one) and against
one started with ``manage.py paypal_standin`` (e.g. for browser tests): ``StandinClient("http://127.0.0.1:8765")``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode


class StandinControlError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"stand-in control API answered {status}: {message}")
        self.status = status


@dataclass
class SignedWebhook:
    """A signed webhook delivery to post yourself (``body`` is the exact signed JSON text)."""

    event: dict
    body: str
    headers: dict[str, str]

    @property
    def django_headers(self) -> dict[str, str]:
        """The headers as keyword arguments for Django's test client (``HTTP_PAYPAL_TRANSMISSION_ID`` …)."""
        return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in self.headers.items()}


class StandinClient:
    def __init__(self, url: str, *, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    # plumbing
    def _call(self, method: str, path: str, body: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 -- the stand-in's own URL
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                message = json.loads(text).get("error", text)
            except (ValueError, AttributeError):
                message = text
            raise StandinControlError(error.code, message) from None

    # configuration
    def configure(self, **settings) -> dict:
        return self._call("POST", "/_standin/config", settings)

    def set_webhook_url(self, url: str | None, *, webhook_id: str | None = None) -> dict:
        settings: dict = {"webhook_url": url}
        if webhook_id is not None:
            settings["webhook_id"] = webhook_id
        return self.configure(**settings)

    def config(self) -> dict:
        return self._call("GET", "/_standin/config")

    def reset(self) -> None:
        self._call("POST", "/_standin/reset", {})

    # the payer
    def approve(self, order_id: str, *, email_address: str | None = None) -> dict:
        """Approve as the payer would; returns ``{"id", "status", "redirect_url"}`` (return_url + token + PayerID)."""
        body = {"email_address": email_address} if email_address else {}
        return self._call("POST", f"/_standin/orders/{order_id}/approve", body)

    def cancel(self, order_id: str) -> dict:
        """Cancel as the payer would; returns ``{"id", "status", "redirect_url"}`` (cancel_url + token)."""
        return self._call("POST", f"/_standin/orders/{order_id}/cancel", {})

    # what PayPal knows
    @property
    def orders(self) -> dict[str, dict]:
        """Every order as ``GET /v2/checkout/orders/{id}`` would show it, by id."""
        return self._call("GET", "/_standin/orders")

    def order(self, order_id: str) -> dict:
        return self._call("GET", f"/_standin/orders/{order_id}")

    def settle_capture(self, capture_id: str, status: str = "COMPLETED") -> dict:
        """A PENDING capture becomes COMPLETED or DECLINED; the matching webhook is delivered (waited for)."""
        return self._call("POST", f"/_standin/captures/{capture_id}/settle", {"status": status})

    # faults
    def fault(self, operation: str, kind: str, times: int = 1) -> dict:
        return self._call("POST", "/_standin/faults", {"operation": operation, "kind": kind, "times": times})

    def faults(self) -> list[dict]:
        return self._call("GET", "/_standin/faults")

    # webhooks
    def send_webhook(
        self,
        order_id: str,
        event_type: str,
        copies: int = 1,
        concurrent: bool = False,
        bad_signature: bool = False,
        wait: bool = True,
    ) -> dict:
        """Deliver an event about the order to the configured webhook URL; returns ``{"event", "deliveries"}``."""
        return self._call(
            "POST",
            "/_standin/webhooks/send",
            {
                "order_id": order_id,
                "event_type": event_type,
                "copies": copies,
                "concurrent": concurrent,
                "bad_signature": bad_signature,
                "wait": wait,
            },
        )

    def build_webhook(self, order_id: str, event_type: str, bad_signature: bool = False) -> SignedWebhook:
        data = self._call(
            "POST",
            "/_standin/webhooks/build",
            {"order_id": order_id, "event_type": event_type, "bad_signature": bad_signature},
        )
        return SignedWebhook(event=data["event"], body=data["body"], headers=data["headers"])

    def webhooks(self) -> list[dict]:
        """Every delivery so far (event id and type, copy number, attempts with HTTP status, delivered, done)."""
        return self._call("GET", "/_standin/webhooks")

    def wait_for_webhooks(self, count: int, *, timeout: float = 10.0) -> list[dict]:
        """Wait until at least ``count`` deliveries are finished (delivered or given up); returns them all."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.webhooks()
            if sum(1 for r in records if r["done"]) >= count:
                return records
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {sum(1 for r in records if r['done'])} of {count} webhook deliveries done")
            time.sleep(0.02)

    # what the shop sent
    def requests(self, path: str = "") -> list[dict]:
        """Logged PayPal API requests (method, path, query, headers subset, body, status), oldest first."""
        query = f"?{urlencode({'path': path})}" if path else ""
        return self._call("GET", f"/_standin/requests{query}")
