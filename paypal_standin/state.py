"""In-memory state and business rules of the PayPal stand-in.

Everything here is plain Python (no Django, no HTTP): each public method takes the parsed request and
returns a :class:`Response` or raises :class:`ApiError`; ``server.py`` does the HTTP around it. All
state lives behind one re-entrant lock, so the threaded server can run requests concurrently.

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

import copy
import secrets
import string
import threading
import time
import uuid
from base64 import b64decode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import money as m
from . import signing

ID_ALPHABET = string.ascii_uppercase + string.digits
PAYER_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # PayPal account ids: ^[2-9A-HJ-NP-Z]{13}$
MERCHANT_ID = "2STANDXNMERCH"
LOG_LIMIT = 5000  # request log and webhook delivery records kept

FAULT_KINDS = {
    "token": {"timeout", "500"},
    "create": {"timeout", "500"},
    "capture": {"timeout", "500", "denied", "pending", "amount_mismatch", "duplicate_webhook"},
    "refund": {"timeout", "500", "duplicate_webhook"},
}

CAPTURE_EVENTS = {
    "COMPLETED": "PAYMENT.CAPTURE.COMPLETED",
    "DECLINED": "PAYMENT.CAPTURE.DENIED",
    "PENDING": "PAYMENT.CAPTURE.PENDING",
}
EVENT_CAPTURE_STATUS = {event: status for status, event in CAPTURE_EVENTS.items()}
SUPPORTED_EVENTS = (
    "CHECKOUT.ORDER.APPROVED",
    "PAYMENT.CAPTURE.COMPLETED",
    "PAYMENT.CAPTURE.DENIED",
    "PAYMENT.CAPTURE.PENDING",
    "PAYMENT.CAPTURE.REFUNDED",
)

ERRORS = {
    400: ("INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema."),
    401: (
        "AUTHENTICATION_FAILURE",
        "Authentication failed due to missing authorization header, or invalid authentication credentials.",
    ),
    404: ("RESOURCE_NOT_FOUND", "The specified resource does not exist."),
    422: (
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
    ),
    500: ("INTERNAL_SERVER_ERROR", "An internal server error occurred."),
}

# Issue descriptions exactly as the specs enumerate them (the contract test checks them).
DESCRIPTIONS = {
    "MALFORMED_REQUEST_JSON": "The request JSON is not well formed.",
    "MISSING_REQUIRED_PARAMETER": "A required parameter is missing.",
    "INVALID_PARAMETER_VALUE": "A parameter value is not valid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "INVALID_ARRAY_MIN_ITEMS": "The number of items in an array parameter is too small.",
    "INVALID_ARRAY_MAX_ITEMS": "The number of items in an array parameter is too large.",
    "NOT_SUPPORTED": "This field is not currently supported.",
    "INVALID_RESOURCE_ID": "Specified resource ID does not exist. Please check the resource ID and try again.",
    "AMOUNT_MISMATCH": "Should equal item_total + tax_total + shipping + handling + insurance - shipping_discount"
    " - discount.",
    "ITEM_TOTAL_MISMATCH": "Should equal sum of (unit_amount * quantity) across all items for a given purchase_unit.",
    "ITEM_TOTAL_REQUIRED": "If item details are specified (items.unit_amount and items.quantity) corresponding"
    " amount.breakdown.item_total is required.",
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero. If the currency supports decimals, only two decimal"
    " place precision is supported.",
    "CANNOT_BE_NEGATIVE": "Must be greater than or equal to 0. If the currency supports decimals, only two decimal"
    " place precision is supported.",
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision is supported.",
    "UNSUPPORTED_INTENT": "`intent=AUTHORIZE` is not supported for multiple purchase units. Only `intent=CAPTURE` is"
    " supported.",
    "MULTI_CURRENCY_ORDER": "Multiple differing values of currency_code are not supported. Entire Order request must"
    " have the same currency_code.",
    "INVALID_CURRENCY_CODE": "Currency code is invalid or is not currently supported. Please refer"
    " https://developer.paypal.com/api/rest/reference/currency-codes/ for list of supported currency codes.",
    "DUPLICATE_REFERENCE_ID": "`reference_id` must be unique if multiple purchase_units are provided.",
    "REFERENCE_ID_REQUIRED": "'reference_id' is required for each 'purchase_unit' if multiple 'purchase_unit' are"
    " provided.",
    "ORDER_NOT_APPROVED": "Payer has not yet approved the Order for payment. Please redirect the payer to the"
    " 'rel':'approve' url returned as part of the HATEOAS links within the Create Order call or provide a valid"
    " `payment_source` in the request.",
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per order is allowed.",
    "REFUND_AMOUNT_EXCEEDED": "The refund amount must be less than or equal to the capture amount that has not yet"
    " been refunded.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture",
    "REFUND_NOT_ALLOWED": "Capture cannot be refunded.",
    "PENDING_CAPTURE": "Cannot initiate a refund as the capture is pending. Capture is typically pending when the"
    " payer has funded the transaction using e-check/bank funded.",
}
# Issues whose description the specs leave free (no enum): our own wording.
FREE_DESCRIPTIONS = {
    ("payments", "CANNOT_BE_ZERO_OR_NEGATIVE"): "Must be greater than zero.",
    ("payments", "DECIMAL_PRECISION"): "The value of the field should not be more than two decimals.",
    ("payments", "MISSING_REQUIRED_PARAMETER"): "A required field / parameter is missing.",
    ("payments", "INVALID_PARAMETER_SYNTAX"): "The value of a field does not conform to the expected format.",
}
BREAKDOWN_ADD = ("item_total", "tax_total", "shipping", "handling", "insurance")
BREAKDOWN_SUBTRACT = ("shipping_discount", "discount")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_id(length: int = 17) -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def new_payer_id() -> str:
    return "".join(secrets.choice(PAYER_ID_ALPHABET) for _ in range(13))


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


class ApiError(Exception):
    """An error answer: HTTP status plus PayPal's error body."""

    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body.get('name') or body.get('error')}")
        self.status = status
        self.body = body


