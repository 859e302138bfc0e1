from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop: catalogue, cart, policy and calendar"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks, signals  # noqa: F401 (checks registers the deploy checks)

        user_logged_in.connect(signals.merge_cart_on_login, dispatch_uid="shop.merge_cart_on_login")
        _money_writes_through_format_money()


def _money_writes_through_format_money() -> None:
    """Every ``str(Money)`` (templates, the admin's MoneyField columns, f-strings) uses shop.money.format_money.

    django-money formats with Babel's pattern of the active locale, which glues the code to the
    number in English (``RUB5,490.00``); the shop writes money one way per language instead.
    """
    from django.utils.html import conditional_escape
    from django.utils.safestring import mark_safe
    from djmoney.money import Money

    from .money import format_money

    Money.__str__ = lambda self: format_money(self)
    Money.__html__ = lambda self: mark_safe(conditional_escape(format_money(self)))  # noqa: S308
