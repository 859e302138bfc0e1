"""Amounts as PayPal writes them: ``{"currency_code": "EUR", "value": "10.00"}``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Currencies PayPal treats as having no minor unit (https://developer.paypal.com/api/rest/reference/currency-codes/).
ZERO_DECIMAL_CURRENCIES = frozenset({"HUF", "JPY", "TWD"})
VALUE_PATTERN = re.compile(r"^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$")  # the `money.value` pattern of the specs
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


def places(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def parse_value(value) -> Decimal | None:
    """The Decimal of a money ``value`` string, or None when it does not match PayPal's pattern."""
    if not isinstance(value, str) or not VALUE_PATTERN.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def has_valid_precision(value: str, currency: str) -> bool:
    decimals = len(value.split(".", 1)[1]) if "." in value else 0
    return decimals <= places(currency)


def fmt(amount: Decimal, currency: str) -> str:
    quantum = Decimal(1).scaleb(-places(currency))
    return str(amount.quantize(quantum))


def money(amount: Decimal, currency: str) -> dict:
    return {"currency_code": currency, "value": fmt(amount, currency)}
