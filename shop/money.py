"""The one rounding rule for money.

Amounts are rounded to the currency's minor unit, half up (0.005 → 0.01), once, where a sum or a
product of prices is turned into an amount the shop stores or sends. HUF, JPY and TWD have no minor
unit at PayPal and are rounded to whole units. Prices and totals are ``Money`` (django-money) with a
``Decimal`` amount; a float never touches them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

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


#: How each language writes an amount (CLDR patterns, Babel's syntax). Russian is Babel's own
#: (``12 990,00 ₽``, no-break spaces); English writes the ISO code and a space (``RUB 12,990.00``),
#: which Babel's ``en`` pattern would glue to the number (``RUB12,990.00``).
MONEY_PATTERNS = {"ru": None, "en": "¤¤ #,##0.00"}
DEFAULT_MONEY_LANGUAGE = "en"


def _language(language: str | None) -> str:
    if language is None:
        from django.utils import translation

        language = translation.get_language() or DEFAULT_MONEY_LANGUAGE
    language = language.split("-")[0].split("_")[0].lower()
    return language if language in MONEY_PATTERNS else DEFAULT_MONEY_LANGUAGE


@cache
def _babel(language: str):
    """The language's Babel locale and money pattern, parsed once per process (issue #14: a sweep writes
    thousands of amounts into its e-mails; parsing them each time was most of the cost)."""
    from babel import Locale
    from babel.numbers import parse_pattern

    pattern = MONEY_PATTERNS[language]
    return Locale.parse(language), parse_pattern(pattern) if pattern else None


def format_money(value, currency=None, *, language: str | None = None) -> str:
    """The one way an amount is written, per language: ``12 990,00 ₽`` (ru), ``RUB 12,990.00`` (en).

    ``value`` is a ``Money`` or a number with ``currency``. ``language`` defaults to the active
    Django language. Pages, e-mails, PDFs, the admin (djmoney's ``Money.__str__`` calls this, see
    ``ShopConfig.ready``) and the PayPal stand-in's approval page all write money through here.
    """
    from babel.numbers import format_currency

    if hasattr(value, "currency") and hasattr(value, "amount"):
        amount, code = value.amount, str(value.currency)
    else:
        amount, code = value, str(currency)
    locale, pattern = _babel(_language(language))
    return format_currency(quantize(amount, code), code, format=pattern, locale=locale, currency_digits=True)
