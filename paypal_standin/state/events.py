"""Webhooks v1: the events the stand-in records, their signed transmission headers, signature verification.

Sending them over HTTP is ``webhooks.py``'s job.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from typing import TYPE_CHECKING

from .. import signing
from .common import Delivery, Response, new_id, now_iso
from .errors import ApiError, ControlError, webhooks_error

if TYPE_CHECKING:
    from . import StandinState

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


class EventsMixin:
    """The webhook events of :class:`StandinState`."""

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
            raise ApiError(400, webhooks_error("MALFORMED_REQUEST", "The request JSON is not well formed."))
        missing = [key for key in required if not body.get(key)]
        if missing or not isinstance(body.get("webhook_event"), dict):
            raise ApiError(
                400,
                webhooks_error(
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
                raise ApiError(404, webhooks_error("INVALID_RESOURCE_ID", "Resource id is invalid."))
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
