"""The delivery promise on product pages and in the cart (SHIP-WITHIN-2BD, SHIP-BUSINESS-HOURS, SHIP-METHODS),
with a frozen clock: a Friday afternoon, and the days before the New Year holidays."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from shop.delivery import delivery_promise
from tests.factories import ProductFactory
from tests.orders.checkout_support import contact_data, guest_cart, make_catalogue

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


def promise_text(response) -> str:
    page = response.content.decode()
    start = page.index('id="delivery-promise"')
    return " ".join(page[start : page.index("</p>", start)].split())


@pytest.fixture
def catalogue():
    return make_catalogue()


def test_ship_within_2bd_promise_friday_afternoon_counts_down_to_closing_and_ships_tuesday(client, catalogue):
    """SHIP-WITHIN-2BD: Friday 12:50, open until 15:00 → order in the next 2 h 10 min, ships by Tuesday."""
    product = ProductFactory()
    with time_machine.travel(dt.datetime(2026, 12, 11, 12, 50, tzinfo=MSK), tick=False):
        text = promise_text(client.get(product.get_absolute_url()))

    assert "Order in the next <strong>2 h 10 min</strong>" in text
    assert "ships by <strong>Tue 15 Dec</strong>" in text
    # Processing (at most 3 business days) then 7–14 business days of air mail: 10 and 17 business days
    # after Friday, the second across the New Year holidays (31 Dec – 10 Jan are not business days).
    assert "arrives <strong>25 Dec – 14 Jan</strong>" in text
    assert "by International air mail" in text


def test_ship_business_hours_promise_after_friday_closing_moves_to_monday_and_ships_wednesday(client, catalogue):
    """SHIP-BUSINESS-HOURS: past Friday's closing, an order counts from Monday's opening."""
    product = ProductFactory()
    with time_machine.travel(dt.datetime(2026, 12, 11, 15, 1, tzinfo=MSK), tick=False):
        text = promise_text(client.get(product.get_absolute_url()))

    assert "Order by <strong>Mon 14 Dec, 15:00</strong>" in text
    assert "ships by <strong>Wed 16 Dec</strong>" in text


def test_ship_within_2bd_promise_before_the_new_year_holidays_skips_them(client, catalogue):
    """SHIP-WITHIN-2BD: RU has no business day from 31 Dec to 10 Jan 2027; the promise jumps over them."""
    product = ProductFactory()
    with time_machine.travel(dt.datetime(2026, 12, 29, 14, 0, tzinfo=MSK), tick=False):
        tuesday = promise_text(client.get(product.get_absolute_url()))
    with time_machine.travel(dt.datetime(2026, 12, 30, 16, 0, tzinfo=MSK), tick=False):
        after_last_closing = promise_text(client.get(product.get_absolute_url()))

    assert "Order in the next <strong>1 h 0 min</strong>" in tuesday
    assert "ships by <strong>Mon 11 Jan</strong>" in tuesday
    assert "Order by <strong>Mon 11 Jan, 15:00</strong>" in after_last_closing
    assert "ships by <strong>Wed 13 Jan</strong>" in after_last_closing


def test_ship_methods_promise_uses_the_customers_region_once_known(client, catalogue):
    """SHIP-METHODS: once the customer chose a region at checkout, the promise names it and its default method."""
    product = ProductFactory()
    guest_cart(client, [(product, 1)])
    client.post(reverse("checkout:start"), contact_data(catalogue.kaliningrad))

    with time_machine.travel(dt.datetime(2026, 12, 11, 12, 50, tzinfo=MSK), tick=False):
        cart_text = promise_text(client.get(reverse("shop:cart")))

    assert "by International air mail to Kaliningrad Oblast" in cart_text
    assert "ships by <strong>Tue 15 Dec</strong>" in cart_text


def test_ship_methods_promise_without_a_delivery_method_or_for_an_empty_cart_is_not_shown(client):
    product = ProductFactory()
    assert 'id="delivery-promise"' not in client.get(product.get_absolute_url()).content.decode()
    make_catalogue()
    assert 'id="delivery-promise"' not in client.get(reverse("shop:cart")).content.decode()


def test_ship_within_2bd_promise_follows_the_policy(policy, catalogue):
    """SHIP-WITHIN-2BD: the number of business days is the Policy's, not a literal."""
    policy.ship_within_days = 4
    policy.save()
    promise = delivery_promise(now=dt.datetime(2026, 12, 11, 12, 50, tzinfo=MSK), policy=policy)
    assert promise.ships_by == dt.date(2026, 12, 17)
    assert promise.left == dt.timedelta(hours=2, minutes=10)


def test_ship_methods_promise_uses_the_default_address_region_of_a_logged_in_customer(client, catalogue):
    """SHIP-METHODS: a customer with a default address sees the promise for its region before checkout."""
    from shop.models import Address
    from tests.factories import UserFactory

    user = UserFactory(username="anna")
    Address.objects.create(
        user=user,
        full_name="Anna Petrova",
        phone="+79161234567",
        address="3 Mira avenue",
        city="Kaliningrad",
        postcode="236000",
        region=catalogue.kaliningrad,
        is_default=True,
    )
    client.force_login(user)
    product = ProductFactory()
    with time_machine.travel(dt.datetime(2026, 12, 11, 12, 50, tzinfo=MSK), tick=False):
        text = promise_text(client.get(product.get_absolute_url()))
    assert "by International air mail to Kaliningrad Oblast" in text
