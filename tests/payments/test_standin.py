"""The PayPal stand-in behaves like PayPal for what the shop does, including PayPal's failure modes.

The stand-in is what lets the shop's PAY-PAYPAL tests (approve on PayPal, capture, confirmation by
return or webhook, each processed once) and PAY-REFUND-SAME-WAY tests (refunds through PayPal) run
without the network. These tests check the stand-in from the shop's side: through
``paypal-server-sdk`` (as ``payments/paypal.py`` uses it) and through plain HTTP.
"""

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from apimatic_core.exceptions.auth_validation_exception import AuthValidationException
from django.conf import settings
from paypalserversdk.configuration import Configuration
from paypalserversdk.exceptions.error_exception import ErrorException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.amount_breakdown import AmountBreakdown
from paypalserversdk.models.amount_with_breakdown import AmountWithBreakdown
from paypalserversdk.models.checkout_payment_intent import CheckoutPaymentIntent
from paypalserversdk.models.money import Money
from paypalserversdk.models.order_application_context import OrderApplicationContext
from paypalserversdk.models.order_request import OrderRequest
from paypalserversdk.models.purchase_unit_request import PurchaseUnitRequest
from paypalserversdk.models.refund_request import RefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient

from paypal_standin import StandinClient
from paypal_standin.client import StandinControlError
from tests.process_support import wait_until

RETURN_URL = "https://shop.example/payments/paypal/return/?order=SO-7"
CANCEL_URL = "https://shop.example/payments/paypal/cancel/"


class StandinConfiguration(Configuration):
    """How the shop points paypal-server-sdk at another base URL (see NOTES.md): override get_base_uri()."""

    def get_base_uri(self, server=None):
        return settings.PAYPAL_API_BASE


def make_sdk() -> PaypalServersdkClient:
    return PaypalServersdkClient(
        config=StandinConfiguration(
            timeout=settings.PAYPAL_TIMEOUT,
            client_credentials_auth_credentials=ClientCredentialsAuthCredentials(
                o_auth_client_id=settings.PAYPAL_CLIENT_ID, o_auth_client_secret=settings.PAYPAL_CLIENT_SECRET
            ),
        )
    )


@pytest.fixture
def sdk(paypal_standin):
    return make_sdk()


def rub(value: str) -> Money:
    return Money(currency_code="RUB", value=value)


def an_order(total="1250.00", items="1000.00", shipping="350.00", discount="100.00") -> OrderRequest:
    return OrderRequest(
        intent=CheckoutPaymentIntent.CAPTURE,
        purchase_units=[
            PurchaseUnitRequest(
                reference_id="SO-7",
                custom_id="SO-7",
                invoice_id="SO-7",
                amount=AmountWithBreakdown(
                    currency_code="RUB",
                    value=total,
                    breakdown=AmountBreakdown(item_total=rub(items), shipping=rub(shipping), discount=rub(discount)),
                ),
            )
        ],
        application_context=OrderApplicationContext(return_url=RETURN_URL, cancel_url=CANCEL_URL),
    )


def token(paypal_standin) -> str:
    answer = requests.post(
        f"{paypal_standin.url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
        timeout=5,
    )
    return answer.json()["access_token"]


def api(paypal_standin, method, path, body=None, **headers):
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return requests.request(
        method,
        f"{paypal_standin.url}{path}",
        json=body,
        headers={"Authorization": f"Bearer {token(paypal_standin)}", **headers},
        timeout=10,
    )


def approved_order(sdk, paypal_standin) -> str:
    order_id = sdk.orders.create_order({"body": an_order()}).body.id
    paypal_standin.approve(order_id)
    return order_id


def verify(paypal_standin, delivery: dict, *, webhook_id=None, event=None) -> str:
    headers = {k.upper(): v for k, v in delivery["headers"].items()}
    body = {
        "auth_algo": headers["PAYPAL-AUTH-ALGO"],
        "cert_url": headers["PAYPAL-CERT-URL"],
        "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": webhook_id or settings.PAYPAL_WEBHOOK_ID,
        "webhook_event": event or json.loads(delivery["body"]),
    }
    answer = api(paypal_standin, "POST", "/v1/notifications/verify-webhook-signature", body)
    assert answer.status_code == 200
    return answer.json()["verification_status"]


