"""``manage.py load_demo``: a realistic demo shop, loaded idempotently."""

from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse

from shop.models import (
    Category,
    Closure,
    DeliveryMethod,
    DeliveryRate,
    PaymentMethod,
    Policy,
    Product,
    Region,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    """load_demo is a development tool (pytest-django runs with DEBUG off)."""
    settings.DEBUG = True


MODELS = [Policy, Category, Product, Region, DeliveryMethod, DeliveryRate, Closure, get_user_model()]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_load_demo_twice_creates_nothing_twice():
    load()
    first = counts()
    load()

    assert counts() == first
    assert first["Product"] >= 25
    assert first["Category"] >= 5
    assert first["Policy"] == 1


def test_load_demo_restores_edited_demo_rows_instead_of_duplicating():
    load()
    Product.objects.filter(sku="BN-STU-0842").update(stock=0)
    before = counts()

    load()

    assert counts() == before
    assert Product.objects.get(sku="BN-STU-0842").stock == 14


def test_demo_has_an_out_of_stock_product_and_one_over_the_prepay_threshold(client):
    load()
    threshold = Policy.load().prepay_threshold_amount

    out_of_stock = Product.objects.filter(stock=0, is_active=True)
    expensive = Product.objects.filter(price__gt=threshold, is_active=True)
    assert out_of_stock.exists()
    assert expensive.filter(price__gte=Decimal("100000")).exists()
    page = client.get(out_of_stock.first().get_absolute_url()).content.decode()
    assert "Out of stock" in page


def test_demo_products_vary_in_warranty_and_payment_methods():
    load()
    products = list(Product.objects.all())

    assert {p.warranty_months for p in products} >= {12, 24, 36, None}
    on_delivery = {PaymentMethod.CASH_COURIER.value, PaymentMethod.CARD_COURIER.value}
    assert any(not on_delivery & set(p.payment_methods) for p in products)
    assert any(on_delivery <= set(p.payment_methods) for p in products)
    assert all(p.payment_methods for p in products)
    assert all(p.price.currency.code == "RUB" for p in products)


def test_demo_territory_methods_and_a_rate_for_every_region_and_method():
    load()
    territory = Region.objects.filter(in_territory=True)
    methods = DeliveryMethod.objects.all()

    assert territory.count() >= 3
    assert Region.objects.filter(in_territory=False).exists()
    assert set(methods.values_list("code", flat=True)) >= {"airmail", "dhl", "ups", "courier"}
    assert DeliveryRate.objects.filter(region__in=territory).count() == territory.count() * methods.count()
    assert not DeliveryRate.objects.filter(region__in_territory=False).exists()

    airmail = DeliveryMethod.objects.get(code="airmail")
    assert airmail.is_default and (airmail.delivery_days_min, airmail.delivery_days_max) == (7, 14)
    assert not airmail.requires_tracking
    assert list(DeliveryMethod.objects.filter(is_default=True)) == [airmail]
    dhl = DeliveryMethod.objects.get(code="dhl")
    assert dhl.requires_tracking and "{number}" in dhl.tracking_url_pattern
    assert "ABC123" in dhl.tracking_url("ABC123")
    assert DeliveryMethod.objects.get(code="ups").requires_tracking


def test_demo_staff_and_customer_can_log_in(client, monkeypatch):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "s3cret-for-the-demo")

    output = load()

    assert "Staff login: http://127.0.0.1:8000/admin/  user: staff  password: s3cret-for-the-demo" in output
    assert client.login(request=HttpRequest(), username="staff", password="s3cret-for-the-demo")
    assert client.get(reverse("admin:shop_product_changelist")).status_code == 200
    client.logout()
    assert client.login(request=HttpRequest(), username="customer", password="customer-demo-2026")
    assert client.get(reverse("admin:index")).status_code == 302
    staff = get_user_model().objects.get(username="staff")
    assert staff.email == "staff@example.com" and staff.is_superuser


def test_demo_staff_password_defaults(monkeypatch):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)

    output = load()

    assert "password: staff-demo-2026" in output
    assert get_user_model().objects.get(username="staff").check_password("staff-demo-2026")


def test_demo_catalogue_renders(client):
    load()

    response = client.get(reverse("shop:product_list"))

    assert response.status_code == 200
    assert "Page 1 of 3" in response.content.decode()
    assert client.get(reverse("shop:product_list"), {"category": "telescopes"}).status_code == 200
