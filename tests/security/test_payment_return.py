"""Issue #10, problem 10: PayPal's return URL and the payment start act only for the order's browser."""

import pytest
from django.test import Client
from django.urls import reverse

from orders.models import Order
from payments.models import Payment
from tests.payments.payment_support import capture_requests, make_order, path_of, start_paypal

pytestmark = pytest.mark.django_db


def test_security_paypal_return_from_another_browser_neither_captures_nor_reveals_the_order(client, paypal_standin):
    order = make_order()
    payment = start_paypal(client, order)
    redirect = paypal_standin.approve(payment.paypal_order_id)["redirect_url"]
    stranger = Client()

    response = stranger.get(path_of(redirect))

    assert response.status_code == 404
    assert order.number not in response.content.decode()
    assert "Location" not in response
    assert capture_requests(paypal_standin) == []
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CREATED
    # The customer's own browser still captures.
    own = client.get(path_of(redirect))
    assert own["Location"] == order.get_absolute_url()
    order.refresh_from_db()
    assert order.status == Order.Status.PROCESSING


def test_security_paypal_cancel_from_another_browser_does_not_reveal_the_order(client, paypal_standin):
    order = make_order()
    payment = start_paypal(client, order)
    redirect = paypal_standin.cancel(payment.paypal_order_id)["redirect_url"]

    response = Client().get(path_of(redirect))

    assert response.status_code == 404
    assert order.number not in response.content.decode()


def test_security_payment_start_by_get_is_refused_405_and_creates_no_paypal_order(client, paypal_standin):
    order = make_order()
    client.force_login(order.user)

    response = client.get(reverse("payments:start", kwargs={"number": order.number}))

    assert response.status_code == 405
    assert not order.payments.exists()
    assert [r for r in paypal_standin.requests("/v2/checkout/orders") if r["method"] == "POST"] == []


def test_security_payment_start_from_another_browser_is_404(paypal_standin):
    order = make_order()

    response = Client().post(reverse("payments:start", kwargs={"number": order.number}))

    assert response.status_code == 404
    assert not order.payments.exists()


def test_security_payment_start_needs_the_csrf_token(paypal_standin):
    """A POST from another site (no CSRF token) in the owner's browser starts nothing."""
    order = make_order()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(order.user)

    response = browser.post(reverse("payments:start", kwargs={"number": order.number}))

    assert response.status_code == 403
    assert not order.payments.exists()
