"""HTTP front of the PayPal stand-in (stdlib only, no Django, so it also runs standalone).

PayPal's endpoints (JSON in and out, OAuth bearer tokens):

* ``POST /v1/oauth2/token``
* ``POST /v2/checkout/orders``, ``GET /v2/checkout/orders/{id}``, ``POST /v2/checkout/orders/{id}/capture``,
  ``POST /v2/checkout/orders/{id}/track``
* ``GET /v2/payments/captures/{id}``, ``POST /v2/payments/captures/{id}/refund``, ``GET /v2/payments/refunds/{id}``
* ``POST /v1/notifications/verify-webhook-signature``, ``GET /v1/notifications/webhooks-events/{id}``,
  ``POST /v1/notifications/webhooks-events/{id}/resend``

The payer's side: ``GET /checkoutnow?token={order id}`` (approval page with the buttons "Approve" and
"Cancel"), ``POST /checkoutnow/approve`` and ``POST /checkoutnow/cancel`` (303 to the order's
``return_url`` with ``?token=…&PayerID=…`` or to its ``cancel_url`` with ``?token=…``).

Control API for tests and demos (not PayPal's; JSON, no authentication):

* ``GET /_standin/config``; ``POST /_standin/config`` ``{"webhook_url", "webhook_id", "timeout_delay",
  "webhook_retry_delays", "merchant_email"}`` (any subset)
* ``GET /_standin/orders``, ``GET /_standin/orders/{id}``; ``POST /_standin/orders/{id}/approve``
  (optional ``{"email_address"}``) and ``/cancel`` → ``{"id", "status", "redirect_url"}``
* ``POST /_standin/captures/{id}/settle`` ``{"status": "COMPLETED"|"DECLINED"}``: a PENDING capture
  completes or is declined, and the matching webhook is sent
* ``GET /_standin/faults``; ``POST /_standin/faults`` ``{"operation": "token"|"create"|"capture"|"refund"|"track",
  "kind": "timeout"|"500"|"denied"|"pending"|"amount_mismatch"|"duplicate_webhook", "times": 1}``.
  A fault applies to the next request(s) of that operation that would otherwise succeed (replays of a
  stored ``PayPal-Request-Id`` answer and validation errors do not use it up). ``timeout`` performs the
  operation, then holds the answer for ``timeout_delay`` seconds; ``500`` answers 500 and changes
  nothing; ``denied``/``pending`` make the capture DECLINED/PENDING (webhook PAYMENT.CAPTURE.DENIED /
  .PENDING); ``amount_mismatch`` captures 1.00 less than the order's amount (1.00 more if it is 1.00
  or less); ``duplicate_webhook`` delivers the operation's webhook twice.
* ``POST /_standin/webhooks/send`` ``{"order_id", "event_type", "copies": 1, "concurrent": false,
  "bad_signature": false, "wait": true}`` → ``{"event", "deliveries"}``; ``POST /_standin/webhooks/build``
  ``{"order_id", "event_type", "bad_signature": false}`` → ``{"event", "body", "headers"}`` (a signed
  delivery to post yourself, e.g. with Django's test client); ``GET /_standin/webhooks`` (deliveries)
* ``GET /_standin/requests`` (``?path=<prefix>``): every PayPal API and payer-page request received
  (method, path, query, headers subset, body, status)
* ``POST /_standin/reset``; ``GET /_standin/cert`` (what ``PAYPAL-CERT-URL`` points at)
"""

from __future__ import annotations

import html
import json
import re
import threading
import traceback
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from shop.money import format_money

from . import signing, webhooks
from .state import ApiError, ControlError, Delivery, Response, StandinState, now_iso, transmission_headers

LOGGED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "PayPal-Request-Id",
    "Prefer",
    "PayPal-Partner-Attribution-Id",
    "PayPal-Client-Metadata-Id",
    "PayPal-Auth-Assertion",
    "PayPal-Mock-Response",
    "User-Agent",
)

ORDER = r"(?P<id>[A-Za-z0-9-]+)"


