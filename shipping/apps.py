from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "shipping"
    verbose_name = "Fulfilment"

    def ready(self) -> None:
        # Hook receivers (shop/hooks.py) are registered here, one line each, with the rule they serve.
        pass
