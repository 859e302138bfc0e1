"""SHIP-COST-BY-REGION, SHIP-METHODS: delivery options and their cost."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from djmoney.money import Money

from shop.delivery import DeliveryUnavailable, delivery_cost, delivery_estimate, delivery_options
from tests.factories import ProductFactory
from tests.orders.checkout_support import contact_data, guest_cart, make_catalogue

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")


def test_ship_cost_by_region_depends_only_on_region_and_method():
    cat = make_catalogue()
    assert delivery_cost(region=cat.moscow, method=cat.airmail) == Money(Decimal("350.00"), "RUB")
    assert delivery_cost(region=cat.moscow, method=cat.express) == Money(Decimal("1200.00"), "RUB")
    assert delivery_cost(region=cat.kaliningrad, method=cat.airmail.pk) == Money(Decimal("700.00"), "RUB")


def test_ship_cost_by_region_options_default_air_mail_first_with_windows():
    cat = make_catalogue()
    options = delivery_options(region=cat.moscow)
    assert [o.method.code for o in options] == ["airmail", "express"]
    assert options[0].is_default
    assert (options[0].days_min, options[0].days_max) == (7, 14)
    assert options[1].window_label == "2–4 business days"


def test_ship_cost_by_region_outside_territory_or_without_rate_has_no_options():
    cat = make_catalogue()
    # Atlantis has a rate, but is not in the delivery territory (ORD-TERRITORY).
    assert delivery_options(region=cat.abroad) == []
    # Kaliningrad has no express rate.
    assert [o.method.code for o in delivery_options(region=cat.kaliningrad)] == ["airmail"]
    with pytest.raises(DeliveryUnavailable):
        delivery_cost(region=cat.kaliningrad, method=cat.express)
    with pytest.raises(DeliveryUnavailable):
        delivery_cost(region=cat.abroad, method=cat.airmail)


def test_ship_cost_by_region_inactive_method_is_not_offered():
    cat = make_catalogue()
    cat.express.is_active = False
    cat.express.save()
    assert [o.method.code for o in delivery_options(region=cat.moscow)] == ["airmail"]


def test_ship_cost_by_region_customer_sees_same_price_for_one_light_or_many_heavy_items(client):
    """What the customer sees on the delivery step: the region's price, whatever the cart holds."""
    cat = make_catalogue()
    light = ProductFactory(name="Lens cloth", price=Money(Decimal("150.00"), "RUB"))
    heavy = ProductFactory(name="Telescope 200mm", price=Money(Decimal("9000.00"), "RUB"), stock=50)

    guest_cart(client, [(light, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    small = client.get(reverse("checkout:delivery")).content.decode()

    client.cookies.clear()
    guest_cart(client, [(heavy, 5)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    big = client.get(reverse("checkout:delivery")).content.decode()

    for page in (small, big):
        assert "RUB 350.00" in page and "RUB 1,200.00" in page
        assert "International air mail" in page and "7–14 business days" in page

    client.post(reverse("checkout:start"), contact_data(cat.kaliningrad, city="Kaliningrad"))
    page = client.get(reverse("checkout:delivery")).content.decode()
    assert "RUB 700.00" in page
    assert "Express courier" not in page


def test_delivery_estimate_counts_business_days_from_next_opening():
    """SHIP-PROCESSING-TIME: Friday after hours → counting starts Monday's opening."""
    make_catalogue()
    friday_evening = dt.datetime(2026, 3, 13, 18, 0, tzinfo=MSK)
    with time_machine.travel(friday_evening, tick=False):
        estimate = delivery_estimate(start=friday_evening, days_min=7, days_max=14)
    # Opening Mon 16 Mar; +1 → Tue 17, +3 → Thu 19; +3+7 → Mon 30 Mar; +3+14 → Wed 8 Apr.
    assert estimate.processing_from == dt.date(2026, 3, 17)
    assert estimate.processing_to == dt.date(2026, 3, 19)
    assert estimate.delivery_from == dt.date(2026, 3, 30)
    assert estimate.delivery_to == dt.date(2026, 4, 8)