# ------------------------------------------------------------------------------ the SDK round trip
def test_sdk_token_create_approve_capture_refund(paypal_standin, webhook_receiver):
    """The whole PayPal flow through paypal-server-sdk (PAY-PAYPAL, PAY-REFUND-SAME-WAY)."""
    paypal_standin.set_webhook_url(webhook_receiver.url)
    sdk = make_sdk()

    created = sdk.orders.create_order({"body": an_order(), "paypal_request_id": "SO-7-create"})
    assert created.status_code == 201
    assert created.body.status == "CREATED"
    approve = next(link.href for link in created.body.links if link.rel == "approve")
    assert approve == f"{paypal_standin.url}/checkoutnow?token={created.body.id}"

    redirect = paypal_standin.approve(created.body.id)["redirect_url"]
    assert redirect.startswith(RETURN_URL + "&token=" + created.body.id + "&PayerID=")

    captured = sdk.orders.capture_order({"id": created.body.id, "paypal_request_id": "SO-7-capture"})
    assert captured.status_code == 201
    assert captured.body.status == "COMPLETED"
    capture = captured.body.purchase_units[0].payments.captures[0]
    assert (capture.status, capture.amount.currency_code, capture.amount.value) == ("COMPLETED", "RUB", "1250.00")
    assert capture.final_capture is True
    assert capture.seller_protection.status == "ELIGIBLE"

    refund = sdk.payments.refund_captured_payment(
        {"capture_id": capture.id, "body": RefundRequest(amount=rub("250.00")), "paypal_request_id": "SO-7-refund-1"}
    )
    assert refund.status_code == 201
    assert refund.body.status == "COMPLETED"
    looked_up = sdk.payments.get_captured_payment({"capture_id": capture.id}).body
    assert looked_up.status == "PARTIALLY_REFUNDED"
    assert looked_up.supplementary_data.related_ids.order_id == created.body.id
    order = sdk.orders.get_order({"id": created.body.id}).body
    assert order.purchase_units[0].payments.refunds[0].amount.value == "250.00"

    events = [d["json"]["event_type"] for d in webhook_receiver.wait_for(2)]
    assert sorted(events) == ["PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.REFUNDED"]
    logged = [(e["method"], e["path"]) for e in paypal_standin.requests()]
    assert logged[0] == ("POST", "/v1/oauth2/token")
    assert ("POST", f"/v2/checkout/orders/{created.body.id}/capture") in logged


