"""factory_boy factories for the whole suite. Add yours here, grouped by app."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from djmoney.money import Money

from shop.models import Category, DeliveryMethod, DeliveryRate, Product, Region


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"customer{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = "Anna"
    last_name = "Petrova"
    password = factory.django.Password("correct-horse-battery")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Binocular {n}x42")
    slug = factory.Sequence(lambda n: f"binocular-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    description = "Roof prism binocular with multi-coated optics."
    price = Money(Decimal("4990.00"), "RUB")
    stock = 10
    is_active = True


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Region {n}")
    code = factory.Sequence(lambda n: f"R{n}")
    in_territory = True


class DeliveryMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryMethod
        django_get_or_create = ("code",)

    code = "airmail"
    name = "International air mail"
    carrier = "Russian Post"
    is_default = True
    delivery_days_min = 7
    delivery_days_max = 14
    requires_tracking = False


class DeliveryRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeliveryRate

    region = factory.SubFactory(RegionFactory)
    method = factory.SubFactory(DeliveryMethodFactory)
    price = Money(Decimal("350.00"), "RUB")
