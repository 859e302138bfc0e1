"""Issue #10, problem 1: the PayPal webhook stores or forwards nothing an attacker posts.

Every test posts over HTTP (Django's test client) to the real webhook view, with the PayPal stand-in
answering the verification call, and checks what reached the database and PayPal.
"""

import hashlib
import json

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse

from payments.models import WebhookEvent
from tests.payments.payment_support import make_order, start_paypal

URL = reverse("payments:paypal_webhook")


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


def _verify_calls(standin) -> list[dict]:
    return [r for r in standin.requests() if r["path"].endswith("/verify-webhook-signature")]


def _forged(size: int = 0) -> bytes:
    event = {"id": "WH-FORGED-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "CAP-1"}}
    body = json.dumps(event)
    if size:
        event["padding"] = "x" * (size - len(body) - len(', "padding": ""'))
        body = json.dumps(event)
    return body.encode()


@pytest.mark.django_db
def test_security_webhook_body_over_64kb_is_refused_413(client, paypal_standin):
    body = _forged(size=64 * 1024 + 1)
    assert len(body) > 64 * 1024

    response = client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()
    assert _verify_calls(paypal_standin) == []


@pytest.mark.django_db
def test_security_webhook_body_of_2mb_is_refused_413_before_it_is_read(client, paypal_standin):
    response = client.post(URL, data=_forged(size=2_400_000), content_type="application/json")

    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"amount": NaN}}',
        b'{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"amount": Infinity}}',
        b'{"id": "WH-1", "event_type": "X", "resource": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}",
        b'{"id": "WH-1", "event_type": "X", "resource": ' + b"[" * 20000 + b"]" * 20000 + b"}",
        b"\xff\xfe not utf-8",
        b'["not", "an", "event"]',
        b'{"id": {"nested": 1}, "event_type": "X"}',
    ],
    ids=["nan", "infinity", "deep-objects", "deep-arrays", "not-utf8", "array", "id-not-a-string"],
)
def test_security_webhook_malformed_json_is_refused_400_not_500(client, paypal_standin, body):
    response = client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    assert _verify_calls(paypal_standin) == []


@pytest.mark.django_db
def test_security_webhook_forged_event_is_stored_without_its_body(client, paypal_standin):
    body = _forged(size=60_000)

    response = client.post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    row = WebhookEvent.objects.get()
    assert (row.event_id, row.type, row.verified) == ("WH-FORGED-1", "PAYMENT.CAPTURE.COMPLETED", False)
    assert row.payload == {}
    assert row.size == len(body)
    assert row.body_sha256 == hashlib.sha256(body).hexdigest()
    assert row.result == "Signature not verified."


@pytest.mark.django_db
def test_security_webhook_flood_from_one_address_is_refused_429_and_paypal_retry_gets_through(
    client, paypal_standin, settings
):
    """Above the per-address rate the answer is 429 (PayPal retries it); the next minute the same
    genuine event is processed. Another address is not slowed down by the flood."""
    settings.PAYPAL_WEBHOOK_RATE_PER_MINUTE = 5
    order = make_order()
    payment = start_paypal(client, order)
    hook = paypal_standin.build_webhook(payment.paypal_order_id, "CHECKOUT.ORDER.APPROVED")
    with time_machine.travel("2026-06-10 10:00:05Z", tick=False) as clock:
        flood = [
            client.post(URL, data=_forged(), content_type="application/json", REMOTE_ADDR="203.0.113.9")
            for _ in range(8)
        ]
        assert [r.status_code for r in flood] == [400] * 5 + [429] * 3
        assert flood[-1]["Retry-After"] == "60"

        other = client.post(
            URL, data=hook.body, content_type="application/json", REMOTE_ADDR="198.51.100.7", **hook.django_headers
        )
        assert other.status_code == 200

        limited = client.post(
            URL, data=hook.body, content_type="application/json", REMOTE_ADDR="203.0.113.9", **hook.django_headers
        )
        assert limited.status_code == 429

        clock.move_to("2026-06-10 10:01:05Z")
        retry = client.post(
            URL, data=hook.body, content_type="application/json", REMOTE_ADDR="203.0.113.9", **hook.django_headers
        )
        assert retry.status_code == 200
    assert WebhookEvent.objects.get(event_id=hook.event["id"]).verified