# ------------------------------------------------------------------------------ OAuth
def test_token_needs_the_configured_credentials(paypal_standin):
    good = requests.post(
        f"{paypal_standin.url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
        timeout=5,
    )
    assert good.status_code == 200
    assert good.json()["token_type"] == "Bearer"
    assert good.json()["expires_in"] > 0
    assert good.json()["app_id"].startswith("APP-")
    wrong = requests.post(
        f"{paypal_standin.url}/v1/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(settings.PAYPAL_CLIENT_ID, "not-the-secret"),
        timeout=5,
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client", "error_description": "Client Authentication failed"}
    no_grant = requests.post(
        f"{paypal_standin.url}/v1/oauth2/token",
        auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
        timeout=5,
    )
    assert no_grant.status_code == 400
    assert no_grant.json()["error"] == "unsupported_grant_type"


def test_api_calls_need_a_valid_bearer_token(paypal_standin):
    answer = requests.post(f"{paypal_standin.url}/v2/checkout/orders", json={}, timeout=5)
    assert answer.status_code == 401
    assert answer.json()["name"] == "AUTHENTICATION_FAILURE"
    forged = requests.get(
        f"{paypal_standin.url}/v2/checkout/orders/X", headers={"Authorization": "Bearer A21AAforged"}, timeout=5
    )
    assert forged.status_code == 401


def test_sdk_with_wrong_secret_cannot_create_orders(paypal_standin, settings):
    """The SDK swallows the token endpoint's 401 and raises AuthValidationException before calling the API."""
    settings.PAYPAL_CLIENT_SECRET = "wrong"
    with pytest.raises(AuthValidationException):
        make_sdk().orders.create_order({"body": an_order()})
    assert paypal_standin.orders == {}
    assert [e["status"] for e in paypal_standin.requests()] == [401]


# ------------------------------------------------------------------------------ creating orders
def test_create_with_same_request_id_creates_one_order(sdk, paypal_standin):
    first = sdk.orders.create_order({"body": an_order(), "paypal_request_id": "SO-7-create"})
    again = sdk.orders.create_order({"body": an_order(), "paypal_request_id": "SO-7-create"})
    other = sdk.orders.create_order({"body": an_order(), "paypal_request_id": "SO-8-create"})
    assert again.status_code == 201
    assert again.body.id == first.body.id
    assert other.body.id != first.body.id
    assert set(paypal_standin.orders) == {first.body.id, other.body.id}


def test_breakdown_that_does_not_add_up_is_refused(sdk, paypal_standin):
    with pytest.raises(ErrorException) as failure:
        sdk.orders.create_order({"body": an_order(total="1300.00")})
    assert failure.value.response_code == 422
    assert failure.value.details[0].issue == "AMOUNT_MISMATCH"
    assert failure.value.details[0].value == "1300.00"
    assert paypal_standin.orders == {}


@pytest.mark.parametrize(
    ("amount", "status", "issue"),
    [
        ({"currency_code": "RUB", "value": "0.00"}, 422, "CANNOT_BE_ZERO_OR_NEGATIVE"),
        ({"currency_code": "RUB", "value": "10.001"}, 422, "DECIMAL_PRECISION"),
        ({"currency_code": "rub", "value": "10.00"}, 422, "INVALID_CURRENCY_CODE"),
        ({"currency_code": "RUB", "value": "ten"}, 400, "INVALID_PARAMETER_SYNTAX"),
        ({"currency_code": "RUB"}, 400, "MISSING_REQUIRED_PARAMETER"),
    ],
)
def test_bad_amounts_are_refused_as_paypal_does(paypal_standin, amount, status, issue):
    answer = api(
        paypal_standin, "POST", "/v2/checkout/orders", {"intent": "CAPTURE", "purchase_units": [{"amount": amount}]}
    )
    assert answer.status_code == status
    assert answer.json()["details"][0]["issue"] == issue
    assert paypal_standin.orders == {}


def test_items_must_match_item_total(paypal_standin):
    unit = {
        "amount": {
            "currency_code": "RUB",
            "value": "300.00",
            "breakdown": {"item_total": {"currency_code": "RUB", "value": "300.00"}},
        },
        "items": [{"name": "Cup", "quantity": "2", "unit_amount": {"currency_code": "RUB", "value": "100.00"}}],
    }
    answer = api(paypal_standin, "POST", "/v2/checkout/orders", {"intent": "CAPTURE", "purchase_units": [unit]})
    assert answer.json()["details"][0]["issue"] == "ITEM_TOTAL_MISMATCH"
    unit["items"][0]["quantity"] = "3"
    assert (
        api(paypal_standin, "POST", "/v2/checkout/orders", {"intent": "CAPTURE", "purchase_units": [unit]}).status_code
        == 201
    )


def test_payment_source_paypal_asks_for_payer_action(paypal_standin):
    body = {
        "intent": "CAPTURE",
        "purchase_units": [{"amount": {"currency_code": "RUB", "value": "10.00"}}],
        "payment_source": {"paypal": {"experience_context": {"return_url": RETURN_URL, "cancel_url": CANCEL_URL}}},
    }
    answer = api(paypal_standin, "POST", "/v2/checkout/orders", body, Prefer="return=representation")
    assert answer.status_code == 201
    order = answer.json()
    assert order["status"] == "PAYER_ACTION_REQUIRED"
    assert {link["rel"] for link in order["links"]} == {"self", "payer-action"}
    assert order["purchase_units"][0]["reference_id"] == "default"
    assert paypal_standin.approve(order["id"])["redirect_url"].startswith(RETURN_URL)


def test_only_intent_capture_is_supported(paypal_standin):
    body = {"intent": "AUTHORIZE", "purchase_units": [{"amount": {"currency_code": "RUB", "value": "10.00"}}]}
    answer = api(paypal_standin, "POST", "/v2/checkout/orders", body)
    assert (answer.status_code, answer.json()["details"][0]["issue"]) == (422, "UNSUPPORTED_INTENT")


def test_several_purchase_units_need_reference_ids_and_capture_separately(paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    units = [{"amount": {"currency_code": "RUB", "value": v}} for v in ("10.00", "20.00")]
    answer = api(paypal_standin, "POST", "/v2/checkout/orders", {"intent": "CAPTURE", "purchase_units": units})
    assert answer.json()["details"][0]["issue"] == "REFERENCE_ID_REQUIRED"
    for unit, reference in zip(units, ("A", "B"), strict=True):
        unit["reference_id"] = reference
    order_id = api(
        paypal_standin, "POST", "/v2/checkout/orders", {"intent": "CAPTURE", "purchase_units": units}
    ).json()["id"]
    paypal_standin.approve(order_id)
    captured = api(paypal_standin, "POST", f"/v2/checkout/orders/{order_id}/capture").json()
    amounts = [u["payments"]["captures"][0]["amount"]["value"] for u in captured["purchase_units"]]
    assert amounts == ["10.00", "20.00"]
    assert len(webhook_receiver.wait_for(2)) == 2


# ------------------------------------------------------------------------------ the payer's page
def test_approval_page_shows_amount_payee_and_the_two_buttons(sdk, paypal_standin):
    order_id = sdk.orders.create_order({"body": an_order()}).body.id
    page = requests.get(f"{paypal_standin.url}/checkoutnow", params={"token": order_id}, timeout=5)
    assert page.status_code == 200
    assert "PayPal (local stand-in)" in page.text
    assert "RUB 1,250.00" in page.text
    assert "merchant@example.com" in page.text
    assert '<button type="submit" class="approve">Approve</button>' in page.text
    assert '<button type="submit" class="cancel">Cancel</button>' in page.text
    assert 'action="/checkoutnow/approve"' in page.text and 'action="/checkoutnow/cancel"' in page.text


def test_approve_button_redirects_to_return_url_and_approves(sdk, paypal_standin):
    order_id = sdk.orders.create_order({"body": an_order()}).body.id
    answer = requests.post(
        f"{paypal_standin.url}/checkoutnow/approve", data={"token": order_id}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(f"{RETURN_URL}&token={order_id}&PayerID=")
    order = paypal_standin.order(order_id)
    assert order["status"] == "APPROVED"
    assert order["payer"]["payer_id"] == location.rsplit("PayerID=", 1)[1]
    page = requests.get(f"{paypal_standin.url}/checkoutnow", params={"token": order_id}, timeout=5)
    assert "Approve</button>" not in page.text and "already approved" in page.text


def test_cancel_button_redirects_to_cancel_url_and_leaves_order_unapproved(sdk, paypal_standin):
    order_id = sdk.orders.create_order({"body": an_order()}).body.id
    answer = requests.post(
        f"{paypal_standin.url}/checkoutnow/cancel", data={"token": order_id}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{CANCEL_URL}?token={order_id}"
    assert paypal_standin.order(order_id)["status"] == "CREATED"
    with pytest.raises(ErrorException) as failure:
        sdk.orders.capture_order({"id": order_id})
    assert failure.value.details[0].issue == "ORDER_NOT_APPROVED"


def test_unknown_checkout_token_shows_not_found(paypal_standin):
    page = requests.get(f"{paypal_standin.url}/checkoutnow", params={"token": "NOPE"}, timeout=5)
    assert page.status_code == 404
    assert "not valid" in page.text


# ------------------------------------------------------------------------------ capturing
def test_capture_needs_approval_and_happens_once(sdk, paypal_standin):
    order_id = sdk.orders.create_order({"body": an_order()}).body.id
    with pytest.raises(ErrorException) as failure:
        sdk.orders.capture_order({"id": order_id})
    assert (failure.value.response_code, failure.value.details[0].issue) == (422, "ORDER_NOT_APPROVED")
    paypal_standin.approve(order_id)
    first = sdk.orders.capture_order({"id": order_id, "paypal_request_id": "cap-1"})
    replay = sdk.orders.capture_order({"id": order_id, "paypal_request_id": "cap-1"})
    assert replay.status_code == 201
    assert json.loads(replay.text) == json.loads(first.text)
    with pytest.raises(ErrorException) as failure:
        sdk.orders.capture_order({"id": order_id, "paypal_request_id": "cap-2"})
    assert (failure.value.response_code, failure.value.details[0].issue) == (422, "ORDER_ALREADY_CAPTURED")
    assert len(paypal_standin.state.captures) == 1


def test_capture_of_unknown_order_is_404(sdk, paypal_standin):
    with pytest.raises(ErrorException) as failure:
        sdk.orders.capture_order({"id": "5O190127TN364715T"})
    assert failure.value.response_code == 404
    assert failure.value.details[0].issue == "INVALID_RESOURCE_ID"


def test_timeout_then_retry_with_same_request_id_captures_once(sdk, paypal_standin, webhook_receiver):
    """The capture happens, the answer comes too late; a retry with the same PayPal-Request-Id gets that capture."""
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "timeout")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        sdk.orders.capture_order({"id": order_id, "paypal_request_id": f"capture-{order_id}"})
    assert time.monotonic() - started < settings.PAYPAL_TIMEOUT + 1
    assert paypal_standin.order(order_id)["status"] == "COMPLETED"  # it did happen

    retry = sdk.orders.capture_order({"id": order_id, "paypal_request_id": f"capture-{order_id}"})
    assert retry.status_code == 201
    capture_ids = [c.id for c in retry.body.purchase_units[0].payments.captures]
    assert capture_ids == list(paypal_standin.state.captures)
    assert len(capture_ids) == 1
    # The stand-in records each webhook delivery when its event happens; once every one is done,
    # the receiver holds all there will be (no fixed sleep to wait out a possible second one).
    assert len(paypal_standin.state.deliveries) == 1
    wait_until(lambda: all(d["done"] for d in paypal_standin.state.deliveries), 10, "the webhook delivery")
    assert len(webhook_receiver.received) == 1


def test_timeout_then_retry_with_new_request_id_is_already_captured(sdk, paypal_standin):
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.configure(timeout_delay=settings.PAYPAL_TIMEOUT + 0.3)
    paypal_standin.fault("capture", "timeout")
    with pytest.raises(requests.exceptions.Timeout):
        sdk.orders.capture_order({"id": order_id, "paypal_request_id": "first"})
    with pytest.raises(ErrorException) as failure:
        sdk.orders.capture_order({"id": order_id, "paypal_request_id": "second"})
    assert failure.value.details[0].issue == "ORDER_ALREADY_CAPTURED"


def test_500_on_capture_changes_nothing_and_the_retry_succeeds(sdk, paypal_standin):
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "500")
    with pytest.raises(ErrorException) as failure:
        sdk.orders.capture_order({"id": order_id, "paypal_request_id": "cap"})
    assert failure.value.response_code == 500
    assert paypal_standin.order(order_id)["status"] == "APPROVED"
    assert sdk.orders.capture_order({"id": order_id, "paypal_request_id": "cap"}).body.status == "COMPLETED"


@pytest.mark.parametrize("operation", ["token", "create"])
def test_500_on_token_and_create(paypal_standin, operation):
    paypal_standin.fault(operation, "500", times=2)
    # A failed token fetch surfaces as AuthValidationException, a failed create as ErrorException (500).
    expected = AuthValidationException if operation == "token" else ErrorException
    for _ in range(2):
        with pytest.raises(expected):
            make_sdk().orders.create_order({"body": an_order()})
    assert paypal_standin.orders == {}
    assert make_sdk().orders.create_order({"body": an_order()}).status_code == 201


def test_timeout_on_create_creates_the_order_and_the_retry_returns_it(paypal_standin):
    paypal_standin.configure(timeout_delay=1.0)
    paypal_standin.fault("create", "timeout")
    body = {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "RUB", "value": "10.00"}}]}
    bearer = token(paypal_standin)
    headers = {"Authorization": f"Bearer {bearer}", "PayPal-Request-Id": "create-once"}
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(f"{paypal_standin.url}/v2/checkout/orders", json=body, headers=headers, timeout=0.5)
    retry = requests.post(f"{paypal_standin.url}/v2/checkout/orders", json=body, headers=headers, timeout=5)
    assert retry.status_code == 201
    assert list(paypal_standin.orders) == [retry.json()["id"]]


