"""Pay on delivery only with delivery methods whose carrier can collect money at the door (issue #12), and the
customer is told who processes a card paid online before leaving the shop."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from tests.factories import ProductFactory
from tests.orders.checkout_support import contact_data, guest_cart, make_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat():
    return make_catalogue()


def _payment_step(client, cat, method):
    item = ProductFactory(name="Binocular 10x50", price=Money(Decimal("4990.00"), "RUB"), stock=20)
    guest_cart(client, [(item, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(method.pk)})
    return client.get(reverse("checkout:payment")).content.decode()


def test_pay_on_delivery_offered_only_with_methods_that_collect_at_the_door(client, cat):
    cat.express.name, cat.express.collects_payment = "DHL Express courier", False
    cat.express.save()
    page = _payment_step(client, cat, cat.express)
    assert 'value="cash_courier"' not in page and 'value="card_courier"' not in page
    assert "Cash to the courier is not available: DHL Express courier cannot collect money at the door" in page
    response = client.post(reverse("checkout:payment"), {"payment_method": "cash_courier"})
    assert "cannot collect money at the door" in response.content.decode()
    assert client.session["checkout"].get("payment", {}).get("payment_method") != "cash_courier"

    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})  # Russian Post can
    page = client.get(reverse("checkout:payment")).content.decode()
    assert 'value="cash_courier"' in page and 'value="card_courier"' in page


def test_card_online_says_who_processes_the_card_before_leaving(client, cat):
    page = _payment_step(client, cat, cat.airmail)
    assert "Your card is processed by PayPal" in page
    client.post(reverse("checkout:payment"), {"payment_method": "card_online"})
    review = client.get(reverse("checkout:review")).content.decode()
    assert "Your card is processed by PayPal" in review


def test_card_online_landing_page_says_paypal_processes_the_card(client, paypal_standin, policy):
    import requests

    from tests.payments.payment_support import make_order, start_paypal

    order = make_order(payment_method="card_online")
    payment = start_paypal(client, order)
    page = requests.get(payment.approve_url, timeout=5).text
    assert "<title>Pay by bank card (processed by PayPal)" in page
    assert f"Your bank card is processed by PayPal on behalf of {policy.shop_name}" in page