class StandinHandler(BaseHTTPRequestHandler):
    server_version = "PayPalStandin/1.0"
    protocol_version = "HTTP/1.1"

    # Routing ------------------------------------------------------------------------
    ROUTES = [
        ("POST", r"/v1/oauth2/token", "api_token"),
        ("POST", r"/v2/checkout/orders", "api_create_order"),
        ("GET", rf"/v2/checkout/orders/{ORDER}", "api_get_order"),
        ("POST", rf"/v2/checkout/orders/{ORDER}/capture", "api_capture_order"),
        ("POST", rf"/v2/checkout/orders/{ORDER}/track", "api_track_order"),
        ("GET", rf"/v2/payments/captures/{ORDER}", "api_get_capture"),
        ("POST", rf"/v2/payments/captures/{ORDER}/refund", "api_refund"),
        ("GET", rf"/v2/payments/refunds/{ORDER}", "api_get_refund"),
        ("POST", r"/v1/notifications/verify-webhook-signature", "api_verify"),
        ("GET", rf"/v1/notifications/webhooks-events/{ORDER}", "api_get_event"),
        ("POST", rf"/v1/notifications/webhooks-events/{ORDER}/resend", "api_resend_event"),
        ("GET", r"/checkoutnow", "page_checkout"),
        ("POST", r"/checkoutnow/approve", "page_approve"),
        ("POST", r"/checkoutnow/cancel", "page_cancel"),
        ("GET", r"/_standin/config", "control_get_config"),
        ("POST", r"/_standin/config", "control_config"),
        ("GET", r"/_standin/orders", "control_orders"),
        ("GET", rf"/_standin/orders/{ORDER}", "control_order"),
        ("POST", rf"/_standin/orders/{ORDER}/approve", "control_approve"),
        ("POST", rf"/_standin/orders/{ORDER}/cancel", "control_cancel"),
        ("POST", rf"/_standin/captures/{ORDER}/settle", "control_settle"),
        ("GET", r"/_standin/faults", "control_faults"),
        ("POST", r"/_standin/faults", "control_add_fault"),
        ("POST", r"/_standin/webhooks/send", "control_send_webhook"),
        ("POST", r"/_standin/webhooks/build", "control_build_webhook"),
        ("GET", r"/_standin/webhooks", "control_webhooks"),
        ("GET", r"/_standin/requests", "control_requests"),
        ("POST", r"/_standin/reset", "control_reset"),
        ("GET", r"/_standin/cert", "control_cert"),
    ]
    COMPILED = [(method, re.compile(pattern + r"/?$"), name) for method, pattern, name in ROUTES]

    @property
    def state(self) -> StandinState:
        return self.server.state

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def log_message(self, format, *args):  # noqa: A002 -- BaseHTTPRequestHandler's signature
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.route_path = parts.path
        self.query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""
        self.status_sent = None
        handler, params, path_known = None, {}, False
        for route_method, pattern, name in self.COMPILED:
            match = pattern.match(parts.path)
            if match:
                path_known = True
                if route_method == method:
                    handler, params = getattr(self, name), match.groupdict()
                    break
        try:
            if handler is None:
                if path_known:
                    self._send_json(405, {"name": "METHOD_NOT_SUPPORTED", "message": f"{method} is not allowed here"})
                else:
                    self._send_json(
                        404, {"name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist."}
                    )
            else:
                handler(**params)
        except ApiError as error:
            self._send_json(error.status, error.body)
        except ControlError as error:
            self._send_json(error.status, {"error": error.message})
        except Exception as error:  # a bug in the stand-in: say so instead of dropping the connection
            traceback.print_exc()
            self._send_json(500, {"name": "INTERNAL_SERVER_ERROR", "message": f"stand-in error: {error!r}"})
        finally:
            if not parts.path.startswith("/_standin/") and parts.path != "/favicon.ico":
                self._log(method, parts)

    def _log(self, method: str, parts) -> None:
        headers = {}
        for name in LOGGED_HEADERS:
            value = self.headers.get(name)
            if value is not None:
                if name == "Authorization":
                    value = value.split(" ", 1)[0] + " <redacted>"
                headers[name] = value
        self.state.log_request(
            {
                "time": now_iso(),
                "method": method,
                "path": parts.path,
                "query": self.query,
                "headers": headers,
                "body": self._parsed_body_for_log(),
                "status": self.status_sent,
            }
        )

    def _parsed_body_for_log(self):
        if not self.raw_body:
            return None
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        text = self.raw_body.decode("utf-8", "replace")
        if content_type == "application/x-www-form-urlencoded":
            return {key: values[-1] for key, values in parse_qs(text).items()}
        try:
            return json.loads(text)
        except ValueError:
            return text

    # Plumbing -----------------------------------------------------------------------
    def _json_body(self, *, api: str = "orders", required: bool = False):
        if not self.raw_body.strip():
            if required:
                raise ApiError(400, _malformed(api))
            return None
        try:
            return json.loads(self.raw_body)
        except ValueError:
            raise ApiError(400, _malformed(api))

    def _control_body(self) -> dict:
        if not self.raw_body.strip():
            return {}
        try:
            body = json.loads(self.raw_body)
        except ValueError:
            raise ControlError(400, "the body must be JSON")
        if not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        return body

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.status_sent = status
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout expired during a "timeout" fault)

    def _send_json(self, status: int, body, extra: dict | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self._send(status, data, "application/json", {"Paypal-Debug-Id": "standin", **(extra or {})})

    def _answer(self, response: Response) -> None:
        """Send an API answer: start its webhooks, hold it back if a timeout fault says so, then reply."""
        if response.deliveries:
            webhooks.dispatch(self.state, response.deliveries)
        if response.hold:
            self.server.stopping.wait(response.hold)
        self._send_json(response.status, response.body)

    def _header(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value.strip() if value else None

    # PayPal API ---------------------------------------------------------------------
    def api_token(self):
        form = {key: values[-1] for key, values in parse_qs(self.raw_body.decode("utf-8", "replace")).items()}
        self._answer(self.state.issue_token(authorization=self._header("Authorization"), form=form))

    def api_create_order(self):
        self.state.check_bearer(self._header("Authorization"))
        self._answer(
            self.state.create_order(
                body=self._json_body(required=True),
                request_id=self._header("PayPal-Request-Id"),
                prefer=self._header("Prefer"),
                path=self.route_path,
            )
        )

    def api_get_order(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"))
        self._answer(self.state.get_order(id))

    def api_capture_order(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"))
        self._json_body()  # optional; a malformed one is still a 400
        self._answer(
            self.state.capture_order(
                id, request_id=self._header("PayPal-Request-Id"), prefer=self._header("Prefer"), path=self.route_path
            )
        )

    def api_track_order(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"))
        self._answer(
            self.state.track_order(
                id,
                body=self._json_body(required=True),
                request_id=self._header("PayPal-Request-Id"),
                path=self.route_path,
            )
        )

    def api_get_capture(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"), api="payments")
        self._answer(self.state.get_capture(id))

    def api_refund(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"), api="payments")
        self._answer(
            self.state.refund_capture(
                id,
                body=self._json_body(api="payments"),
                request_id=self._header("PayPal-Request-Id"),
                prefer=self._header("Prefer"),
                path=self.route_path,
            )
        )

    def api_get_refund(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"), api="payments")
        self._answer(self.state.get_refund(id))

    def api_verify(self):
        self.state.check_bearer(self._header("Authorization"), api="notifications")
        self._answer(self.state.verify_signature(self._json_body(api="notifications", required=True)))

    def api_get_event(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"), api="notifications")
        self._answer(self.state.get_event(id))

    def api_resend_event(self, id):  # noqa: A002
        self.state.check_bearer(self._header("Authorization"), api="notifications")
        self._answer(self.state.resend_event(id))

    # The payer's pages --------------------------------------------------------------
    def page_checkout(self):
        token = self.query.get("token", "")
        with self.state.lock:
            order = self.state.orders.get(token)
            snapshot = self.state.order_snapshot(token) if order else None
            requested = (order or {}).get("payment_source_requested") or {}
        if snapshot is None:
            self._send_page(404, "Order not found", "<p>This PayPal checkout link is not valid.</p>")
            return
        experience = (requested.get("paypal") or {}).get("experience_context") or {}
        card = experience.get("landing_page") == "GUEST_CHECKOUT"
        title = "Pay by bank card (processed by PayPal)" if card else "Pay with PayPal"
        self._send_page(200, title, approval_page(snapshot, experience=experience))

    def _form_token(self) -> str:
        form = parse_qs(self.raw_body.decode("utf-8", "replace"))
        return (form.get("token") or [self.query.get("token", "")])[-1]

    def page_approve(self):
        token = self._form_token()
        try:
            result = self.state.approve(token)
        except ControlError as error:
            self._send_page(error.status, "Cannot approve", f"<p>{html.escape(error.message)}</p>")
            return
        self._redirect_or_page(result, "Payment approved", "You approved the payment. You can close this window.")

    def page_cancel(self):
        token = self._form_token()
        try:
            result = self.state.cancel(token)
        except ControlError as error:
            self._send_page(error.status, "Cannot cancel", f"<p>{html.escape(error.message)}</p>")
            return
        self._redirect_or_page(result, "Payment cancelled", "You cancelled the payment. You can close this window.")

    def _redirect_or_page(self, result: dict, title: str, text: str) -> None:
        if result["redirect_url"]:
            self._send(303, b"", "text/plain", {"Location": result["redirect_url"]})
        else:
            self._send_page(200, title, f"<p>{html.escape(text)}</p>")

    def _send_page(self, status: int, title: str, content: str) -> None:
        self._send(status, page(title, content).encode(), "text/html; charset=utf-8")

    # Control API --------------------------------------------------------------------
    def control_get_config(self):
        self._send_json(200, self.state.config())

    def control_config(self):
        self._send_json(200, self.state.configure(**self._control_body()))

    def control_orders(self):
        self._send_json(200, self.state.orders_snapshot())

    def control_order(self, id):  # noqa: A002
        self._send_json(200, self.state.order_snapshot(id))

    def control_approve(self, id):  # noqa: A002
        body = self._control_body()
        self._send_json(200, self.state.approve(id, email=body.get("email_address")))

    def control_cancel(self, id):  # noqa: A002
        self._send_json(200, self.state.cancel(id))

    def control_settle(self, id):  # noqa: A002
        capture, delivery = self.state.settle_capture(id, status=self._control_body().get("status", ""))
        records = webhooks.dispatch(self.state, [delivery], wait=True)
        self._send_json(200, {"capture": capture, "deliveries": records})

    def control_faults(self):
        with self.state.lock:
            self._send_json(200, [dict(f) for f in self.state.faults])

    def control_add_fault(self):
        body = self._control_body()
        fault = self.state.add_fault(
            operation=body.get("operation", ""), kind=str(body.get("kind", "")), times=body.get("times", 1)
        )
        self._send_json(201, fault)

    def control_send_webhook(self):
        body = self._control_body()
        copies = body.get("copies", 1)
        if not isinstance(copies, int) or copies < 1:
            raise ControlError(400, "copies must be a positive integer")
        event = self.state.event_for(str(body.get("order_id", "")), str(body.get("event_type", "")))
        delivery = Delivery(
            event, copies=copies, concurrent=bool(body.get("concurrent")), bad_signature=bool(body.get("bad_signature"))
        )
        with self.state.lock:
            if not self.state.webhook_url:
                raise ControlError(409, 'no webhook URL configured: POST /_standin/config {"webhook_url": ...}')
        records = webhooks.dispatch(self.state, [delivery], wait=body.get("wait", True))
        with self.state.lock:
            self._send_json(200, {"event": event, "deliveries": json.loads(json.dumps(records))})

    def control_build_webhook(self):
        body = self._control_body()
        event = self.state.event_for(str(body.get("order_id", "")), str(body.get("event_type", "")))
        data = signing.canonical_body(event)
        headers = transmission_headers(self.state, data, bad_signature=bool(body.get("bad_signature")))
        self._send_json(200, {"event": event, "body": data.decode(), "headers": headers})

    def control_webhooks(self):
        with self.state.lock:
            records = json.loads(json.dumps(self.state.deliveries))
        self._send_json(200, records)

    def control_requests(self):
        prefix = self.query.get("path", "")
        with self.state.lock:
            entries = [e for e in self.state.request_log if e["path"].startswith(prefix)]
            self._send_json(200, json.loads(json.dumps(entries)))

    def control_reset(self):
        self.state.reset()
        self._send_json(200, {"reset": True})

    def control_cert(self):
        text = (
            "The local PayPal stand-in signs webhooks with HMAC-SHA256 (PAYPAL-AUTH-ALGO: HMACSHA256) under a\n"
            "secret of its own, not with a certificate. Ask POST /v1/notifications/verify-webhook-signature.\n"
        )
        self._send(200, text.encode(), "text/plain; charset=utf-8")


def _malformed(api: str) -> dict:
    from .state import paypal_error

    return paypal_error(400, "MALFORMED_REQUEST_JSON", api=api).body


def page(title: str, content: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – PayPal (local stand-in)</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f5f7fa; margin: 0; }}
main {{ max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px;
       box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.2rem; color: #003087; margin-top: 0; }}
.amount {{ font-size: 2rem; font-weight: bold; margin: .5rem 0; }}
dl {{ display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; }}
dt {{ color: #555; }}
.buttons {{ display: flex; gap: 1rem; margin-top: 1.5rem; }}
button {{ font-size: 1rem; padding: .6rem 1.4rem; border-radius: 20px; border: 1px solid #0070ba; cursor: pointer; }}
button.approve {{ background: #0070ba; color: #fff; }}
button.cancel {{ background: #fff; color: #0070ba; }}
</style>
</head>
<body>
<main>
<h1>PayPal (local stand-in)</h1>
{content}
</main>
</body>
</html>
"""


def approval_page(order: dict, *, experience: dict | None = None) -> str:
    """The buyer's page: the amount written as the shop writes it in the buyer's language (PayPal formats
    by the ``experience_context.locale`` the merchant sends), and for a card payment who processes it."""
    experience = experience or {}
    unit = order["purchase_units"][0]
    amount = unit["amount"]
    total = sum(Decimal(u["amount"]["value"]) for u in order["purchase_units"])
    shown = format_money(total, amount["currency_code"], language=experience.get("locale") or "en")
    card = ""
    if experience.get("landing_page") == "GUEST_CHECKOUT":
        brand = html.escape(experience.get("brand_name") or "the shop")
        card = (
            '<p data-testid="processor">Your bank card is processed by PayPal on behalf of '
            f"{brand}; the shop never sees the card number. You do not need a PayPal account.</p>"
        )
    payee = unit.get("payee", {}).get("email_address", "")
    description = unit.get("description") or unit.get("invoice_id") or unit.get("reference_id")
    token = html.escape(order["id"])
    if order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"):
        actions = f"""<div class="buttons">
<form method="post" action="/checkoutnow/approve"><input type="hidden" name="token" value="{token}">
<button type="submit" class="approve">Approve</button></form>
<form method="post" action="/checkoutnow/cancel"><input type="hidden" name="token" value="{token}">
<button type="submit" class="cancel">Cancel</button></form>
</div>"""
    else:
        actions = f"<p>This payment is already {html.escape(order['status'].lower())}.</p>"
    return f"""<p>Review your payment</p>
<p class="amount" data-testid="amount">{html.escape(shown)}</p>
{card}
<dl>
<dt>Pay to</dt><dd data-testid="payee">{html.escape(payee)}</dd>
<dt>For</dt><dd>{html.escape(str(description))}</dd>
<dt>Order</dt><dd>{token}</dd>
</dl>
{actions}"""


class StandinHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, state: StandinState, *, verbose: bool = False):
        super().__init__(address, StandinHandler)
        self.state = state
        self.verbose = verbose
        self.stopping = threading.Event()


class StandinServer:
    """The stand-in on a host and port, served from a background thread.

    >>> server = StandinServer(client_id="id", client_secret="secret").start()   # port 0 = a free port
    >>> server.url
    'http://127.0.0.1:…'
    >>> server.stop()
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, verbose: bool = False, **state_options):
        self.state = StandinState(**state_options)
        self.httpd = StandinHTTPServer((host, port), self.state, verbose=verbose)
        self.host, self.port = self.httpd.server_address[:2]
        self.url = f"http://{self.host}:{self.port}"
        self.state.base_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> StandinServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="paypal-standin"
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.stopping.set()  # releases answers held back by a "timeout" fault
        if self._thread:
            self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