def test_denied_capture_declines_and_sends_denied_webhook(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "denied")
    captured = sdk.orders.capture_order({"id": order_id})
    capture = captured.body.purchase_units[0].payments.captures[0]
    assert capture.status == "DECLINED"
    event = webhook_receiver.wait_for(1)[0]["json"]
    assert event["event_type"] == "PAYMENT.CAPTURE.DENIED"
    assert event["resource"]["status"] == "DECLINED"
    assert event["resource"]["supplementary_data"]["related_ids"]["order_id"] == order_id
    assert "seller_receivable_breakdown" not in event["resource"]  # no money credited
    with pytest.raises(ErrorException) as failure:
        sdk.payments.refund_captured_payment({"capture_id": capture.id})
    assert failure.value.details[0].issue == "REFUND_NOT_ALLOWED"


def test_pending_capture_then_settles_to_completed(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "pending")
    capture = sdk.orders.capture_order({"id": order_id}).body.purchase_units[0].payments.captures[0]
    assert capture.status == "PENDING"
    assert capture.status_details.reason == "PENDING_REVIEW"
    assert webhook_receiver.wait_for(1)[0]["json"]["event_type"] == "PAYMENT.CAPTURE.PENDING"
    with pytest.raises(ErrorException) as failure:
        sdk.payments.refund_captured_payment({"capture_id": capture.id})
    assert failure.value.details[0].issue == "PENDING_CAPTURE"

    settled = paypal_standin.settle_capture(capture.id)
    assert settled["capture"]["status"] == "COMPLETED"
    assert settled["deliveries"][0]["delivered"] is True
    assert webhook_receiver.received[1]["json"]["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    assert sdk.payments.get_captured_payment({"capture_id": capture.id}).body.status == "COMPLETED"


def test_amount_mismatch_captures_a_different_amount(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "amount_mismatch")
    unit = sdk.orders.capture_order({"id": order_id}).body.purchase_units[0]
    assert unit.payments.captures[0].amount.value == "1249.00"
    assert paypal_standin.order(order_id)["purchase_units"][0]["amount"]["value"] == "1250.00"
    assert webhook_receiver.wait_for(1)[0]["json"]["resource"]["amount"]["value"] == "1249.00"


def test_duplicate_webhook_delivers_the_same_event_twice(sdk, paypal_standin, webhook_receiver):
    """PayPal may deliver an event more than once; the shop must process it once (PAY-PAYPAL)."""
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "duplicate_webhook")
    sdk.orders.capture_order({"id": order_id})
    first, second = webhook_receiver.wait_for(2)
    assert first["json"] == second["json"]
    assert first["json"]["event_type"] == "PAYMENT.CAPTURE.COMPLETED"
    assert first["headers"]["PAYPAL-TRANSMISSION-ID"] != second["headers"]["PAYPAL-TRANSMISSION-ID"]
    assert verify(paypal_standin, first) == verify(paypal_standin, second) == "SUCCESS"


