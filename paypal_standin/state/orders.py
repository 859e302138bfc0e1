"""Orders v2: create, get and capture an order; the payer approves or cancels it (approval page, control API)."""

from __future__ import annotations

import copy
import secrets
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import money as m
from .common import Delivery, Response, new_id, now_iso
from .errors import ControlError, paypal_error
from .events import CAPTURE_EVENTS

PAYER_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # PayPal account ids: ^[2-9A-HJ-NP-Z]{13}$
BREAKDOWN_ADD = ("item_total", "tax_total", "shipping", "handling", "insurance")
BREAKDOWN_SUBTRACT = ("shipping_discount", "discount")


def new_payer_id() -> str:
    return "".join(secrets.choice(PAYER_ID_ALPHABET) for _ in range(13))


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


class OrdersMixin:
    """The orders of :class:`StandinState`."""

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

    def order_snapshot(self, order_id: str) -> dict:
        with self.lock:
            return self._order_json(self._control_order(order_id))

    def orders_snapshot(self) -> dict:
        with self.lock:
            return {order_id: self._order_json(order) for order_id, order in self.orders.items()}


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
