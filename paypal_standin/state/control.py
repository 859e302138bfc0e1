"""The stand-in's own bookkeeping, driven by the control API (``/_standin/``): settings, faults, logs.

Also the ``PayPal-Request-Id`` store, which ``reset`` forgets with the rest.
"""

from __future__ import annotations

import copy

from .common import Response
from .errors import ApiError, ControlError, paypal_error

LOG_LIMIT = 5000  # request log and webhook delivery records kept

FAULT_KINDS = {
    "token": {"timeout", "500"},
    "create": {"timeout", "500"},
    "capture": {"timeout", "500", "denied", "pending", "amount_mismatch", "duplicate_webhook"},
    "refund": {"timeout", "500", "duplicate_webhook"},
    "track": {"timeout", "500"},
}


class ControlMixin:
    """Settings, faults, idempotency store and logs of :class:`StandinState`."""

    def reset(self) -> None:
        """Forget orders, captures, refunds, events, faults and logs (tokens stay valid)."""
        with self.lock:
            self.orders: dict[str, dict] = {}
            self.captures: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.events: dict[str, dict] = {}
            self.idempotency: dict[tuple[str, str], Response] = {}
            self.faults: list[dict] = []
            self.request_log: list[dict] = []
            self.deliveries: list[dict] = []

    @property
    def cert_url(self) -> str:
        return f"{self.base_url}/_standin/cert"

    def configure(self, **changes) -> dict:
        allowed = {"webhook_url", "webhook_id", "timeout_delay", "webhook_retry_delays", "merchant_email"}
        unknown = set(changes) - allowed
        if unknown:
            raise ControlError(400, f"unknown setting(s): {', '.join(sorted(unknown))}; allowed: {sorted(allowed)}")
        with self.lock:
            for key, value in changes.items():
                if key == "timeout_delay":
                    value = float(value)
                if key == "webhook_retry_delays":
                    value = tuple(float(v) for v in value)
                setattr(self, key, value)
            return self.config()

    def config(self) -> dict:
        with self.lock:
            return {
                "base_url": self.base_url,
                "webhook_url": self.webhook_url,
                "webhook_id": self.webhook_id,
                "timeout_delay": self.timeout_delay,
                "webhook_retry_delays": list(self.webhook_retry_delays),
                "merchant_email": self.merchant_email,
                "cert_url": self.cert_url,
            }

    def log_request(self, entry: dict) -> None:
        with self.lock:
            self.request_log.append(entry)
            del self.request_log[:-LOG_LIMIT]  # a long-running stand-in keeps the latest entries only

    def record_delivery(self, record: dict) -> None:
        with self.lock:
            self.deliveries.append(record)
            del self.deliveries[:-LOG_LIMIT]

    def add_fault(self, *, operation: str, kind: str, times: int = 1) -> dict:
        if operation not in FAULT_KINDS:
            raise ControlError(400, f"unknown operation {operation!r}; one of {sorted(FAULT_KINDS)}")
        if kind not in FAULT_KINDS[operation]:
            raise ControlError(
                400, f"fault {kind!r} does not apply to {operation!r}; one of {sorted(FAULT_KINDS[operation])}"
            )
        if not isinstance(times, int) or times < 1:
            raise ControlError(400, "times must be a positive integer")
        fault = {"operation": operation, "kind": kind, "remaining": times}
        with self.lock:
            self.faults.append(fault)
            return dict(fault)

    def _take_fault(self, operation: str) -> str | None:
        for fault in self.faults:
            if fault["operation"] == operation and fault["remaining"] > 0:
                fault["remaining"] -= 1
                if not fault["remaining"]:
                    self.faults.remove(fault)
                return fault["kind"]
        return None

    def _replay(self, path: str, request_id: str | None) -> Response | None:
        if request_id and (path, request_id) in self.idempotency:
            stored = self.idempotency[(path, request_id)]
            return Response(stored.status, copy.deepcopy(stored.body))
        return None

    def _remember(self, path: str, request_id: str | None, response: Response) -> None:
        if request_id:
            self.idempotency[(path, request_id)] = Response(response.status, copy.deepcopy(response.body))

    def _hold(self, kind: str | None) -> float:
        return self.timeout_delay if kind == "timeout" else 0.0

    def _fail_500(self, api: str) -> ApiError:
        return paypal_error(500, api=api)
