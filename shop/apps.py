from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop: catalogue, cart, policy and calendar"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks, signals  # noqa: F401 (checks registers the deploy checks)

        user_logged_in.connect(signals.merge_cart_on_login, dispatch_uid="shop.merge_cart_on_login")
