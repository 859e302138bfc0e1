"""PAY-PAYPAL webhooks: signed by the stand-in, verified with it over HTTP, each event acted on once.

Most tests post the stand-in's signed delivery through Django's test client (deterministic on SQLite);
``test_pay_paypal_webhook_over_real_http_to_live_server`` lets the stand-in deliver to the live server.
"""

import json

import pytest
from django.core import mail
from django.urls import reverse

from orders.models import Order, OrderEvent
from payments.models import Payment, WebhookEvent

from .payment_support import approve_and_return, capture_requests, make_order, path_of, start_paypal

URL = reverse("payments:paypal_webhook")


def _post(client, hook):
    return client.post(URL, data=hook.body, content_type="application/json", **hook.django_headers)


def _captured_without_answer(client, standin):
    """Approved and captured at PayPal, but the shop never saw the answer (timeout): only a webhook can tell it."""
    order = make_order()
    payment = start_paypal(client, order)
    standin.fault("capture", "timeout")
    redirect = standin.approve(payment.paypal_order_id)["redirect_url"]
    client.get(path_of(redirect))
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    capture_requests(standin, at_least=1)
    return order, payment, redirect


@pytest.mark.django_db
def test_pay_paypal_webhook_then_return_changes_the_order_once(client, paypal_standin):
    """PAY-PAYPAL: the webhook confirms first (order paid), the customer's return afterwards changes nothing."""
    order, payment, redirect = _captured_without_answer(client, paypal_standin)
    response = _post(client, paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED"))
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    paid_at = order.paid_at
    response = client.get(path_of(redirect), follow=True)
    assert "Payment received" in response.content.decode()
    order.refresh_from_db()
    assert order.paid_at == paid_at
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.COMPLETED


@pytest.mark.django_db
def test_pay_paypal_return_then_webhook_changes_the_order_once(client, paypal_standin):
    """PAY-PAYPAL: the return captures and pays; the webhook that follows is recorded and changes nothing."""
    order = make_order()
    payment = start_paypal(client, order)
    approve_and_return(client, paypal_standin, payment)
    order.refresh_from_db()
    paid_at = order.paid_at
    assert (order.status, order.payment_status) == ("processing", "paid")
    response = _post(client, paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED"))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.paid_at == paid_at
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1
    event = WebhookEvent.objects.get()
    assert event.verified and event.processed_at is not None


@pytest.mark.django_db
def test_pay_paypal_duplicate_webhooks_change_the_order_once(client, paypal_standin):
    """PAY-PAYPAL: the same event delivered three times: acted on once, acknowledged each time."""
    order, payment, _ = _captured_without_answer(client, paypal_standin)
    hook = paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED")
    answers = [_post(client, hook) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[1].content == b"Already processed."
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1
    event = WebhookEvent.objects.get()
    assert event.deliveries == 3
    # A second, different event about the same capture is processed but changes nothing either.
    _post(client, paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED"))
    assert WebhookEvent.objects.count() == 2
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1


@pytest.mark.django_db
def test_pay_paypal_bad_signature_is_refused_400_and_changes_nothing(client, paypal_standin):
    """PAY-PAYPAL: a forged notification is refused (400), logged, and never acted on."""
    order, payment, _ = _captured_without_answer(client, paypal_standin)
    hook = paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED", bad_signature=True)
    response = _post(client, hook)
    assert response.status_code == 400
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert payment.status == Payment.Status.CREATED
    event = WebhookEvent.objects.get()
    assert not event.verified and event.processed_at is None
    verify = paypal_standin.requests("/v1/notifications/verify-webhook-signature")
    assert verify and verify[-1]["body"]["webhook_id"] == "STANDINWEBHOOK"
    # A genuine delivery about the same capture is acted on afterwards.
    genuine = paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED")
    assert _post(client, genuine).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")


@pytest.mark.django_db
def test_pay_paypal_altered_body_is_refused(client, paypal_standin):
    """PAY-PAYPAL: a genuine signature over a different body (amount changed) does not verify."""
    order, payment, _ = _captured_without_answer(client, paypal_standin)
    hook = paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED")
    event = json.loads(hook.body)
    event["resource"]["amount"]["value"] = "1.00"
    response = client.post(URL, data=json.dumps(event), content_type="application/json", **hook.django_headers)
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == Order.Status.AWAITING_PAYMENT


@pytest.mark.django_db
def test_pay_paypal_webhook_without_headers_or_malformed_is_400(client, paypal_standin, caplog):
    response = client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "malformed JSON" in caplog.text
    response = client.post(URL, data=json.dumps({"id": "WH-1", "event_type": "X"}), content_type="application/json")
    assert response.status_code == 400
    assert not WebhookEvent.objects.filter(verified=True).exists()


@pytest.mark.django_db
def test_pay_paypal_webhook_is_the_only_csrf_exempt_view_and_post_only(paypal_standin):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get(URL).status_code == 405
    # No CSRF token, yet not refused for CSRF: refused only because it is not verified.
    assert strict.post(URL, data="{}", content_type="application/json").status_code == 400


@pytest.mark.django_db
def test_pay_paypal_denied_webhook_after_pending_capture(client, paypal_standin, django_capture_on_commit_callbacks):
    """PAY-PAYPAL: a pending capture later declined → payment denied, customer e-mailed, order still unpaid."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "pending")
    approve_and_return(client, paypal_standin, payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.DENIED"))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == Payment.Status.DENIED
    assert order.status == Order.Status.AWAITING_PAYMENT
    assert [m for m in mail.outbox if "was not completed" in m.subject]


@pytest.mark.django_db
def test_pay_paypal_pending_capture_completed_by_webhook(client, paypal_standin):
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.fault("capture", "pending")
    approve_and_return(client, paypal_standin, payment)
    payment.refresh_from_db()
    paypal_standin.settle_capture(payment.capture_id, "COMPLETED")  # no webhook URL set: nothing delivered
    _post(client, paypal_standin.build_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED"))
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")


@pytest.mark.django_db
def test_pay_paypal_approved_webhook_captures_when_the_customer_never_returns(
    client, paypal_standin, django_capture_on_commit_callbacks
):
    """PAY-PAYPAL: CHECKOUT.ORDER.APPROVED without a return → the shop captures and pays the order."""
    order = make_order()
    payment = start_paypal(client, order)
    paypal_standin.approve(payment.paypal_order_id)
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, paypal_standin.build_webhook(payment.paypal_order_id, "CHECKOUT.ORDER.APPROVED"))
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")


@pytest.mark.django_db(transaction=True)
def test_pay_paypal_webhook_over_real_http_to_live_server(client, paypal_standin, live_server):
    """PAY-PAYPAL over real HTTP: PayPal (the stand-in) delivers signed events to the running shop.

    Duplicates and a forged copy arrive too: the order is paid once, the forgery is refused with 400.
    """
    order, payment, _ = _captured_without_answer(client, paypal_standin)
    paypal_standin.set_webhook_url(live_server.url + URL)
    result = paypal_standin.send_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED", copies=3)
    statuses = [attempt["status"] for d in result["deliveries"] for attempt in d["attempts"]]
    assert statuses and set(statuses) == {200}
    forged = paypal_standin.send_webhook(payment.paypal_order_id, "PAYMENT.CAPTURE.COMPLETED", bad_signature=True)
    assert {a["status"] for d in forged["deliveries"] for a in d["attempts"]} == {400}
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("processing", "paid")
    assert order.events.filter(type=OrderEvent.Type.PAID).count() == 1
    assert WebhookEvent.objects.filter(verified=True, processed_at__isnull=False).count() == 1
