"""Orders v2 tracking: ``POST /v2/checkout/orders/{id}/track`` adds a parcel's tracking number to a capture.

Validated as the published schema (``order_tracker_request``) and its error enums say: ``capture_id``
is required and must be a capture of this order in a completed state (422 ``CAPTURE_ID_NOT_FOUND`` /
``CAPTURE_STATUS_NOT_VALID``); ``tracking_number`` and ``carrier`` are required (PayPal's own rule:
nothing to track without them); ``carrier`` follows the enum's pattern, ``OTHER`` needs
``carrier_name_other``; an item's ``sku`` must be one of the order's (422 ``ITEM_SKU_MISMATCH``); an
order with several purchase units is refused (422 ``MSP_NOT_SUPPORTED``). The tracker is stored on the
order's purchase unit (``shipping.trackers``, id ``{capture id}-{tracking number}`` as PayPal forms it)
and the answer is the order as ``GET`` shows it: 201 for a new tracker, 200 when the same capture
and number were already tracked (nothing added twice). A repeated ``PayPal-Request-Id`` replays the
stored answer.
"""

from __future__ import annotations

import re

from .common import Response, now_iso
from .errors import paypal_error

CARRIER_PATTERN = re.compile(r"^[0-9A-Z_]+$")
TRACKABLE_CAPTURES = ("COMPLETED", "PARTIALLY_REFUNDED")
# The issue descriptions exactly as orders.track.create-400/-422 enumerate them.
DESCRIPTIONS = {
    "MISSING_REQUIRED_PARAMETER": "A required field / parameter is missing.",
    "INVALID_STRING_LENGTH": "The value of a field is either too short or too long.",
    "INVALID_PARAMETER_VALUE": "A parameter value is not valid.",
    "INVALID_PARAMETER_SYNTAX": "The value of a field does not conform to the expected format.",
    "CAPTURE_STATUS_NOT_VALID": "Invalid capture status. Tracker information can only be added to captures in"
    " `COMPLETED` state.",
    "ITEM_SKU_MISMATCH": "Item sku must match one of the items sku that was provided during order creation.",
    "CAPTURE_ID_NOT_FOUND": "Specified capture ID does not exist. Check the capture ID and try again.",
    "MSP_NOT_SUPPORTED": "Multiple purchase units are not supported for this operation.",
}


def _error(status: int, issue: str, *, field: str, value=None):
    return paypal_error(status, issue, field=field, value=value, description=DESCRIPTIONS[issue])


def _text(body: dict, key: str, *, required: bool, max_length: int = 64) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise _error(400, "MISSING_REQUIRED_PARAMETER", field=f"/{key}")
        return None
    if not isinstance(value, str):
        raise _error(400, "INVALID_PARAMETER_SYNTAX", field=f"/{key}", value=value)
    if not 1 <= len(value) <= max_length:
        raise _error(400, "INVALID_STRING_LENGTH", field=f"/{key}", value=value)
    return value


class TrackersMixin:
    """The trackers of :class:`StandinState` (stored on each order's purchase unit)."""

    def track_order(self, order_id: str, *, body, request_id: str | None, path: str) -> Response:
        with self.lock:
            replay = self._replay(path, request_id)
            if replay:
                return replay
            order = self._order(order_id)
            if not isinstance(body, dict):
                raise paypal_error(400, "MALFORMED_REQUEST_JSON")
            capture_id = _text(body, "capture_id", required=True, max_length=50)
            number = _text(body, "tracking_number", required=True)
            carrier = _text(body, "carrier", required=True)
            if not CARRIER_PATTERN.match(carrier):
                raise _error(400, "INVALID_PARAMETER_SYNTAX", field="/carrier", value=carrier)
            if carrier == "OTHER":
                _text(body, "carrier_name_other", required=True)
            if "notify_payer" in body and not isinstance(body["notify_payer"], bool):
                raise _error(400, "INVALID_PARAMETER_VALUE", field="/notify_payer", value=body["notify_payer"])
            if len(order["purchase_units"]) > 1:
                raise _error(422, "MSP_NOT_SUPPORTED", field="/purchase_units")
            if capture_id not in order["capture_ids"]:
                raise _error(422, "CAPTURE_ID_NOT_FOUND", field="/capture_id", value=capture_id)
            capture = self.captures[capture_id]
            if capture["status"] not in TRACKABLE_CAPTURES:
                raise _error(422, "CAPTURE_STATUS_NOT_VALID", field="/capture_id", value=capture_id)
            unit = order["purchase_units"][capture["unit_index"]]
            items = self._tracker_items(body, unit)
            kind = self._take_fault("track")
            if kind == "500":
                raise self._fail_500("orders")
            trackers = unit.setdefault("shipping", {}).setdefault("trackers", [])
            tracker_id = f"{capture_id}-{number}"
            status = 200
            if not any(t["id"] == tracker_id for t in trackers):
                stamp = now_iso()
                tracker = {"id": tracker_id, "status": "SHIPPED", "create_time": stamp, "update_time": stamp}
                if items:
                    tracker["items"] = items
                tracker["links"] = [
                    {
                        "href": f"{self.base_url}/v2/checkout/orders/{order_id}/trackers/{tracker_id}",
                        "rel": "self",
                        "method": "GET",
                    },
                    {
                        "href": f"{self.base_url}/v2/checkout/orders/{order_id}/trackers/{tracker_id}",
                        "rel": "replace",
                        "method": "PATCH",
                    },
                ]
                trackers.append(tracker)
                order["update_time"] = stamp
                status = 201
            response = Response(status, self._order_json(order), hold=self._hold(kind))
            self._remember(path, request_id, response)
            return response

    def _tracker_items(self, body: dict, unit: dict) -> list[dict]:
        items = body.get("items")
        if items is None:
            return []
        if not isinstance(items, list):
            raise _error(400, "INVALID_PARAMETER_SYNTAX", field="/items")
        known = {item.get("sku") for item in unit.get("items") or [] if item.get("sku")}
        cleaned = []
        for index, item in enumerate(items):
            where = f"/items/{index}"
            if not isinstance(item, dict):
                raise _error(400, "INVALID_PARAMETER_SYNTAX", field=where)
            quantity = item.get("quantity")
            if quantity is not None and not (isinstance(quantity, str) and re.fullmatch(r"[1-9][0-9]{0,9}", quantity)):
                raise _error(400, "INVALID_PARAMETER_SYNTAX", field=f"{where}/quantity", value=quantity)
            sku = item.get("sku")
            if sku is not None and known and sku not in known:
                raise _error(422, "ITEM_SKU_MISMATCH", field=f"{where}/sku", value=sku)
            cleaned.append({k: item[k] for k in ("name", "quantity", "sku", "url", "image_url", "upc") if k in item})
        return cleaned
