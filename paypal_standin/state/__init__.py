"""In-memory state and business rules of the PayPal stand-in.

Everything here is plain Python (no Django, no HTTP): each public method takes the parsed request and
returns a :class:`Response` or raises :class:`ApiError`; ``server.py`` does the HTTP around it. All
state lives behind one re-entrant lock, so the threaded server can run requests concurrently.

``StandinState`` is put together from one mixin per resource: ``auth`` (OAuth tokens), ``orders``,
``captures`` (captures and refunds), ``trackers`` (tracking numbers added to an order), ``events``
(webhook events and signatures), ``rendering`` (the JSON bodies) and ``control`` (settings, faults,
idempotency store, logs); ``errors`` builds PayPal's error bodies and ``common`` holds the answer
types and ids. The mixins share the attributes set here and in
``ControlMixin.reset``.

Bodies follow PayPal's published OpenAPI documents (Orders v2, Payments v2, Webhooks v1); the contract
test ``tests/payments/test_standin_contract.py`` validates them against the schemas. Where PayPal has
a documented default the stand-in keeps it, so code that works here also works against PayPal:

* ``POST /v2/checkout/orders`` and ``POST /v2/payments/captures/{id}/refund`` answer minimally
  (``id``, ``status``, ``links``) unless the caller sends ``Prefer: return=representation``.
* ``POST /v2/checkout/orders/{id}/capture`` always returns the purchase units with their captures.
* The capture status, not the order status, says whether money moved: a declined capture still
  completes the order (``status: COMPLETED``) with ``captures[0].status == "DECLINED"``.
* ``PayPal-Request-Id``: a successful (2xx) answer is stored under (path, request id); the same id on
  the same path gets the stored answer again and changes nothing. Errors are not stored, so a retry
  after an error is processed afresh.
"""

from __future__ import annotations

import secrets
import threading

from .auth import AuthMixin
from .captures import CapturesMixin
from .common import Delivery, Response, new_id, now_iso
from .control import ControlMixin
from .errors import ApiError, ControlError, paypal_error
from .events import EventsMixin, transmission_headers
from .orders import OrdersMixin
from .rendering import RenderingMixin
from .trackers import TrackersMixin


class StandinState(AuthMixin, OrdersMixin, CapturesMixin, TrackersMixin, EventsMixin, RenderingMixin, ControlMixin):
    """All orders, captures, refunds, tokens, faults and logs of one stand-in instance."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str = "STANDINWEBHOOK",
        webhook_url: str | None = None,
        timeout_delay: float = 3.0,
        merchant_email: str = "merchant@example.com",
        token_ttl: int = 32400,
        webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0),
    ):
        self.lock = threading.RLock()
        self.base_url = "http://127.0.0.1"
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.webhook_url = webhook_url
        self.timeout_delay = timeout_delay
        self.merchant_email = merchant_email
        self.token_ttl = token_ttl
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.signing_secret = secrets.token_bytes(32)
        self.app_id = "APP-" + new_id(17)
        self.tokens: dict[str, float] = {}
        self.reset()


__all__ = [
    "ApiError",
    "ControlError",
    "Delivery",
    "Response",
    "StandinState",
    "now_iso",
    "paypal_error",
    "transmission_headers",
]
