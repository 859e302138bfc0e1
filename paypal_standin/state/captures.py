"""Payments v2: captures (made by capturing an order) and their refunds; a PENDING capture settles later."""

from __future__ import annotations

from decimal import Decimal

from .. import money as m
from .common import Delivery, Response, new_id, now_iso
from .errors import ControlError, paypal_error
from .events import CAPTURE_EVENTS


class CapturesMixin:
    """The captures and refunds of :class:`StandinState`."""

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

    def _capture(self, capture_id: str) -> dict:
        capture = self.captures.get(capture_id)
        if capture is None:
            raise paypal_error(
                404, "INVALID_RESOURCE_ID", api="payments", location="path", field="capture_id", value=capture_id
            )
        return capture
