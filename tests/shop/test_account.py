"""The account: profile (name, phone through django-phonenumber-field), an address book with one default
address that fills in checkout (ORD-FIELDS, ORD-TERRITORY), and "order again" at today's prices."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from shop.models import Address, CartLine, CustomerProfile
from tests.factories import UserFactory
from tests.orders.checkout_support import make_catalogue, user_cart
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(client):
    user = UserFactory(username="anna", email="anna@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def cat():
    return make_catalogue()


def address_data(region, **overrides) -> dict:
    data = {
        "full_name": "Anna Petrova",
        "phone": "8 (916) 123-45-67",
        "address": "12 Lenina street, flat 5",
        "city": "Moscow",
        "postcode": "101000",
        "region": str(region.pk),
    }
    data.update(overrides)
    return data


def test_profile_name_and_phone_normalised(client, customer):
    response = client.post(
        reverse("profile"), {"first_name": "Anna", "last_name": "Ivanova", "phone": "8 916 765 43 21"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.get_full_name() == "Anna Ivanova"
    assert CustomerProfile.objects.get(user=customer).phone.as_e164 == "+79167654321"
    assert "<dt>Phone</dt><dd>+7 916 765-43-21</dd>" in client.get(reverse("account")).content.decode()


def test_ord_fields_profile_bad_phone_is_refused_next_to_the_field_and_nothing_saved(client, customer):
    page = client.post(reverse("profile"), {"first_name": "X", "phone": "call me"}).content.decode()
    assert "This does not look like a phone number." in page
    assert 'class="field has-error"' in page
    customer.refresh_from_db()
    assert customer.first_name == "Anna" and not CustomerProfile.objects.filter(user=customer).exists()


def test_address_book_first_address_is_default_and_default_can_move(client, customer, cat):
    client.post(reverse("address_add"), address_data(cat.moscow))
    client.post(reverse("address_add"), address_data(cat.kaliningrad, address="3 Mira avenue", city="Kaliningrad"))
    first, second = Address.objects.filter(user=customer).order_by("pk")
    assert (first.is_default, second.is_default) == (True, False)
    assert first.phone.as_e164 == "+79161234567"

    response = client.post(reverse("address_default", args=[second.pk]), follow=True)
    assert "“3 Mira avenue, Kaliningrad” is now your default address." in response.content.decode()
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.is_default, second.is_default) == (False, True)

    client.post(reverse("address_remove", args=[second.pk]))
    first.refresh_from_db()
    assert first.is_default and Address.objects.filter(user=customer).count() == 1


def test_ord_territory_address_book_refuses_a_region_outside_the_territory(client, customer, cat):
    page = client.post(reverse("address_add"), address_data(cat.abroad)).content.decode()
    assert "We do not deliver to that region. Please choose one from the list." in page
    assert not Address.objects.exists()
    form_page = client.get(reverse("address_add")).content.decode()
    assert "Moscow" in form_page and "Atlantis" not in form_page


def test_another_customers_address_is_404(client, customer, cat):
    other = Address.objects.create(
        user=UserFactory(username="boris"),
        full_name="B",
        phone="+79161234567",
        address="x",
        city="y",
        postcode="101000",
        region=cat.moscow,
        is_default=True,
    )
    assert client.get(reverse("address_edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("address_remove", args=[other.pk])).status_code == 404
    assert Address.objects.filter(pk=other.pk).exists()


def test_checkout_is_prefilled_from_the_default_address(client, customer, cat):
    client.post(reverse("address_add"), address_data(cat.kaliningrad, address="3 Mira avenue", city="Kaliningrad"))
    make_order(user=customer, status="processing", payment_method="cash_courier", city="Moscow")  # an older order
    order = make_order(status="processing", payment_method="cash_courier")
    user_cart(customer, [(order.lines.get().product, 1)])

    form = client.get(reverse("checkout:start")).context["form"]

    assert form.initial["address"] == "3 Mira avenue"
    assert form.initial["city"] == "Kaliningrad"
    assert form.initial["region"] == cat.kaliningrad.pk
    assert form.initial["phone"] == "+79161234567"
    assert form.initial["email"] == "anna@example.com"


def test_order_again_puts_the_lines_in_the_cart_at_todays_prices(client, customer):
    order = make_order(
        user=customer, status="completed", payment_method="cash_courier", lines=[("4990.00", 2), ("100.00", 1)]
    )
    first, second = order.lines.order_by("pk")
    first.product.price = Money(Decimal("5490.00"), "RUB")  # the price went up since
    first.product.save()
    second.product.is_active = False  # no longer sold
    second.product.save()

    response = client.post(reverse("orders:again", args=[order.number]), follow=True)
    page = response.content.decode()

    assert f"Added to your cart at today&#x27;s prices: {first.product.name}." in page
    assert f"Not added: “{second.product.name}” is no longer sold." in page
    line = CartLine.objects.get(cart__user=customer)
    assert (line.product_id, line.quantity) == (first.product_id, 2)
    assert "RUB 10,980.00" in page  # 2 × today's 5,490


def test_order_again_is_only_for_whoever_may_see_the_order(client, customer):
    order = make_order(user=UserFactory(username="boris"), status="completed", payment_method="cash_courier")
    assert client.post(reverse("orders:again", args=[order.number])).status_code == 404
    assert not CartLine.objects.exists()
