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
