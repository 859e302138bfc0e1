from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop: catalogue, cart, policy and calendar"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, pre_save

        from . import checks, signals  # noqa: F401 (checks registers the deploy checks)
        from .models import ProductImage

        user_logged_in.connect(signals.merge_cart_on_login, dispatch_uid="shop.merge_cart_on_login")
        pre_save.connect(signals.picture_replaced, sender=ProductImage, dispatch_uid="shop.picture_replaced")
        post_delete.connect(signals.picture_deleted, sender=ProductImage, dispatch_uid="shop.picture_deleted")
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
