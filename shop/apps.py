from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = _("Shop: catalogue, cart, policy and calendar")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_delete, post_save, pre_save

        from . import checks, models, signals  # noqa: F401 (checks registers the deploy checks)
        from .catalogue_cache import catalogue_changed
        from .models import ProductImage

        user_logged_in.connect(signals.merge_cart_on_login, dispatch_uid="shop.merge_cart_on_login")
        pre_save.connect(signals.picture_replaced, sender=ProductImage, dispatch_uid="shop.picture_replaced")
        post_delete.connect(signals.picture_deleted, sender=ProductImage, dispatch_uid="shop.picture_deleted")
        # Issue #14: Policy.load() reads the row once per request.
        request_started.connect(models.policy_memo_start, dispatch_uid="shop.policy_memo_start")
        request_finished.connect(models.policy_memo_end, dispatch_uid="shop.policy_memo_end")
        # Issue #14: what the cached catalogue pages show changed (shop/catalogue_cache.py).
        for model in (
            models.Product,
            models.ProductImage,
            models.Category,
            models.Policy,
            models.DeliveryMethod,
            models.DeliveryRate,
            models.Region,
        ):
            post_save.connect(catalogue_changed, sender=model, dispatch_uid=f"shop.catalogue.save.{model.__name__}")
            post_delete.connect(catalogue_changed, sender=model, dispatch_uid=f"shop.catalogue.del.{model.__name__}")
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
