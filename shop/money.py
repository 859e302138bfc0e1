"""The one rounding rule for money.

Amounts are rounded to the currency's minor unit, half up (0.005 → 0.01), once, where a sum or a
product of prices is turned into an amount the shop stores or sends. HUF, JPY and TWD have no minor
unit at PayPal and are rounded to whole units. Prices and totals are ``Money`` (django-money) with a
``Decimal`` amount; a float never touches them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from djmoney.money import Money

#: Currencies PayPal takes without decimals; every other one has two.
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})


def quantize(amount, currency) -> Decimal:
    """``amount`` rounded half up to ``currency``'s minor unit."""
    exponent = Decimal("1") if str(currency) in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return Decimal(str(amount)).quantize(exponent, rounding=ROUND_HALF_UP)


def money(amount, currency=None) -> Money:
    """A rounded ``Money``: from a Money (its own currency) or from a number and a currency."""
    if isinstance(amount, Money):
        return Money(quantize(amount.amount, amount.currency), amount.currency)
    return Money(quantize(amount, currency), currency)
