"""Helpers shared by the checkout and order-page tests (not a test module)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from djmoney.money import Money

from shop.models import Cart, CartLine, DeliveryMethod, Region
from tests.factories import DeliveryMethodFactory, DeliveryRateFactory, ProductFactory, RegionFactory


@dataclass
class Catalogue:
    moscow: Region
    kaliningrad: Region
    abroad: Region  # outside the delivery territory
    airmail: DeliveryMethod
    express: DeliveryMethod


def make_catalogue() -> Catalogue:
    moscow = RegionFactory(name="Moscow", code="MOW")
    kaliningrad = RegionFactory(name="Kaliningrad Oblast", code="KGD")
    abroad = RegionFactory(name="Atlantis", code="ATL", in_territory=False)
    airmail = DeliveryMethodFactory(code="airmail", is_default=True, position=1)
    express = DeliveryMethodFactory(
        code="express",
        name="Express courier (DHL)",
        carrier="DHL",
        is_default=False,
        delivery_days_min=2,
        delivery_days_max=4,
        requires_tracking=True,
        position=2,
    )
    DeliveryRateFactory(region=moscow, method=airmail, price=Money(Decimal("350.00"), "RUB"))
    DeliveryRateFactory(region=moscow, method=express, price=Money(Decimal("1200.00"), "RUB"))
    DeliveryRateFactory(region=kaliningrad, method=airmail, price=Money(Decimal("700.00"), "RUB"))
    DeliveryRateFactory(region=abroad, method=airmail, price=Money(Decimal("100.00"), "RUB"))
    return Catalogue(moscow, kaliningrad, abroad, airmail, express)


def guest_cart(client, items) -> Cart:
    """A guest's cart tied to the test client's session; ``items`` is [(product, quantity), ...]."""
    session = client.session
    session.save()
    cart = Cart.objects.create(session_key=session.session_key)
    session["cart_id"] = cart.pk
    session.save()
    for product, quantity in items:
        CartLine.objects.create(cart=cart, product=product, quantity=quantity)
    return cart


def user_cart(user, items) -> Cart:
    cart = Cart.objects.create(user=user)
    for product, quantity in items:
        CartLine.objects.create(cart=cart, product=product, quantity=quantity)
    return cart


def contact_data(region: Region, **overrides) -> dict:
    data = {
        "full_name": "Anna Petrova",
        "email": "anna@example.com",
        "phone": "8 (916) 123-45-67",
        "address": "12 Lenina street, flat 5",
        "city": "Moscow",
        "postcode": "101000",
        "region": str(region.pk),
    }
    data.update(overrides)
    return data


def checkout_to_review(client, *, region, method, payment="cash_courier", inserts=False, **contact):
    """Walk the steps as a browser would; returns the review page response."""
    response = client.post(reverse("checkout:start"), contact_data(region, **contact))
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(reverse("checkout:delivery"), {"delivery_method": str(method.pk)})
    assert response.status_code == 302, response.content.decode()[:2000]
    data = {"payment_method": payment}
    if inserts:
        data["no_marketing_inserts"] = "on"
    response = client.post(reverse("checkout:payment"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.get(reverse("checkout:review"))
    assert response.status_code == 200
    return response


def review_token(response) -> str:
    match = re.search(r'name="token" value="([0-9a-f]+)"', response.content.decode())
    assert match, "the review page embeds no checkout token"
    return match.group(1)


def product(**kwargs):
    return ProductFactory(**kwargs)
