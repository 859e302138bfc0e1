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


# --- orders ---------------------------------------------------------------------------------
class OrderFactory(factory.django.DjangoModelFactory):
    """A confirmed cash-on-delivery order; pass ``status``/``payment_method`` for others.

    Totals are the stored (price-locked) values; add lines with ``OrderLineFactory(order=...)``.
    """

    class Meta:
        model = "orders.Order"

    user = None
    status = "processing"
    email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    full_name = "Anna Petrova"
    phone = "+79161234567"
    address = "12 Lenina street, flat 5"
    city = "Moscow"
    postcode = "101000"
    region = factory.SubFactory(RegionFactory)
    delivery_method = factory.SubFactory(DeliveryMethodFactory)
    payment_method = "cash_courier"
    subtotal = Money(Decimal("4990.00"), "RUB")
    delivery_cost = Money(Decimal("350.00"), "RUB")
    discount = Money(Decimal("0.00"), "RUB")
    total = Money(Decimal("5340.00"), "RUB")
    checkout_token = factory.Sequence(lambda n: f"factory-token-{n:08d}")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "orders.OrderLine"

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.LazyAttribute(lambda o: o.product.name if o.product else "Binocular 8x42")
    sku = factory.LazyAttribute(lambda o: o.product.sku if o.product else "SKU-00000")
    unit_price = Money(Decimal("4990.00"), "RUB")
    quantity = 1
    line_total = factory.LazyAttribute(lambda o: Money(o.unit_price.amount * o.quantity, o.unit_price.currency))
