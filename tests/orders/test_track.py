"""Track an order without an account: order number + e-mail (seed 002 §2.6, DLV-HANDOVER)."""

import re
import secrets

import pytest
from django.urls import reverse

from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db
URL = reverse("orders:track")


@pytest.fixture
def client(client):
    """A client from an address of its own: the rate limit counts per address in the shared cache
    (Redis in CI), so no test inherits another's tries (and nothing flushes a cache the broker shares)."""
    client.defaults["REMOTE_ADDR"] = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    return client


def test_track_with_number_and_email_opens_the_customers_order_page(client):
    order = make_order(status="processing", payment_method="cash_courier", email="Olga@Example.com")
    response = client.post(URL, {"number": f" {order.number.lower()} ", "email": "olga@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("orders:detail", args=[order.number])
    page = client.get(response["Location"])
    assert page.status_code == 200 and f"Order {order.number}" in page.content.decode()


def test_track_answers_the_same_for_a_wrong_number_and_a_wrong_email(client):
    order = make_order(status="processing", payment_method="cash_courier", email="olga@example.com")
    wrong_email = client.post(URL, {"number": order.number, "email": "someone@example.com"})
    wrong_number = client.post(URL, {"number": "RX-AAAA-AAAA", "email": "olga@example.com"})
    assert wrong_email.status_code == wrong_number.status_code == 200
    assert "We could not find an order" in wrong_email.content.decode()

    def page(response):  # the answer without what the visitor typed and the form's one-time token
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
        return html.replace(order.number, "").replace("RX-AAAA-AAAA", "").replace("someone", "olga")

    assert page(wrong_email) == page(wrong_number)
    assert client.get(reverse("orders:detail", args=[order.number])).status_code == 404  # no access granted


def test_track_bad_input_gets_a_message_next_to_the_field(client):
    response = client.post(URL, {"number": "", "email": "not-an-email"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter the order number." in html
    assert "Please enter a valid e-mail address" in html


def test_track_guessing_is_rate_limited_per_address_and_the_right_answer_waits_too(client):
    order = make_order(status="processing", payment_method="cash_courier", email="olga@example.com")
    for i in range(10):
        assert client.post(URL, {"number": f"RX-AAAA-{i:04d}", "email": "olga@example.com"}).status_code == 200
    limited = client.post(URL, {"number": order.number, "email": "olga@example.com"})
    assert limited.status_code == 429
    assert "Too many tries" in limited.content.decode()
    assert client.get(reverse("orders:detail", args=[order.number])).status_code == 404
    other = client.post(URL, {"number": order.number, "email": "olga@example.com"}, REMOTE_ADDR="192.0.2.77")
    assert other.status_code == 302  # another address is not limited by this one's guesses