def test_faults_are_used_up(sdk, paypal_standin):
    paypal_standin.fault("capture", "denied", times=1)
    assert paypal_standin.faults() == [{"operation": "capture", "kind": "denied", "remaining": 1}]
    sdk.orders.capture_order({"id": approved_order(sdk, paypal_standin)})
    assert paypal_standin.faults() == []
    capture = sdk.orders.capture_order({"id": approved_order(sdk, paypal_standin)}).body.purchase_units[0]
    assert capture.payments.captures[0].status == "COMPLETED"


@pytest.mark.parametrize(
    ("operation", "kind", "message"),
    [
        ("capture", "flood", "does not apply"),
        ("ship", "500", "unknown operation"),
        ("create", "denied", "does not apply"),
    ],
)
def test_unknown_faults_are_refused(paypal_standin, operation, kind, message):
    with pytest.raises(StandinControlError, match=message) as failure:
        paypal_standin.fault(operation, kind)
    assert failure.value.status == 400


# ------------------------------------------------------------------------------ refunds
def test_refunds_up_to_the_captured_amount(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    capture_id = sdk.orders.capture_order({"id": order_id}).body.purchase_units[0].payments.captures[0].id
    part = {"capture_id": capture_id, "body": RefundRequest(amount=rub("1000.00")), "paypal_request_id": "ref-1"}
    first = sdk.payments.refund_captured_payment(part)
    replay = sdk.payments.refund_captured_payment(part)
    assert replay.body.id == first.body.id
    assert len(paypal_standin.state.refunds) == 1

    with pytest.raises(ErrorException) as failure:
        sdk.payments.refund_captured_payment({"capture_id": capture_id, "body": RefundRequest(amount=rub("250.01"))})
    assert (failure.value.response_code, failure.value.details[0].issue) == (422, "REFUND_AMOUNT_EXCEEDED")

    rest = sdk.payments.refund_captured_payment({"capture_id": capture_id, "prefer": "return=representation"})
    assert rest.body.amount.value == "250.00"
    assert rest.body.seller_payable_breakdown.total_refunded_amount.value == "1250.00"
    assert sdk.payments.get_captured_payment({"capture_id": capture_id}).body.status == "REFUNDED"
    with pytest.raises(ErrorException) as failure:
        sdk.payments.refund_captured_payment({"capture_id": capture_id})
    assert failure.value.details[0].issue == "CAPTURE_FULLY_REFUNDED"

    events = [d["json"] for d in webhook_receiver.wait_for(3)]
    refunds = [e for e in events if e["event_type"] == "PAYMENT.CAPTURE.REFUNDED"]
    assert sorted(e["resource"]["amount"]["value"] for e in refunds) == ["1000.00", "250.00"]
    assert all(e["resource_type"] == "refund" for e in refunds)


def test_refund_timeout_then_retry_refunds_once(sdk, paypal_standin):
    capture_id = sdk.orders.capture_order({"id": approved_order(sdk, paypal_standin)}).body.purchase_units[0]
    capture_id = capture_id.payments.captures[0].id
    paypal_standin.fault("refund", "timeout")
    options = {"capture_id": capture_id, "body": RefundRequest(amount=rub("100.00")), "paypal_request_id": "r-once"}
    with pytest.raises(requests.exceptions.Timeout):
        sdk.payments.refund_captured_payment(options)
    assert sdk.payments.refund_captured_payment(options).status_code == 201
    assert len(paypal_standin.state.refunds) == 1


# ------------------------------------------------------------------------------ webhooks and their signatures
def test_webhook_headers_and_signature_verification(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    sdk.orders.capture_order({"id": order_id})
    delivery = webhook_receiver.wait_for(1)[0]
    headers = {k.upper() for k in delivery["headers"]}
    assert {
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    } <= headers
    event = delivery["json"]
    assert event["id"].startswith("WH-")
    assert event["resource_type"] == "capture"
    assert event["summary"] == "Payment completed for 1250.00 RUB"
    assert verify(paypal_standin, delivery) == "SUCCESS"

    altered = json.loads(delivery["body"])
    altered["resource"]["amount"]["value"] = "1.00"
    assert verify(paypal_standin, delivery, event=altered) == "FAILURE"
    assert verify(paypal_standin, delivery, webhook_id="SOMEONEELSE") == "FAILURE"
    forged = dict(delivery, headers={**delivery["headers"], "PAYPAL-TRANSMISSION-SIG": "f" * 64})
    assert verify(paypal_standin, forged) == "FAILURE"


def test_bad_signature_webhook_fails_verification(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    sdk.orders.capture_order({"id": order_id})
    webhook_receiver.wait_for(1)
    sent = paypal_standin.send_webhook(order_id, "PAYMENT.CAPTURE.COMPLETED", bad_signature=True)
    assert sent["deliveries"][0]["delivered"] is True
    assert verify(paypal_standin, webhook_receiver.received[1]) == "FAILURE"
    assert verify(paypal_standin, webhook_receiver.received[0]) == "SUCCESS"


def test_send_webhook_copies_concurrently(sdk, paypal_standin, webhook_receiver):
    """Several copies of one event at the same moment: the race the shop's webhook view must survive (PAY-PAYPAL)."""
    paypal_standin.set_webhook_url(webhook_receiver.url)
    order_id = approved_order(sdk, paypal_standin)
    sdk.orders.capture_order({"id": order_id})
    webhook_receiver.wait_for(1)
    sent = paypal_standin.send_webhook(order_id, "PAYMENT.CAPTURE.COMPLETED", copies=3, concurrent=True)
    assert [d["copy"] for d in sent["deliveries"]] == [1, 2, 3]
    assert all(d["delivered"] and d["concurrent"] for d in sent["deliveries"])
    copies = webhook_receiver.received[1:]
    assert len(copies) == 3
    assert {c["json"]["id"] for c in copies} == {sent["event"]["id"]}
    assert len({c["headers"]["PAYPAL-TRANSMISSION-ID"] for c in copies}) == 3


def test_failed_deliveries_are_retried(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    webhook_receiver.statuses = [500, 503]
    order_id = approved_order(sdk, paypal_standin)
    sdk.orders.capture_order({"id": order_id})
    record = paypal_standin.wait_for_webhooks(1)[0]
    assert [a["status"] for a in record["attempts"]] == [500, 503, 200]
    assert record["delivered"] is True
    assert len(webhook_receiver.received) == 3


def test_unreachable_webhook_url_gives_up_after_retries(sdk, paypal_standin):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    paypal_standin.set_webhook_url(f"http://127.0.0.1:{port}/nobody/")
    sdk.orders.capture_order({"id": approved_order(sdk, paypal_standin)})
    record = paypal_standin.wait_for_webhooks(1)[0]
    assert record["delivered"] is False
    assert len(record["attempts"]) == 4
    assert all(a["status"] is None and a["error"] for a in record["attempts"])


def test_no_webhook_url_means_no_delivery(sdk, paypal_standin):
    sdk.orders.capture_order({"id": approved_order(sdk, paypal_standin)})
    record = paypal_standin.webhooks()[0]
    assert record["skipped"] == "no webhook URL configured"
    with pytest.raises(StandinControlError, match="no webhook URL"):
        paypal_standin.send_webhook(next(iter(paypal_standin.orders)), "PAYMENT.CAPTURE.COMPLETED")


def test_build_webhook_for_djangos_test_client(sdk, paypal_standin):
    order_id = approved_order(sdk, paypal_standin)
    hook = paypal_standin.build_webhook(order_id, "CHECKOUT.ORDER.APPROVED")
    assert json.loads(hook.body)["resource"]["id"] == order_id
    assert hook.django_headers["HTTP_PAYPAL_TRANSMISSION_SIG"] == hook.headers["PAYPAL-TRANSMISSION-SIG"]
    delivery = {"headers": hook.headers, "body": hook.body}
    assert verify(paypal_standin, delivery) == "SUCCESS"
    forged = paypal_standin.build_webhook(order_id, "CHECKOUT.ORDER.APPROVED", bad_signature=True)
    assert verify(paypal_standin, {"headers": forged.headers, "body": forged.body}) == "FAILURE"
    with pytest.raises(StandinControlError, match="no capture yet"):
        paypal_standin.build_webhook(order_id, "PAYMENT.CAPTURE.COMPLETED")


def test_event_lookup_and_resend(sdk, paypal_standin, webhook_receiver):
    paypal_standin.set_webhook_url(webhook_receiver.url)
    sdk.orders.capture_order({"id": approved_order(sdk, paypal_standin)})
    event = webhook_receiver.wait_for(1)[0]["json"]
    fetched = api(paypal_standin, "GET", f"/v1/notifications/webhooks-events/{event['id']}")
    assert fetched.json() == event
    resent = api(paypal_standin, "POST", f"/v1/notifications/webhooks-events/{event['id']}/resend", {})
    assert resent.status_code == 202
    assert webhook_receiver.wait_for(2)[1]["json"] == event


# ------------------------------------------------------------------------------ control API
def test_request_log_shows_what_the_shop_sent(sdk, paypal_standin):
    sdk.orders.create_order({"body": an_order(), "paypal_request_id": "SO-7-create"})
    entry = paypal_standin.requests("/v2/checkout/orders")[0]
    assert entry["method"] == "POST"
    assert entry["status"] == 201
    assert entry["headers"]["PayPal-Request-Id"] == "SO-7-create"
    assert entry["headers"]["Authorization"] == "Bearer <redacted>"
    assert entry["body"]["purchase_units"][0]["invoice_id"] == "SO-7"
    token_entry = paypal_standin.requests("/v1/oauth2/token")[0]
    assert token_entry["body"] == {"grant_type": "client_credentials"}


def test_reset_forgets_everything_but_tokens(sdk, paypal_standin):
    order_id = approved_order(sdk, paypal_standin)
    paypal_standin.fault("capture", "500")
    paypal_standin.reset()
    assert paypal_standin.orders == {}
    assert paypal_standin.faults() == []
    assert paypal_standin.requests() == []
    assert sdk.orders.create_order({"body": an_order()}).status_code == 201  # the cached token still works
    with pytest.raises(StandinControlError, match=f"no order {order_id}"):
        paypal_standin.approve(order_id)


def test_fixture_points_settings_at_the_standin(paypal_standin):
    assert paypal_standin.url == settings.PAYPAL_API_BASE
    assert settings.PAYPAL_WEBHOOK_ID.isalnum()
    assert paypal_standin.config()["webhook_id"] == settings.PAYPAL_WEBHOOK_ID
    assert StandinClient(paypal_standin.url).orders == {}


def test_management_command_serves_until_interrupted(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    manage = Path(settings.BASE_DIR) / "manage.py"
    process = subprocess.Popen(
        [sys.executable, str(manage), "paypal_standin", "--port", str(port), "--quiet", "--webhook-id", "WH1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client = StandinClient(f"http://127.0.0.1:{port}", timeout=2)
        deadline = time.monotonic() + 20
        while True:
            try:
                config = client.config()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert config["webhook_id"] == "WH1"
        answer = requests.post(
            f"http://127.0.0.1:{port}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(settings.PAYPAL_CLIENT_ID, settings.PAYPAL_CLIENT_SECRET),
            timeout=5,
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"PayPal stand-in on http://127.0.0.1:{port}" in output
    assert "Stopping the PayPal stand-in." in output


def test_amount_mismatch_on_a_tiny_amount_captures_more(paypal_standin):
    body = {"intent": "CAPTURE", "purchase_units": [{"amount": {"currency_code": "RUB", "value": "0.50"}}]}
    order_id = api(paypal_standin, "POST", "/v2/checkout/orders", body).json()["id"]
    paypal_standin.approve(order_id)
    paypal_standin.fault("capture", "amount_mismatch")
    captured = api(paypal_standin, "POST", f"/v2/checkout/orders/{order_id}/capture").json()
    assert captured["purchase_units"][0]["payments"]["captures"][0]["amount"]["value"] == "1.50"


@pytest.mark.django_db(transaction=True)
def test_live_fixture_delivers_to_the_shops_webhook_view(paypal_standin_live, live_server):
    """paypal_standin_live aims webhooks at the shop's own view; a forged one reaches it and is refused."""
    from django.urls import reverse

    assert paypal_standin_live.config()["webhook_url"] == live_server.url + reverse("payments:paypal_webhook")
    sdk = make_sdk()
    order_id = sdk.orders.create_order({"body": an_order()}).body.id
    paypal_standin_live.approve(order_id)
    sdk.orders.capture_order({"id": order_id})
    paypal_standin_live.wait_for_webhooks(1)
    sent = paypal_standin_live.send_webhook(order_id, "PAYMENT.CAPTURE.COMPLETED", bad_signature=True)
    statuses = [attempt["status"] for attempt in sent["deliveries"][0]["attempts"]]
    assert statuses and all(400 <= status < 500 for status in statuses)
    assert sent["deliveries"][0]["delivered"] is False


def test_request_log_keeps_the_latest_entries(paypal_standin, monkeypatch):
    import paypal_standin.state.control as standin_control

    monkeypatch.setattr(standin_control, "LOG_LIMIT", 3)
    for number in range(5):
        requests.get(f"{paypal_standin.url}/v2/checkout/orders/N{number}", timeout=5)
    assert [e["path"] for e in paypal_standin.requests()] == [f"/v2/checkout/orders/N{n}" for n in (2, 3, 4)]
    assert {e["status"] for e in paypal_standin.requests()} == {401}