class ControlError(Exception):
    """Bad use of the stand-in's own control API (``/_standin/``)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def paypal_error(
    status: int,
    issue: str | None = None,
    *,
    api: str = "orders",
    field: str | None = None,
    value: str | None = None,
    location: str = "body",
    description: str | None = None,
) -> ApiError:
    name, message = ERRORS[status]
    body: dict = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if issue:
        detail: dict = {}
        if field:
            detail["field"] = field
        if value is not None:
            detail["value"] = str(value)
        if field or location != "body":
            detail["location"] = location
        detail["issue"] = issue
        detail["description"] = (
            description or FREE_DESCRIPTIONS.get((api, issue)) or DESCRIPTIONS.get(issue) or issue.replace("_", " ")
        )
        body["details"] = [detail]
        body["links"] = [
            {
                "href": f"https://developer.paypal.com/docs/api/{api}/v2/#error-{issue}",
                "rel": "information_link",
                "method": "GET",
            }
        ]
    return ApiError(status, body)


@dataclass
class Delivery:
    """A webhook event to deliver (``copies`` transmissions of the same event)."""

    event: dict
    copies: int = 1
    concurrent: bool = False
    bad_signature: bool = False


@dataclass
class Response:
    status: int
    body: dict | None
    hold: float = 0.0  # seconds to hold the answer back (the "timeout" fault)
    deliveries: list[Delivery] = field(default_factory=list)


class StandinState:
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

    # ------------------------------------------------------------------ bookkeeping
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

    # ------------------------------------------------------------------ OAuth
    def issue_token(self, *, authorization: str | None, form: dict) -> Response:
        """``POST /v1/oauth2/token`` (HTTP Basic client id/secret, ``grant_type=client_credentials``)."""
        with self.lock:
            client_id, secret = _basic_credentials(authorization)
            if client_id != self.client_id or secret != self.client_secret:
                raise ApiError(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
            if form.get("grant_type") != "client_credentials":
                raise ApiError(
                    400,
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "Grant Type is NULL"
                        if not form.get("grant_type")
                        else f"Grant Type {form['grant_type']!r} is not supported",
                    },
                )
            kind = self._take_fault("token")
            if kind == "500":
                raise ApiError(
                    500, {"error": "server_error", "error_description": "An internal server error occurred."}
                )
            token = "A21AA" + secrets.token_urlsafe(48)
            self.tokens[token] = time.time() + self.token_ttl
            body = {
                "scope": "https://uri.paypal.com/services/payments/payment "
                "https://uri.paypal.com/services/payments/refund "
                "https://uri.paypal.com/services/payments/orders/client_sdk_orders_api",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": self.app_id,
                "expires_in": self.token_ttl,
                "nonce": f"{now_iso()}{secrets.token_hex(8)}",
            }
            return Response(200, body, hold=self._hold(kind))

    def check_bearer(self, authorization: str | None, *, api: str = "orders") -> None:
        scheme, _, token = (authorization or "").partition(" ")
        with self.lock:
            expiry = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
            if expiry is None or expiry < time.time():
                raise paypal_error(401, api=api)

    # ------------------------------------------------------------------ orders
    def create_order(self, *, body, request_id: str | None, prefer: str | None, path: str) -> Response:
        with self.lock:
            replay = self._replay(path, request_id)
            if replay:
                return replay
            purchase_units, payment_source, return_url, cancel_url = self._validate_order_request(body)
            kind = self._take_fault("create")
            if kind == "500":
                raise self._fail_500("orders")
            stamp = now_iso()
            order = {
                "id": new_id(),
                "intent": body["intent"],
                "status": "PAYER_ACTION_REQUIRED" if payment_source else "CREATED",
                "purchase_units": purchase_units,
                "payment_source_requested": payment_source,
                "return_url": return_url,
                "cancel_url": cancel_url,
                "payer": None,
                "cancelled": False,
                "create_time": stamp,
                "update_time": stamp,
                "capture_ids": [],
            }
            self.orders[order["id"]] = order
            response = Response(201, self._order_answer(order, prefer), hold=self._hold(kind))
            self._remember(path, request_id, response)
            return response

    def _validate_order_request(self, body) -> tuple[list[dict], dict | None, str | None, str | None]:
        if not isinstance(body, dict):
            raise paypal_error(400, "MALFORMED_REQUEST_JSON")
        intent = body.get("intent")
        if intent is None:
            raise paypal_error(400, "MISSING_REQUIRED_PARAMETER", field="/intent")
        if intent not in ("CAPTURE", "AUTHORIZE"):
            raise paypal_error(400, "INVALID_PARAMETER_VALUE", field="/intent", value=intent)
        if intent != "CAPTURE":
            raise paypal_error(422, "UNSUPPORTED_INTENT", field="/intent", value=intent)
        units = body.get("purchase_units")
        if units is None:
            raise paypal_error(400, "MISSING_REQUIRED_PARAMETER", field="/purchase_units")
        if not isinstance(units, list) or not units:
            raise paypal_error(400, "INVALID_ARRAY_MIN_ITEMS", field="/purchase_units")
        if len(units) > 10:
            raise paypal_error(400, "INVALID_ARRAY_MAX_ITEMS", field="/purchase_units")
        references = [u.get("reference_id") for u in units if isinstance(u, dict)]
        if len(units) > 1 and not all(references):
            raise paypal_error(422, "REFERENCE_ID_REQUIRED", field="/purchase_units")
        if len(set(references)) != len(references):
            raise paypal_error(422, "DUPLICATE_REFERENCE_ID", field="/purchase_units")
        currencies: set[str] = set()
        cleaned = []
        for index, unit in enumerate(units):
            if not isinstance(unit, dict):
                raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=f"/purchase_units/{index}")
            reference = unit.get("reference_id") or "default"
            prefix = f"/purchase_units/@reference_id=='{reference}'"
            amount = unit.get("amount")
            if not isinstance(amount, dict):
                raise paypal_error(400, "MISSING_REQUIRED_PARAMETER", field=f"{prefix}/amount")
            total = _amount(amount, f"{prefix}/amount", currencies, positive=True)
            breakdown = amount.get("breakdown")
            parts: dict[str, Decimal] = {}
            if breakdown is not None:
                if not isinstance(breakdown, dict):
                    raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=f"{prefix}/amount/breakdown")
                for key in (*BREAKDOWN_ADD, *BREAKDOWN_SUBTRACT):
                    if key in breakdown:
                        parts[key] = _amount(breakdown[key], f"{prefix}/amount/breakdown/{key}", currencies)
                expected = sum((parts.get(k, Decimal(0)) for k in BREAKDOWN_ADD), Decimal(0)) - sum(
                    (parts.get(k, Decimal(0)) for k in BREAKDOWN_SUBTRACT), Decimal(0)
                )
                if expected != total:
                    raise paypal_error(422, "AMOUNT_MISMATCH", field=f"{prefix}/amount/value", value=amount["value"])
            items = unit.get("items")
            if items is not None:
                if not isinstance(items, list):
                    raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=f"{prefix}/items")
                item_sum = Decimal(0)
                for position, item in enumerate(items):
                    where = f"{prefix}/items/{position}"
                    if not isinstance(item, dict):
                        raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=where)
                    for key in ("name", "unit_amount", "quantity"):
                        if key not in item:
                            raise paypal_error(400, "MISSING_REQUIRED_PARAMETER", field=f"{where}/{key}")
                    quantity = item["quantity"]
                    if not isinstance(quantity, str) or not quantity.isdigit() or quantity.startswith("0"):
                        raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=f"{where}/quantity", value=quantity)
                    item_sum += _amount(item["unit_amount"], f"{where}/unit_amount", currencies) * int(quantity)
                if items and "item_total" not in parts:
                    raise paypal_error(422, "ITEM_TOTAL_REQUIRED", field=f"{prefix}/amount/breakdown/item_total")
                if items and item_sum != parts["item_total"]:
                    raise paypal_error(
                        422,
                        "ITEM_TOTAL_MISMATCH",
                        field=f"{prefix}/amount/breakdown/item_total/value",
                        value=breakdown["item_total"]["value"],
                    )
            cleaned.append({**copy.deepcopy(unit), "reference_id": reference})
        payment_source = body.get("payment_source")
        return_url = cancel_url = None
        context = body.get("application_context")
        if isinstance(context, dict):
            return_url, cancel_url = context.get("return_url"), context.get("cancel_url")
        if payment_source is not None:
            if not isinstance(payment_source, dict) or set(payment_source) - {"paypal"}:
                others = sorted(set(payment_source) - {"paypal"}) if isinstance(payment_source, dict) else [""]
                raise paypal_error(400, "NOT_SUPPORTED", field=f"/payment_source/{others[0]}".rstrip("/"))
            experience = (payment_source.get("paypal") or {}).get("experience_context") or {}
            return_url = experience.get("return_url") or return_url
            cancel_url = experience.get("cancel_url") or cancel_url
        return cleaned, payment_source, return_url, cancel_url

    def get_order(self, order_id: str) -> Response:
        with self.lock:
            return Response(200, self._order_json(self._order(order_id)))

    def capture_order(self, order_id: str, *, request_id: str | None, prefer: str | None, path: str) -> Response:
        with self.lock:
            replay = self._replay(path, request_id)
            if replay:
                return replay
            order = self._order(order_id)
            if order["status"] == "COMPLETED":
                raise paypal_error(422, "ORDER_ALREADY_CAPTURED", location="path", field="order_id", value=order_id)
            if order["status"] != "APPROVED":
                raise paypal_error(422, "ORDER_NOT_APPROVED", location="path", field="order_id", value=order_id)
            kind = self._take_fault("capture")
            if kind == "500":
                raise self._fail_500("orders")
            stamp = now_iso()
            deliveries = []
            for index, unit in enumerate(order["purchase_units"]):
                currency = unit["amount"]["currency_code"]
                value = Decimal(unit["amount"]["value"])
                if kind == "amount_mismatch":  # one unit less (or more, for tiny amounts) than the order's
                    value = value - 1 if value > 1 else value + 1
                status = {"denied": "DECLINED", "pending": "PENDING"}.get(kind or "", "COMPLETED")
                capture = {
                    "id": new_id(),
                    "order_id": order_id,
                    "unit_index": index,
                    "status": status,
                    "status_details": {"reason": "PENDING_REVIEW"} if status == "PENDING" else None,
                    "amount": m.money(value, currency),
                    "custom_id": unit.get("custom_id"),
                    "invoice_id": unit.get("invoice_id"),
                    "refund_ids": [],
                    "create_time": stamp,
                    "update_time": stamp,
                }
                self.captures[capture["id"]] = capture
                order["capture_ids"].append(capture["id"])
                event = self._capture_event(capture, CAPTURE_EVENTS[status])
                deliveries.append(Delivery(event, copies=2 if kind == "duplicate_webhook" else 1))
            order["status"] = "COMPLETED"
            order["update_time"] = stamp
            if prefer and "return=representation" in prefer:
                body = self._order_json(order)
            else:
                body = self._capture_answer(order)
            response = Response(201, body, hold=self._hold(kind), deliveries=deliveries)
            self._remember(path, request_id, response)
            return response

    def approve(self, order_id: str, *, email: str | None = None) -> dict:
        """The payer approves (approval page or control API). Returns the redirect for the browser."""
        with self.lock:
            order = self._control_order(order_id)
            if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
                payer_id = new_payer_id()
                order["payer"] = {
                    "name": {"given_name": "Test", "surname": "Buyer"},
                    "email_address": email or "buyer@example.com",
                    "payer_id": payer_id,
                    "address": {"country_code": "RU"},
                }
                order["status"] = "APPROVED"
                order["cancelled"] = False
                order["update_time"] = now_iso()
            elif order["status"] != "APPROVED":
                raise ControlError(409, f"order {order_id} is {order['status']} and cannot be approved")
            redirect = None
            if order["return_url"]:
                redirect = with_query(order["return_url"], token=order_id, PayerID=order["payer"]["payer_id"])
            return {"id": order_id, "status": order["status"], "redirect_url": redirect}

    def cancel(self, order_id: str) -> dict:
        """The payer cancels on the approval page: the order stays unapproved (as at PayPal)."""
        with self.lock:
            order = self._control_order(order_id)
            if order["status"] not in ("CREATED", "PAYER_ACTION_REQUIRED"):
                raise ControlError(409, f"order {order_id} is {order['status']} and cannot be cancelled")
            order["cancelled"] = True
            redirect = with_query(order["cancel_url"], token=order_id) if order["cancel_url"] else None
            return {"id": order_id, "status": order["status"], "redirect_url": redirect}

    # ------------------------------------------------------------------ captures and refunds
    def get_capture(self, capture_id: str) -> Response:
        with self.lock:
            return Response(200, self._capture_json(self._capture(capture_id), standalone=True))

    def get_refund(self, refund_id: str) -> Response:
        with self.lock:
            refund = self.refunds.get(refund_id)
            if refund is None:
                raise paypal_error(404, "INVALID_RESOURCE_ID", api="payments", location="path", field="refund_id")
            return Response(200, self._refund_json(refund))

    def refund_capture(self, capture_id: str, *, body, request_id: str | None, prefer: str | None, path: str):
        with self.lock:
            replay = self._replay(path, request_id)
            if replay:
                return replay
            capture = self._capture(capture_id)
            body = body if body is not None else {}
            if not isinstance(body, dict):
                raise paypal_error(400, "MALFORMED_REQUEST_JSON", api="payments")
            currency = capture["amount"]["currency_code"]
            remaining = self._refundable(capture)
            amount = remaining
            if body.get("amount") is not None:
                requested = body["amount"]
                if not isinstance(requested, dict) or not {"currency_code", "value"} <= set(requested):
                    raise paypal_error(400, "MISSING_REQUIRED_PARAMETER", api="payments", field="/amount")
                amount = m.parse_value(requested["value"])
                if amount is None:
                    raise paypal_error(
                        400, "INVALID_PARAMETER_SYNTAX", api="payments", field="/amount/value", value=requested["value"]
                    )
                if requested["currency_code"] != currency:
                    raise paypal_error(
                        422,
                        "REFUND_CAPTURE_CURRENCY_MISMATCH",
                        api="payments",
                        field="/amount/currency_code",
                        value=requested["currency_code"],
                    )
                if not m.has_valid_precision(requested["value"], currency):
                    raise paypal_error(
                        422, "DECIMAL_PRECISION", api="payments", field="/amount/value", value=requested["value"]
                    )
                if amount <= 0:
                    raise paypal_error(
                        422,
                        "CANNOT_BE_ZERO_OR_NEGATIVE",
                        api="payments",
                        field="/amount/value",
                        value=requested["value"],
                    )
            if capture["status"] == "PENDING":
                raise paypal_error(422, "PENDING_CAPTURE", api="payments")
            if capture["status"] in ("DECLINED", "FAILED"):
                raise paypal_error(422, "REFUND_NOT_ALLOWED", api="payments")
            if remaining <= 0:
                raise paypal_error(422, "CAPTURE_FULLY_REFUNDED", api="payments")
            if amount > remaining:
                raise paypal_error(
                    422, "REFUND_AMOUNT_EXCEEDED", api="payments", field="/amount/value", value=m.fmt(amount, currency)
                )
            kind = self._take_fault("refund")
            if kind == "500":
                raise self._fail_500("payments")
            stamp = now_iso()
            refund = {
                "id": new_id(),
                "capture_id": capture_id,
                "status": "COMPLETED",
                "amount": m.money(amount, currency),
                "note_to_payer": body.get("note_to_payer"),
                "invoice_id": body.get("invoice_id") or capture["invoice_id"],
                "custom_id": body.get("custom_id") or capture["custom_id"],
                "create_time": stamp,
                "update_time": stamp,
            }
            self.refunds[refund["id"]] = refund
            capture["refund_ids"].append(refund["id"])
            capture["status"] = "REFUNDED" if self._refundable(capture) <= 0 else "PARTIALLY_REFUNDED"
            capture["update_time"] = stamp
            event = self._refund_event(refund)
            delivery = Delivery(event, copies=2 if kind == "duplicate_webhook" else 1)
            if prefer and "return=representation" in prefer:
                answer = self._refund_json(refund)
            else:
                answer = {"id": refund["id"], "status": refund["status"], "links": self._refund_links(refund)}
            response = Response(201, answer, hold=self._hold(kind), deliveries=[delivery])
            self._remember(path, request_id, response)
            return response

    def settle_capture(self, capture_id: str, *, status: str) -> tuple[dict, Delivery]:
        """Control API: a PENDING capture completes or is declined later; sends the matching webhook."""
        if status not in ("COMPLETED", "DECLINED"):
            raise ControlError(400, "status must be COMPLETED or DECLINED")
        with self.lock:
            capture = self.captures.get(capture_id)
            if capture is None:
                raise ControlError(404, f"no capture {capture_id}")
            if capture["status"] != "PENDING":
                raise ControlError(409, f"capture {capture_id} is {capture['status']}, not PENDING")
            capture["status"] = status
            capture["status_details"] = None
            capture["update_time"] = now_iso()
            delivery = Delivery(self._capture_event(capture, CAPTURE_EVENTS[status]))
            return self._capture_json(capture, standalone=True), delivery

    def _refundable(self, capture: dict) -> Decimal:
        refunded = sum((Decimal(self.refunds[r]["amount"]["value"]) for r in capture["refund_ids"]), Decimal(0))
        return Decimal(capture["amount"]["value"]) - refunded

    # ------------------------------------------------------------------ webhooks
    def verify_signature(self, body) -> Response:
        """``POST /v1/notifications/verify-webhook-signature``."""
        required = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        if not isinstance(body, dict):
            raise ApiError(400, _webhooks_error("MALFORMED_REQUEST", "The request JSON is not well formed."))
        missing = [key for key in required if not body.get(key)]
        if missing or not isinstance(body.get("webhook_event"), dict):
            raise ApiError(
                400,
                _webhooks_error(
                    "VALIDATION_ERROR",
                    "Invalid request - see details",
                    [{"field": key, "issue": "Required field is missing"} for key in missing]
                    or [{"field": "webhook_event", "issue": "Must be a JSON object"}],
                ),
            )
        with self.lock:
            genuine = (
                body["auth_algo"] == signing.AUTH_ALGO
                and body["cert_url"] == self.cert_url
                and signing.verify(
                    secret=self.signing_secret,
                    transmission_id=str(body["transmission_id"]),
                    transmission_time=str(body["transmission_time"]),
                    webhook_id=str(body["webhook_id"]),
                    body=signing.canonical_body(body["webhook_event"]),
                    signature=str(body["transmission_sig"]),
                )
            )
        return Response(200, {"verification_status": "SUCCESS" if genuine else "FAILURE"})

    def get_event(self, event_id: str) -> Response:
        with self.lock:
            event = self.events.get(event_id)
            if event is None:
                raise ApiError(404, _webhooks_error("INVALID_RESOURCE_ID", "Resource id is invalid."))
            return Response(200, copy.deepcopy(event))

    def resend_event(self, event_id: str) -> Response:
        response = self.get_event(event_id)
        return Response(202, response.body, deliveries=[Delivery(copy.deepcopy(response.body))])

    def event_for(self, order_id: str, event_type: str) -> dict:
        """Control API: a (new) event of ``event_type`` about the order's current state."""
        if event_type not in SUPPORTED_EVENTS:
            raise ControlError(400, f"event_type must be one of {list(SUPPORTED_EVENTS)}")
        with self.lock:
            order = self._control_order(order_id)
            if event_type == "CHECKOUT.ORDER.APPROVED":
                return self._new_event(
                    event_type, "checkout-order", self._order_json(order), "An order has been approved by buyer"
                )
            if not order["capture_ids"]:
                raise ControlError(409, f"order {order_id} has no capture yet: capture it before sending {event_type}")
            capture = self.captures[order["capture_ids"][0]]
            if event_type == "PAYMENT.CAPTURE.REFUNDED":
                if not capture["refund_ids"]:
                    raise ControlError(409, f"capture {capture['id']} has no refund yet")
                return self._refund_event(self.refunds[capture["refund_ids"][-1]])
            return self._capture_event(capture, event_type)

    def record_delivery(self, record: dict) -> None:
        with self.lock:
            self.deliveries.append(record)
            del self.deliveries[:-LOG_LIMIT]

    def _capture_event(self, capture: dict, event_type: str) -> dict:
        resource = self._capture_json(capture, standalone=True)
        resource["status"] = EVENT_CAPTURE_STATUS[event_type]  # an event describes the capture as it was then
        if resource["status"] != "PENDING":
            resource.pop("status_details", None)
        if resource["status"] in ("PENDING", "DECLINED"):
            resource.pop("seller_receivable_breakdown", None)  # PayPal has none before the money is credited
        amount = f"{capture['amount']['value']} {capture['amount']['currency_code']}"
        summary = {
            "PAYMENT.CAPTURE.COMPLETED": f"Payment completed for {amount}",
            "PAYMENT.CAPTURE.DENIED": f"A payment capture for {amount} was denied",
            "PAYMENT.CAPTURE.PENDING": f"Payment pending for {amount}",
        }[event_type]
        return self._new_event(event_type, "capture", resource, summary)

    def _refund_event(self, refund: dict) -> dict:
        amount = f"{refund['amount']['value']} {refund['amount']['currency_code']}"
        return self._new_event(
            "PAYMENT.CAPTURE.REFUNDED", "refund", self._refund_json(refund), f"A {amount} capture payment was refunded"
        )

    def _new_event(self, event_type: str, resource_type: str, resource: dict, summary: str) -> dict:
        event_id = f"WH-{new_id()}-{new_id()}"
        href = f"{self.base_url}/v1/notifications/webhooks-events/{event_id}"
        event = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": now_iso(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                {"href": href, "rel": "self", "method": "GET"},
                {"href": f"{href}/resend", "rel": "resend", "method": "POST"},
            ],
        }
        self.events[event_id] = event
        return copy.deepcopy(event)

    # ------------------------------------------------------------------ representations
    def _order(self, order_id: str) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise paypal_error(404, "INVALID_RESOURCE_ID", location="path", field="order_id", value=order_id)
        return order

    def _control_order(self, order_id: str) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise ControlError(404, f"no order {order_id}")
        return order

    def _capture(self, capture_id: str) -> dict:
        capture = self.captures.get(capture_id)
        if capture is None:
            raise paypal_error(
                404, "INVALID_RESOURCE_ID", api="payments", location="path", field="capture_id", value=capture_id
            )
        return capture

    def order_snapshot(self, order_id: str) -> dict:
        with self.lock:
            return self._order_json(self._control_order(order_id))

    def orders_snapshot(self) -> dict:
        with self.lock:
            return {order_id: self._order_json(order) for order_id, order in self.orders.items()}

    def _order_links(self, order: dict) -> list[dict]:
        base = f"{self.base_url}/v2/checkout/orders/{order['id']}"
        approve = f"{self.base_url}/checkoutnow?token={order['id']}"
        links = [{"href": base, "rel": "self", "method": "GET"}]
        if order["status"] == "CREATED":
            links.append({"href": approve, "rel": "approve", "method": "GET"})
        if order["status"] == "PAYER_ACTION_REQUIRED":
            links.append({"href": approve, "rel": "payer-action", "method": "GET"})
        if order["status"] in ("CREATED", "APPROVED"):
            links.append({"href": base, "rel": "update", "method": "PATCH"})
            links.append({"href": f"{base}/capture", "rel": "capture", "method": "POST"})
        return links

    def _payment_source(self, order: dict) -> dict | None:
        payer = order["payer"]
        if payer is None:
            return {"paypal": {}} if order["payment_source_requested"] else None
        return {
            "paypal": {
                "email_address": payer["email_address"],
                "account_id": payer["payer_id"],
                "account_status": "VERIFIED",
                "name": dict(payer["name"]),
                "address": dict(payer["address"]),
            }
        }

    def _unit_json(self, order: dict, index: int, unit: dict) -> dict:
        data = {"reference_id": unit["reference_id"], "amount": copy.deepcopy(unit["amount"])}
        data["payee"] = copy.deepcopy(unit.get("payee")) or {
            "email_address": self.merchant_email,
            "merchant_id": MERCHANT_ID,
        }
        for key in ("description", "custom_id", "invoice_id", "soft_descriptor", "items", "shipping"):
            if unit.get(key) is not None:
                data[key] = copy.deepcopy(unit[key])
        captures = [self.captures[c] for c in order["capture_ids"] if self.captures[c]["unit_index"] == index]
        if captures:
            refunds = [self.refunds[r] for c in captures for r in c["refund_ids"]]
            data["payments"] = {"captures": [self._capture_json(c, standalone=False) for c in captures]}
            if refunds:
                data["payments"]["refunds"] = [self._refund_json(r) for r in refunds]
        return data

    def _order_json(self, order: dict) -> dict:
        data = {"id": order["id"], "intent": order["intent"], "status": order["status"]}
        source = self._payment_source(order)
        if source is not None:
            data["payment_source"] = source
        data["purchase_units"] = [self._unit_json(order, i, u) for i, u in enumerate(order["purchase_units"])]
        if order["payer"]:
            data["payer"] = copy.deepcopy(order["payer"])
        data["create_time"] = order["create_time"]
        data["update_time"] = order["update_time"]
        data["links"] = self._order_links(order)
        return data

    def _order_answer(self, order: dict, prefer: str | None) -> dict:
        if prefer and "return=representation" in prefer:
            return self._order_json(order)
        data = {"id": order["id"], "status": order["status"]}
        source = self._payment_source(order)
        if source is not None:
            data["payment_source"] = source
        data["links"] = self._order_links(order)
        return data

    def _capture_answer(self, order: dict) -> dict:
        """The capture call's default answer: the order with only what the capture changed."""
        full = self._order_json(order)
        units = [
            {"reference_id": u["reference_id"], **({"payments": u["payments"]} if "payments" in u else {})}
            for u in full["purchase_units"]
        ]
        data = {"id": full["id"], "status": full["status"]}
        for key in ("payment_source",):
            if key in full:
                data[key] = full[key]
        data["purchase_units"] = units
        if "payer" in full:
            data["payer"] = full["payer"]
        data["links"] = full["links"]
        return data

    def _capture_json(self, capture: dict, *, standalone: bool) -> dict:
        base = f"{self.base_url}/v2/payments/captures/{capture['id']}"
        data: dict = {"id": capture["id"], "status": capture["status"]}
        if capture["status_details"]:
            data["status_details"] = dict(capture["status_details"])
        data["amount"] = dict(capture["amount"])
        data["final_capture"] = True
        data["seller_protection"] = {
            "status": "ELIGIBLE",
            "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
        }
        if capture["status"] not in ("PENDING", "DECLINED"):
            gross = Decimal(capture["amount"]["value"])
            currency = capture["amount"]["currency_code"]
            fee = min(gross, (gross * Decimal("0.0349") + Decimal("0.49")).quantize(Decimal("0.01")))
            if m.places(currency) == 0:
                fee = fee.quantize(Decimal(1))
            data["seller_receivable_breakdown"] = {
                "gross_amount": m.money(gross, currency),
                "paypal_fee": m.money(fee, currency),
                "net_amount": m.money(gross - fee, currency),
            }
        for key in ("custom_id", "invoice_id"):
            if capture[key]:
                data[key] = capture[key]
        data["links"] = [
            {"href": base, "rel": "self", "method": "GET"},
            {"href": f"{base}/refund", "rel": "refund", "method": "POST"},
            {"href": f"{self.base_url}/v2/checkout/orders/{capture['order_id']}", "rel": "up", "method": "GET"},
        ]
        if standalone:
            data["supplementary_data"] = {"related_ids": {"order_id": capture["order_id"]}}
            data["payee"] = {"email_address": self.merchant_email, "merchant_id": MERCHANT_ID}
        data["create_time"] = capture["create_time"]
        data["update_time"] = capture["update_time"]
        return data

    def _refund_links(self, refund: dict) -> list[dict]:
        return [
            {"href": f"{self.base_url}/v2/payments/refunds/{refund['id']}", "rel": "self", "method": "GET"},
            {"href": f"{self.base_url}/v2/payments/captures/{refund['capture_id']}", "rel": "up", "method": "GET"},
        ]

    def _refund_json(self, refund: dict) -> dict:
        capture = self.captures[refund["capture_id"]]
        currency = refund["amount"]["currency_code"]
        total = sum(
            (
                Decimal(self.refunds[r]["amount"]["value"])
                for r in capture["refund_ids"][: capture["refund_ids"].index(refund["id"]) + 1]
            ),
            Decimal(0),
        )
        data = {"id": refund["id"], "status": refund["status"], "amount": dict(refund["amount"])}
        for key in ("note_to_payer", "invoice_id", "custom_id"):
            if refund[key]:
                data[key] = refund[key]
        data["seller_payable_breakdown"] = {
            "gross_amount": dict(refund["amount"]),
            "paypal_fee": m.money(Decimal(0), currency),
            "net_amount": dict(refund["amount"]),
            "total_refunded_amount": m.money(total, currency),
        }
        data["links"] = self._refund_links(refund)
        data["create_time"] = refund["create_time"]
        data["update_time"] = refund["update_time"]
        return data


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        client_id, _, secret = b64decode(encoded.strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return client_id, secret


def _amount(value, field: str, currencies: set[str], *, positive: bool = False) -> Decimal:
    """Check one money object of an order request (PayPal's 400/422 rules); returns its Decimal."""
    if not isinstance(value, dict):
        raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=field)
    for key in ("currency_code", "value"):
        if key not in value:
            raise paypal_error(400, "MISSING_REQUIRED_PARAMETER", field=f"{field}/{key}")
    currency = value["currency_code"]
    if not isinstance(currency, str) or not m.CURRENCY_PATTERN.match(currency):
        raise paypal_error(422, "INVALID_CURRENCY_CODE", field=f"{field}/currency_code", value=currency)
    currencies.add(currency)
    if len(currencies) > 1:
        raise paypal_error(422, "MULTI_CURRENCY_ORDER", field=f"{field}/currency_code", value=currency)
    amount = m.parse_value(value["value"])
    if amount is None:
        raise paypal_error(400, "INVALID_PARAMETER_SYNTAX", field=f"{field}/value", value=value["value"])
    if not m.has_valid_precision(value["value"], currency):
        raise paypal_error(422, "DECIMAL_PRECISION", field=f"{field}/value", value=value["value"])
    if positive and amount <= 0:
        raise paypal_error(422, "CANNOT_BE_ZERO_OR_NEGATIVE", field=f"{field}/value", value=value["value"])
    if amount < 0:
        raise paypal_error(422, "CANNOT_BE_NEGATIVE", field=f"{field}/value", value=value["value"])
    return amount


def _webhooks_error(name: str, message: str, details: list | None = None) -> dict:
    body = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if details:
        body["details"] = details
    return body


def transmission_headers(state: StandinState, event_body: bytes, *, bad_signature: bool = False) -> dict[str, str]:
    """The headers PayPal puts on a webhook delivery, signed for ``event_body``."""
    with state.lock:
        transmission_id = str(uuid.uuid1())
        transmission_time = now_iso()
        secret = secrets.token_bytes(32) if bad_signature else state.signing_secret
        signature = signing.sign(
            secret=secret,
            transmission_id=transmission_id,
            transmission_time=transmission_time,
            webhook_id=state.webhook_id,
            body=event_body,
        )
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-CERT-URL": state.cert_url,
            "PAYPAL-AUTH-ALGO": signing.AUTH_ALGO,
        }
