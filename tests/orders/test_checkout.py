"""Checkout steps: ORD-FIELDS, ORD-TERRITORY, SHIP-METHODS, ORD-INSERTS and which payment methods are offered
(PAY-METHODS-PER-PRODUCT, PAY-PREPAY-THRESHOLD, PAY-COD-RESTRICT)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from djmoney.money import Money

from orders.checkout import offered_payment_methods
from orders.models import CustomerStanding, Order
from shop.models import CartLine, Policy
from tests.factories import OrderFactory, ProductFactory, UserFactory
from tests.orders.checkout_support import (
    checkout_to_review,
    contact_data,
    guest_cart,
    make_catalogue,
    user_cart,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat():
    return make_catalogue()


@pytest.fixture
def binocular():
    return ProductFactory(name="Binocular 10x50", price=Money(Decimal("4990.00"), "RUB"), stock=20)


def _errors_for(page: str, field: str) -> str:
    """The error list rendered next to ``field`` (empty if none)."""
    marker = f'id="id_{field}_errors"'
    if marker not in page:
        return ""
    start = page.index(marker)
    return page[start : page.index("</ul>", start)]


# --- ORD-FIELDS -------------------------------------------------------------------------------
def test_ord_fields_missing_fields_are_refused_next_to_each_field_and_nothing_is_saved(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    empty = dict.fromkeys(contact_data(cat.moscow), "")
    response = client.post(reverse("checkout:start"), empty)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Please enter the recipient&#x27;s full name." in _errors_for(page, "full_name")
    assert "Please enter your e-mail address." in _errors_for(page, "email")
    assert "Please enter a phone number the courier can call." in _errors_for(page, "phone")
    assert "Please enter the street, house and flat." in _errors_for(page, "address")
    assert "Please enter the city or town." in _errors_for(page, "city")
    assert "Please choose the region to deliver to." in _errors_for(page, "region")
    assert "checkout" not in client.session
    assert Order.objects.count() == 0


def test_ord_fields_blank_name_and_malformed_email_and_phone_are_refused(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    data = contact_data(cat.moscow, full_name="   ", email="anna@", phone="12345")
    page = client.post(reverse("checkout:start"), data).content.decode()
    assert _errors_for(page, "full_name")
    assert "Please enter a valid e-mail address" in _errors_for(page, "email")
    assert "not valid" in _errors_for(page, "phone") or "does not look like" in _errors_for(page, "phone")
    page = client.post(reverse("checkout:start"), contact_data(cat.moscow, phone="call me")).content.decode()
    assert "This does not look like a phone number." in _errors_for(page, "phone")
    assert "checkout" not in client.session


def test_ord_fields_phone_is_stored_normalised_e164(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    response = client.post(reverse("checkout:start"), contact_data(cat.moscow, phone="8 (916) 123-45-67"))
    assert response.status_code == 302
    assert client.session["checkout"]["contact"]["phone"] == "+79161234567"
    checkout_to_review(client, region=cat.moscow, method=cat.airmail, phone="+7 916 123 45 67")
    assert client.session["checkout"]["contact"]["phone"] == "+79161234567"


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, cat):
    response = client.get(reverse("checkout:start"))
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:cart")


# --- ORD-TERRITORY ----------------------------------------------------------------------------
def test_ord_territory_only_territory_regions_are_listed(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    page = client.get(reverse("checkout:start")).content.decode()
    assert "Moscow" in page and "Kaliningrad Oblast" in page
    assert "Atlantis" not in page


def test_ord_territory_tampered_region_outside_territory_is_refused_next_to_field(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    response = client.post(reverse("checkout:start"), contact_data(cat.abroad))
    assert response.status_code == 200
    assert "We do not deliver to that region." in _errors_for(response.content.decode(), "region")
    assert "checkout" not in client.session
    # A region that does not exist at all is refused the same way.
    response = client.post(reverse("checkout:start"), {**contact_data(cat.abroad), "region": "999999"})
    assert "We do not deliver to that region." in _errors_for(response.content.decode(), "region")


def test_ord_territory_region_removed_from_territory_after_step_one_sends_customer_back(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    checkout_to_review(client, region=cat.moscow, method=cat.airmail)
    cat.moscow.in_territory = False
    cat.moscow.save()
    response = client.get(reverse("checkout:review"))
    assert response.status_code == 302
    assert response["Location"] == reverse("checkout:start")


# --- SHIP-METHODS -----------------------------------------------------------------------------
def test_ship_methods_air_mail_is_preselected_and_express_can_be_chosen(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    page = client.get(reverse("checkout:delivery")).content.decode()
    assert f'value="{cat.airmail.pk}" checked' in page
    assert f'value="{cat.express.pk}" checked' not in page
    assert "Express courier (DHL)" in page and "2–4 business days" in page and "with tracking" in page
    review = checkout_to_review(client, region=cat.moscow, method=cat.express).content.decode()
    assert "Express courier (DHL)" in review
    assert "RUB 1,200.00" in review


def test_ship_methods_tampered_method_id_is_refused(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.kaliningrad))
    # Express exists but has no rate to Kaliningrad; 99999 does not exist.
    for tampered in (str(cat.express.pk), "99999", "air"):
        response = client.post(reverse("checkout:delivery"), {"delivery_method": tampered})
        assert response.status_code == 200
        assert "That delivery method is not available for your region." in response.content.decode()
    assert "delivery" not in client.session["checkout"]


# --- ORD-INSERTS ------------------------------------------------------------------------------
def test_ord_inserts_opt_out_checkbox_is_offered_and_carried_to_the_order(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    page = client.get(reverse("checkout:payment")).content.decode()
    assert "Don&#x27;t put marketing inserts in my parcel" in page
    review = checkout_to_review(client, region=cat.moscow, method=cat.airmail, inserts=True)
    assert "No marketing inserts in your parcel." in review.content.decode()
    from tests.orders.checkout_support import review_token

    response = client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.no_marketing_inserts is True
    assert "No marketing inserts in the parcel." in client.get(order.get_absolute_url()).content.decode()


# --- PAY-METHODS-PER-PRODUCT ------------------------------------------------------------------
def test_pay_methods_per_product_only_methods_every_product_allows(client, cat):
    lens = ProductFactory(name="Lens 50mm", payment_methods=["paypal", "card_online", "cash_courier"])
    scope = ProductFactory(name="Scope 80mm", payment_methods=["paypal", "cash_courier", "bank_transfer"])
    guest_cart(client, [(lens, 1), (scope, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    page = client.get(reverse("checkout:payment")).content.decode()
    assert 'value="paypal"' in page and 'value="cash_courier"' in page
    assert 'value="card_online"' not in page and 'value="bank_transfer"' not in page
    assert "Bank card online is not available: “Scope 80mm” cannot be paid this way." in page
    assert "Bank transfer is not available: “Lens 50mm” cannot be paid this way." in page
    # A tampered method is refused with the reason, next to the field.
    response = client.post(reverse("checkout:payment"), {"payment_method": "card_online"})
    assert response.status_code == 200
    assert "“Scope 80mm” cannot be paid this way." in _errors_for(response.content.decode(), "payment_method")
    response = client.post(reverse("checkout:payment"), {"payment_method": "bitcoin"})
    assert "That payment method is not available" in _errors_for(response.content.decode(), "payment_method")
    assert "payment" not in client.session["checkout"]


def test_pay_methods_per_product_no_common_method_cannot_proceed(client, cat):
    a = ProductFactory(name="Gift card", payment_methods=["card_online"])
    b = ProductFactory(name="Used telescope", payment_methods=["cash_courier"])
    guest_cart(client, [(a, 1), (b, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    page = client.get(reverse("checkout:payment")).content.decode()
    assert "have no payment method in common" in page
    assert "Review the order" not in page
    response = client.post(reverse("checkout:payment"), {"payment_method": "card_online"})
    assert "payment" not in client.session["checkout"]
    assert response.status_code == 200


# --- PAY-PREPAY-THRESHOLD ---------------------------------------------------------------------
def _lines(cart):
    return list(CartLine.objects.filter(cart=cart).select_related("product"))


def test_pay_prepay_threshold_exactly_60000_rub_withdraws_cash_and_card_to_courier(client, cat):
    # 59,650 goods + 350 delivery = exactly 60,000: the order total is what the courier would collect.
    item = ProductFactory(name="Observatory scope", price=Money(Decimal("59650.00"), "RUB"))
    guest_cart(client, [(item, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    page = client.get(reverse("checkout:payment")).content.decode()
    assert "RUB 60,000.00" in page
    assert "Cash to the courier is not available: orders of RUB 60,000.00 or more must be prepaid." in page
    assert "Card to the courier is not available: orders of RUB 60,000.00 or more must be prepaid." in page
    assert 'value="cash_courier"' not in page and 'value="paypal"' in page
    response = client.post(reverse("checkout:payment"), {"payment_method": "cash_courier"})
    assert "must be prepaid" in _errors_for(response.content.decode(), "payment_method")


def test_pay_prepay_threshold_one_rouble_below_offers_cash_to_courier(cat):
    item = ProductFactory(price=Money(Decimal("59649.00"), "RUB"))
    cart = user_cart(UserFactory(), [(item, 1)])
    choices = offered_payment_methods(lines=_lines(cart), order_total=Money(Decimal("59999.00"), "RUB"))
    assert choices.is_offered("cash_courier") and choices.is_offered("card_courier")


def test_pay_prepay_threshold_six_items_must_be_prepaid_five_need_not(client, cat):
    item = ProductFactory(name="Eyepiece", price=Money(Decimal("1000.00"), "RUB"), stock=50)
    cart = guest_cart(client, [(item, 6)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    page = client.get(reverse("checkout:payment")).content.decode()
    assert "Cash to the courier is not available: orders of 6 or more items must be prepaid." in page
    CartLine.objects.filter(cart=cart).update(quantity=5)
    page = client.get(reverse("checkout:payment")).content.decode()
    assert 'value="cash_courier"' in page
    assert "must be prepaid" not in page


def test_pay_prepay_threshold_follows_the_policy_setting(cat):
    policy = Policy.load()
    policy.prepay_threshold_amount, policy.prepay_threshold_items = Decimal("10000"), 3
    policy.save()
    item = ProductFactory(price=Money(Decimal("4000.00"), "RUB"))
    cart = user_cart(UserFactory(), [(item, 2)])
    choices = offered_payment_methods(lines=_lines(cart), order_total=Money(Decimal("10000.00"), "RUB"))
    assert not choices.is_offered("cash_courier")
    assert "orders of RUB 10,000.00 or more must be prepaid." in choices.reason_for("cash_courier")


# --- PAY-COD-RESTRICT -------------------------------------------------------------------------
def test_pay_cod_restrict_restricted_customer_is_not_offered_cod_and_told_why(client, cat, binocular):
    CustomerStanding.objects.create(
        email="anna@example.com",
        cod_allowed=False,
        cod_reason="Paying on delivery was withdrawn after three refused deliveries.",
    )
    guest_cart(client, [(binocular, 1)])
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    page = client.get(reverse("checkout:payment")).content.decode()
    assert 'value="cash_courier"' not in page and 'value="card_courier"' not in page
    assert "Cash to the courier is not available: Paying on delivery was withdrawn after three refused" in page
    assert 'value="paypal"' in page
    # Another customer with the same cart may still pay on delivery.
    client.post(reverse("checkout:start"), contact_data(cat.moscow, email="boris@example.com"))
    page = client.get(reverse("checkout:payment")).content.decode()
    assert 'value="cash_courier"' in page


# --- pre-fill -------------------------------------------------------------------------------
def test_logged_in_customer_details_are_prefilled_from_their_last_order(client, cat, binocular):
    user = UserFactory()
    OrderFactory(user=user, full_name="Old Name", city="Tver", region=cat.moscow)
    OrderFactory(
        user=user,
        full_name="Anna Sidorova",
        phone="+79031112233",
        address="7 Arbat",
        city="Moscow",
        postcode="119002",
        region=cat.kaliningrad,
    )
    user_cart(user, [(binocular, 1)])
    client.force_login(user)
    page = client.get(reverse("checkout:start")).content.decode()
    assert 'value="Anna Sidorova"' in page
    assert 'value="+79031112233"' in page
    assert 'value="119002"' in page
    assert f'<option value="{cat.kaliningrad.pk}" selected>' in page
    assert "Old Name" not in page


def test_guest_review_shows_lines_totals_windows_and_confirm_button(client, cat, binocular):
    guest_cart(client, [(binocular, 2)])
    page = checkout_to_review(client, region=cat.moscow, method=cat.airmail).content.decode()
    assert "Binocular 10x50" in page and "RUB 4,990.00" in page and "RUB 9,980.00" in page
    assert "RUB 350.00" in page and "RUB 10,330.00" in page
    assert "Discount" in page and "RUB 0.00" in page
    assert "Processing: 1–3 business days" in page
    assert 'class="delivery-window"' in page
    assert "Confirm order" in page


def test_later_steps_without_the_earlier_ones_send_the_customer_back(client, cat, binocular):
    guest_cart(client, [(binocular, 1)])
    for step in ("checkout:delivery", "checkout:payment", "checkout:review"):
        response = client.get(reverse(step))
        assert response.status_code == 302, step
        assert response["Location"] == reverse("checkout:start"), step
    client.post(reverse("checkout:start"), contact_data(cat.moscow))
    response = client.get(reverse("checkout:payment"))
    assert response["Location"] == reverse("checkout:delivery")
    client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    response = client.get(reverse("checkout:review"))
    assert response["Location"] == reverse("checkout:payment")
