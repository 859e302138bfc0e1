"""Helpers for the SHIP-SUBCONTRACTOR tests (not a test module)."""

from __future__ import annotations

from decimal import Decimal

from djmoney.money import Money

from orders.checkout import checkout_token, order_confirm
from orders.models import Order
from shipping.models import FulfilmentPartner
from shop.cart import cart_lines
from shop.models import Email
from tests.factories import ProductFactory, UserFactory
from tests.orders.checkout_support import Catalogue, contact_data, user_cart


def make_partner(**kwargs) -> FulfilmentPartner:
    """The default active partner, e-mail only (the ``fulfilment_partner`` fixture has an endpoint)."""
    fields = {"name": "Courier Partner LLC", "email": "orders@partner.example", "is_default": True}
    return FulfilmentPartner.objects.create(**{**fields, **kwargs})


def binocular(**kwargs):
    fields = {"name": "Binocular 10x50", "sku": "BN-TEST-1050", "price": Money(Decimal("4990.00"), "RUB"), "stock": 20}
    return ProductFactory(**{**fields, **kwargs})


def confirm_cod(cat: Catalogue, product, *, quantity: int = 2, inserts: bool = True, payment="cash_courier") -> Order:
    """A customer confirms a cash-on-delivery order through ``orders.checkout.order_confirm`` (express, Moscow)."""
    cart = user_cart(UserFactory(), [(product, quantity)])
    details = {
        **contact_data(cat.moscow, phone="+79161234567"),
        "delivery_method": cat.express.pk,
        "payment_method": payment,
        "no_marketing_inserts": inserts,
    }
    token = checkout_token(cart=cart, lines=cart_lines(cart), details=details)
    return order_confirm(cart=cart, token=token, details=details, actor=None)


def partner_emails(partner: FulfilmentPartner) -> list[Email]:
    return list(Email.objects.filter(to=partner.email))
