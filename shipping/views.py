"""The courier partner's signed delivery callback (DLV-HANDOVER, DLV-FAILED, DLV-ACCEPT-14D).

``POST /shipping/partners/<partner id>/delivery/`` with a JSON body and the header
``X-Partner-Signature: sha256=<hex HMAC-SHA256 of the raw body with the partner's secret>``. The body
carries ``sent_at`` (ISO 8601 with offset), which must be within ``MAX_AGE`` of the shop's clock, and
an ``event_id`` the partner never reuses: the same event sent again records nothing more. The format
is described for a courier's developer in the README. Thin: it checks the request and calls one
service in ``shipping.services.delivery``; a bad signature is 401 and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import AttemptSource, DeliveryOutcome, FulfilmentPartner
from .services import delivery

SIGNATURE_HEADER = "HTTP_X_PARTNER_SIGNATURE"
MAX_BODY_BYTES = 16 * 1024
MAX_AGE = dt.timedelta(minutes=5)

_COMMON = {"event_id", "sent_at", "shipment", "outcome", "at", "note"}
_FIELDS = {
    DeliveryOutcome.DELIVERED: _COMMON | {"recipient", "refused", "id_document", "payment"},
    DeliveryOutcome.FAILED: _COMMON | {"cause"},
    DeliveryOutcome.AWAITING_COLLECTION: _COMMON | {"pickup_point"},
}


class BadRequest(Exception):
    pass


def _error(message: str, status: int = 400, code: str = "bad_request") -> JsonResponse:
    return JsonResponse({"ok": False, "code": code, "error": message}, status=status)


def sign(secret: str, body: bytes) -> str:
    """The header value for ``body`` (the partner computes the same; tests use this)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise BadRequest("duplicate key in a JSON object")
    return dict(pairs)


def _reject_constant(name):
    raise BadRequest(f"{name} is not JSON")


def _strict_json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def _text(data: dict, name: str, *, required: bool = False, limit: int = 300) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise BadRequest(f"{name}: a string{' (required)' if required else ''} of at most {limit} characters")
    return value


def _moment(data: dict, name: str, *, required: bool = False) -> dt.datetime | None:
    raw = _text(data, name, required=required, limit=40)
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None or value.tzinfo is None:
        raise BadRequest(f"{name}: an ISO 8601 date and time with a UTC offset")
    return value


def _refused(value) -> dict[int, int]:
    if value in (None, []):
        return {}
    if not isinstance(value, list):
        raise BadRequest("refused: a list of {line, quantity}")
    refused: dict[int, int] = {}
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"line", "quantity"}
            or not all(type(item[k]) is int and item[k] > 0 for k in ("line", "quantity"))
            or item["line"] in refused
        ):
            raise BadRequest("refused: each item is {line: order line id, quantity: positive integer}, once per line")
        refused[item["line"]] = item["quantity"]
    return refused


def _object(data: dict, name: str, keys: set[str]) -> dict:
    value = data.get(name) or {}
    if not isinstance(value, dict) or not set(value) <= keys:
        raise BadRequest(f"{name}: an object with keys {sorted(keys)}")
    return value


def _call(partner: FulfilmentPartner, data: dict):
    outcome = _text(data, "outcome", required=True, limit=30)
    if outcome not in _FIELDS:
        raise BadRequest(f"outcome: one of {sorted(_FIELDS)}")
    unknown = set(data) - _FIELDS[outcome]
    if unknown:
        raise BadRequest(f"unknown fields for {outcome}: {sorted(unknown)}")
    shipment = data.get("shipment")
    if type(shipment) is not int:
        raise BadRequest("shipment: the parcel's id (integer)")
    common = {
        "shipment_id": shipment,
        "at": _moment(data, "at"),
        "note": _text(data, "note"),
        "source": AttemptSource.PARTNER,
        "partner": partner,
        "key": f"partner:{partner.pk}:{_text(data, 'event_id', required=True, limit=100)}",
        "actor": None,
    }
    if outcome == DeliveryOutcome.FAILED:
        return delivery.delivery_record_failure(cause=_text(data, "cause", required=True, limit=30), **common)
    if outcome == DeliveryOutcome.AWAITING_COLLECTION:
        return delivery.delivery_record_awaiting_collection(pickup_point=_text(data, "pickup_point"), **common)
    recipient = _object(data, "recipient", {"kind", "name"})
    document = _object(data, "id_document", {"type", "number"})
    payment = _object(data, "payment", {"id_document_checked", "card_unnamed"})
    if not all(isinstance(v, bool) for v in payment.values()):
        raise BadRequest("payment: id_document_checked and card_unnamed are true or false")
    return delivery.delivery_record_handover(
        recipient_kind=_text(recipient, "kind", required=True, limit=30),
        recipient_name=_text(recipient, "name", limit=200),
        refused=_refused(data.get("refused")),
        id_document_type=_text(document, "type", limit=30),
        id_document_number=_text(document, "number", limit=64),
        id_document_checked=payment.get("id_document_checked", False),
        card_unnamed=payment.get("card_unnamed", False),
        **common,
    )


@csrf_exempt
@require_POST
def partner_delivery_callback(request: HttpRequest, partner_id: int) -> JsonResponse:
    partner = get_object_or_404(FulfilmentPartner, pk=partner_id, is_active=True)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return _error(f"The body is larger than {MAX_BODY_BYTES} bytes.", 413, "too_large")
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return _error(f"The body is larger than {MAX_BODY_BYTES} bytes.", 413, "too_large")
    # The signature first: nothing of an unsigned body is read.
    given = request.META.get(SIGNATURE_HEADER, "")
    if not partner.secret or not hmac.compare_digest(given, sign(partner.secret, body)):
        return _error("Bad or missing signature.", 401, "bad_signature")
    if request.content_type != "application/json":
        return _error("Send Content-Type: application/json.", 415, "unsupported_media_type")
    try:
        data = _strict_json(body)
        sent_at = _moment(data, "sent_at", required=True)
        if abs(timezone.now() - sent_at) > MAX_AGE:
            return _error("sent_at is not recent: check the clock, sign and send again.", 401, "stale")
        attempt = _call(partner, data)
    except BadRequest as exc:
        return _error(str(exc))
    except delivery.DeliveryError as exc:
        return _error(str(exc), 422, exc.code)
    return JsonResponse({"ok": True, "attempt": attempt.pk, "outcome": attempt.outcome})
