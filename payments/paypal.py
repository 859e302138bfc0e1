"""The PayPal client: Orders v2 (create, get, capture, track) and Payments v2 (refund), mostly via paypal-server-sdk.

This module only talks HTTP and returns PayPal's JSON as dicts; deciding what an answer means for
an order is the job of ``payments.services``. Every POST carries a ``PayPal-Request-Id`` chosen by
the caller from the order and the operation, so a retry after a timeout is answered with the first
result instead of capturing or refunding twice (PAY-PAYPAL, PAY-REFUND-SAME-WAY).

The SDK's base URLs are PayPal's sandbox and live hosts; ``settings.PAYPAL_API_BASE`` (the local
stand-in, the sandbox or live) is honoured by overriding ``Configuration.get_base_uri()``. The SDK's
``from_environment()`` is never used: it loads ``.env`` over the process environment.
"""

from __future__ import annotations

import json
import logging
import threading
from decimal import Decimal

import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from django.conf import settings
from paypalserversdk.configuration import Configuration, Environment
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

logger = logging.getLogger(__name__)


class PayPalError(Exception):
    """PayPal answered with an error (4xx): retrying the same request will not help."""

    def __init__(self, message: str, *, status_code: int | None = None, name: str = "", issue: str = ""):
        super().__init__(message)
        self.status_code, self.name, self.issue = status_code, name, issue


class PayPalUnavailable(PayPalError):
    """No usable answer (timeout, connection refused, 5xx, no token): retry later with the same request id."""


class _Configuration(Configuration):
    """The SDK's configuration pointed at ``settings.PAYPAL_API_BASE`` (stand-in, sandbox or live)."""

    def __init__(self, *args, base_uri: str, **kwargs):
        self._base_uri = base_uri
        super().__init__(*args, **kwargs)

    def get_base_uri(self, server=None):
        return self._base_uri


_clients: dict[tuple, PaypalServersdkClient] = {}
_tokens: dict[tuple, object] = {}
_lock = threading.Lock()


def _settings_key() -> tuple:
    return (
        settings.PAYPAL_API_BASE.rstrip("/"),
        settings.PAYPAL_CLIENT_ID,
        settings.PAYPAL_CLIENT_SECRET,
        float(settings.PAYPAL_TIMEOUT),
    )


def client() -> PaypalServersdkClient:
    """One SDK client per configuration (it caches the OAuth token between calls)."""
    key = _settings_key()
    with _lock:
        if key not in _clients:
            base, client_id, secret, timeout = key

            def remember_token(token, key=key):
                _tokens[key] = token

            config = _Configuration(
                base_uri=base,
                timeout=timeout,
                max_retries=0,  # retries are ours, with the same PayPal-Request-Id
                environment=Environment.SANDBOX,
                client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                    o_auth_client_id=client_id,
                    o_auth_client_secret=secret,
                    o_auth_on_token_update=remember_token,
                ),
            )
            _clients[key] = PaypalServersdkClient(config=config)
        return _clients[key]


def _call(operation: str, fn, options: dict) -> dict:
    try:
        response = fn(options)
    except (requests.Timeout, requests.ConnectionError) as exc:
        logger.warning("PayPal %s: no answer (%s)", operation, exc)
        raise PayPalUnavailable(f"PayPal did not answer ({type(exc).__name__}).") from exc
    except AuthValidationException as exc:
        logger.warning("PayPal %s: no OAuth token (%s)", operation, exc)
        raise PayPalUnavailable("Could not sign in to PayPal.") from exc
    except ApiException as exc:
        raise _error(operation, exc) from exc
    if response.status_code >= 500:
        raise PayPalUnavailable(f"PayPal answered {response.status_code}.", status_code=response.status_code)
    return json.loads(response.text or "{}")


def _error(operation: str, exc: ApiException) -> PayPalError:
    return _error_answer(operation, exc.response_code, getattr(exc.response, "text", "") or "", default=str(exc))


def _error_answer(operation: str, status: int | None, text: str, *, default: str) -> PayPalError:
    """PayPal's error body as an exception: 5xx, 429 or no status → PayPalUnavailable (retry), else PayPalError."""
    name = issue = ""
    try:
        body = json.loads(text)
        name = body.get("name", "")
        details = body.get("details") or []
        issue = details[0].get("issue", "") if details else ""
        message = body.get("message", "") or default
    except (ValueError, AttributeError):
        message = default
    logger.warning("PayPal %s failed: %s %s %s %s", operation, status, name, issue, message)
    cls = PayPalUnavailable if status is None or status >= 500 or status == 429 else PayPalError
    return cls(f"PayPal refused {operation}: {issue or name or message}", status_code=status, name=name, issue=issue)


def money(amount: Decimal, currency: str) -> dict:
    return {"currency_code": currency, "value": str(amount)}


