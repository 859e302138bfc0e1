"""The courier partner's signed delivery callback (DLV-HANDOVER, DLV-FAILED, DLV-ACCEPT-14D)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderEvent
from shipping.models import AttemptSource, DeliveryAttempt, FulfilmentPartner, Shipment
from shipping.views import MAX_BODY_BYTES, sign

from .support import make_order, paid_by_transfer, ship

pytestmark = pytest.mark.django_db
SECRET = "partner-shared-secret"


@pytest.fixture
def partner():
    return FulfilmentPartner.objects.create(
        name="Courier Co", email="ops@courier.example", endpoint="https://courier.example/api", secret=SECRET
    )


def _post(client, partner, payload, *, secret=SECRET, body=None, content_type="application/json"):
    body = body if body is not None else json.dumps(payload).encode()
    return client.post(
        reverse("shipping:partner_delivery", args=[partner.pk]),
        data=body,
        content_type=content_type,
        HTTP_X_PARTNER_SIGNATURE=sign(secret, body),
    )


def _payload(shipment, outcome, **extra):
    return {
        "event_id": f"ev-{outcome}-{shipment.pk}",
        "sent_at": timezone.now().isoformat(),
        "shipment": shipment.pk,
        "outcome": outcome,
        **extra,
    }


def test_dlv_handover_partner_callback_records_handover_with_refused_items(client, partner):
    """DLV-HANDOVER / DLV-INSPECT by the partner: same service as staff; the same event twice records once."""
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier", lines=(("1000.00", 2),))
    [line] = order.lines.all()
    shipment = ship(order)
    payload = _payload(
        shipment,
        "delivered",
        recipient={"kind": "named_recipient", "name": "Oleg Petrov"},
        refused=[{"line": line.pk, "quantity": 1}],
    )

    first = _post(client, partner, payload)
    again = _post(client, partner, payload)

    assert first.status_code == 200, first.content
    assert again.json()["attempt"] == first.json()["attempt"]
    attempt = DeliveryAttempt.objects.get()
    assert attempt.source == AttemptSource.PARTNER and attempt.partner == partner
    assert attempt.recipient_name == "Oleg Petrov"
    line.refresh_from_db()
    assert (line.quantity_delivered, line.quantity_refused) == (1, 1)
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


def test_dlv_failed_partner_callback_and_awaiting_collection(client, partner):
    """DLV-FAILED and DLV-ACCEPT-14D by the partner."""
    shipment = ship(make_order(status=Order.Status.PROCESSING, payment_method="cash_courier"))
    response = _post(client, partner, _payload(shipment, "failed", cause="customer_absent"))
    assert response.status_code == 200, response.content
    assert OrderEvent.objects.filter(type=OrderEvent.Type.DELIVERY_FAILED).count() == 1

    other = ship(paid_by_transfer())
    response = _post(client, partner, _payload(other, "awaiting_collection", pickup_point="PVZ 17"))
    assert response.status_code == 200, response.content
    other.refresh_from_db()
    assert other.status == Shipment.Status.AWAITING_COLLECTION and other.collect_by is not None


def test_dlv_callback_bad_signature_is_401_and_changes_nothing(client, partner):
    shipment = ship(make_order(status=Order.Status.PROCESSING, payment_method="cash_courier"))
    payload = _payload(shipment, "failed", cause="customer_absent")

    wrong = _post(client, partner, payload, secret="not-the-secret")
    missing = client.post(
        reverse("shipping:partner_delivery", args=[partner.pk]), data=payload, content_type="application/json"
    )

    assert wrong.status_code == 401 and missing.status_code == 401
    assert wrong.json()["code"] == "bad_signature"
    assert not DeliveryAttempt.objects.exists()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED


def test_dlv_callback_old_timestamp_is_refused(client, partner):
    """A signed body replayed later is refused: ``sent_at`` must be recent."""
    shipment = ship(make_order(status=Order.Status.PROCESSING, payment_method="cash_courier"))
    payload = _payload(shipment, "failed", cause="customer_absent")
    payload["sent_at"] = (timezone.now() - dt.timedelta(minutes=30)).isoformat()
    response = _post(client, partner, payload)
    assert response.status_code == 401 and response.json()["code"] == "stale"
    assert not DeliveryAttempt.objects.exists()


@pytest.mark.parametrize(
    "body, why",
    [
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"x": NaN}', "NaN is not JSON"),
        (b"not json", "not valid JSON"),
    ],
)
def test_dlv_callback_strict_json(client, partner, body, why):
    response = _post(client, partner, None, body=body)
    assert response.status_code == 400 and why in response.json()["error"]


def test_dlv_callback_unknown_fields_bad_cause_and_size_cap(client, partner):
    shipment = ship(make_order(status=Order.Status.PROCESSING, payment_method="cash_courier"))
    unknown = _post(client, partner, _payload(shipment, "failed", cause="customer_absent", colour="red"))
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]
    bad_cause = _post(client, partner, _payload(shipment, "failed", cause="aliens"))
    assert bad_cause.status_code == 422 and bad_cause.json()["code"] == "unknown_cause"
    huge = _post(client, partner, None, body=b'{"note": "' + b"x" * MAX_BODY_BYTES + b'"}')
    assert huge.status_code == 413
    assert not DeliveryAttempt.objects.exists()


def test_dlv_callback_needs_post_and_an_active_partner(client, partner):
    url = reverse("shipping:partner_delivery", args=[partner.pk])
    assert client.get(url).status_code == 405
    partner.is_active = False
    partner.save()
    assert _post(client, partner, {"x": 1}).status_code == 404