def order_create(*, body: dict, request_id: str) -> dict:
    """POST /v2/checkout/orders. ``body`` is an Orders v2 request as a dict (see gateways.paypal_order_body)."""
    return _call(
        "create order",
        client().orders.create_order,
        {
            "body": OrderRequest.from_dictionary(body),
            "paypal_request_id": request_id,
            "prefer": "return=representation",
        },
    )


def order_get(*, paypal_order_id: str) -> dict:
    return _call("get order", client().orders.get_order, {"id": paypal_order_id})


def order_capture(*, paypal_order_id: str, request_id: str) -> dict:
    return _call(
        "capture",
        client().orders.capture_order,
        {"id": paypal_order_id, "paypal_request_id": request_id, "prefer": "return=representation"},
    )


def capture_refund(*, capture_id: str, amount: Decimal, currency: str, request_id: str, note: str = "") -> dict:
    body = {"amount": money(amount, currency), "custom_id": request_id[:127]}
    if note:
        body["note_to_payer"] = note[:255]
    return _call(
        "refund",
        client().payments.refund_captured_payment,
        {
            "capture_id": capture_id,
            "body": RefundRequest.from_dictionary(body),
            "paypal_request_id": request_id,
            "prefer": "return=representation",
        },
    )


def order_track(*, paypal_order_id: str, body: dict, request_id: str) -> dict:
    """POST /v2/checkout/orders/{id}/track: add a parcel's tracking number to a captured order (SHIP-NOTICES).

    ``body`` is an Orders v2 ``order_tracker_request`` (``capture_id``, ``tracking_number``, ``carrier``…).
    Sent with ``requests`` rather than the SDK: the SDK's ``create_order_tracking`` sends no
    ``PayPal-Request-Id`` and its ``OrderTrackerRequest`` drops ``transaction_id`` and ``status``,
    which the published schema requires. Returns the order as PayPal shows it, trackers included.
    """
    url = f"{settings.PAYPAL_API_BASE.rstrip('/')}/v2/checkout/orders/{paypal_order_id}/track"
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {access_token()}",
        "PayPal-Request-Id": request_id,
    }
    try:
        response = requests.post(url, json=body, headers=headers, timeout=float(settings.PAYPAL_TIMEOUT))
    except (requests.Timeout, requests.ConnectionError) as exc:
        logger.warning("PayPal track: no answer (%s)", exc)
        raise PayPalUnavailable(f"PayPal did not answer ({type(exc).__name__}).") from exc
    if response.status_code >= 400:
        raise _error_answer("the tracking number", response.status_code, response.text, default=response.reason)
    try:
        return response.json()
    except ValueError as exc:
        raise PayPalUnavailable("PayPal answered something that is not JSON.") from exc


def access_token() -> str:
    """The SDK's OAuth token (fetched through its OAuth controller and cached by it)."""
    sdk = client()
    try:
        valid = sdk.oauth_2.is_valid()
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise PayPalUnavailable("PayPal did not answer the token request.") from exc
    token = _tokens.get(_settings_key())
    if not valid or token is None:
        raise PayPalUnavailable("Could not sign in to PayPal.")
    return token.access_token


#: The transmission headers PayPal sends with a webhook, and their names in the verification request.
WEBHOOK_HEADERS = {
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "cert_url": "PAYPAL-CERT-URL",
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
}


def webhook_verify(*, headers, raw_body: bytes) -> bool:
    """POST /v1/notifications/verify-webhook-signature (the SDK has no call for it).

    The event is passed as the exact bytes received (spliced into the request), never re-serialised,
    because PayPal's signature covers the body as it was sent. Raises PayPalUnavailable when PayPal
    cannot answer; returns False when it answers that the signature is wrong.
    """
    fields = {}
    for name, header in WEBHOOK_HEADERS.items():
        value = headers.get(header, "")
        if not value:
            logger.warning("PayPal webhook without %s header", header)
            return False
        fields[name] = value
    fields["webhook_id"] = settings.PAYPAL_WEBHOOK_ID
    prefix = json.dumps(fields)[:-1]  # drop the closing brace, append the event as received
    body = f'{prefix}, "webhook_event": '.encode() + raw_body + b"}"
    url = settings.PAYPAL_API_BASE.rstrip("/") + "/v1/notifications/verify-webhook-signature"
    try:
        response = requests.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {access_token()}"},
            timeout=float(settings.PAYPAL_TIMEOUT),
        )
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise PayPalUnavailable("PayPal did not answer the signature check.") from exc
    if response.status_code >= 500:
        raise PayPalUnavailable(f"PayPal answered {response.status_code} to the signature check.")
    if response.status_code != 200:
        logger.warning("PayPal webhook verification refused: %s %s", response.status_code, response.text[:300])
        return False
    try:
        status = response.json().get("verification_status")
    except ValueError:
        return False
    return status == "SUCCESS"
