"""PAY-DISCOUNTS through the checkout pages, the confirmation, the bonus ledger, the invoice and PayPal."""

import datetime as dt
import subprocess
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from orders import lifecycle
from orders.checkout import checkout_token, order_confirm
from orders.invoice import invoice_pdf
from orders.models import BonusAccount, BonusEntry, Discount, Order, OrderDiscount
from orders.services import order_cancel
from payments import services as payment_services
from shop.cart import cart_lines
from shop.locks import lock_order
from tests.factories import CategoryFactory, ProductFactory, UserFactory
from tests.orders.checkout_support import contact_data, guest_cart, make_catalogue, review_token, user_cart
from tests.payments.payment_support import cod_order_paid_at_door, rub

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def cat():
    return make_catalogue()


@pytest.fixture
def lens():
    return ProductFactory(name="Lens 50mm", price=Money(Decimal("10000.00"), "RUB"), stock=50)


def _walk(client, cat, *, payment="paypal", code="", points="", method=None):
    """The steps as a browser walks them; returns the payment step's answer (302 when accepted)."""
    assert client.post(reverse("checkout:start"), contact_data(cat.moscow)).status_code == 302
    method = method or cat.airmail
    assert client.post(reverse("checkout:delivery"), {"delivery_method": str(method.pk)}).status_code == 302
    return client.post(
        reverse("checkout:payment"), {"payment_method": payment, "discount_code": code, "points": points}
    )


def _total(amount: str) -> str:
    """The review/order page's total as the template renders it (money formatting is the template's)."""
    return f'<strong class="order-total">{rub(amount)}'


def _page(client, name: str) -> str:
    return client.get(reverse(name)).content.decode()


def _balance_is_ledger_sum(user) -> int:
    account = BonusAccount.objects.get(user=user)
    assert account.balance == BonusEntry.objects.filter(account=account).aggregate(s=Sum("points"))["s"]
    assert account.balance >= 0
    return account.balance


# --- checkout shows what applies and why ---------------------------------------------------------
def test_pay_discounts_method_promotion_appears_and_disappears_as_payment_method_changes(client, cat, lens):
    """PAY-DISCOUNTS: "Pay with PayPal and save 5 % until …" is offered; chosen, it applies; changed, it is gone."""
    Discount.objects.create(
        name="PayPal week", kind="percent", value=Decimal("5"), payment_method="paypal", ends_at=NOW + dt.timedelta(29)
    )
    guest_cart(client, [(lens, 1)])
    assert "Pay with PayPal to save 5 % until 31 Dec 2026" in _page(client, "shop:cart")

    assert _walk(client, cat, payment="bank_transfer").status_code == 302
    page = _page(client, "checkout:payment")
    assert "Pay with PayPal to save 5 % until 31 Dec 2026" in page
    review = _page(client, "checkout:review")
    assert "PayPal week" not in review.split("Save more")[0] and "10,350" in review

    assert client.post(reverse("checkout:payment"), {"payment_method": "paypal"}).status_code == 302
    review = _page(client, "checkout:review")
    assert "PayPal week (−5 %)" in review and "because you pay with PayPal" in review
    assert _total("9850.00") in review  # 10,000 − 500 + 350

    assert client.post(reverse("checkout:payment"), {"payment_method": "bank_transfer"}).status_code == 302
    review = _page(client, "checkout:review")
    assert _total("10350.00") in review
    assert "Pay with PayPal to save 5 %" in review


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({}, "That code does not exist."),
        ({"code": "OLD", "starts_at": NOW - dt.timedelta(10), "ends_at": NOW - dt.timedelta(1)}, "has expired"),
        ({"code": "SOON", "starts_at": NOW + dt.timedelta(1)}, "is not valid yet"),
        ({"code": "GONE", "usage_limit": 0}, "has been used up"),
        ({"code": "BIG", "min_order_value": Decimal("50000")}, "does not apply to this order: the goods must cost"),
        ({"code": "PP", "payment_method": "paypal"}, "does not apply to this order: only when you pay with PayPal"),
    ],
)
def test_pay_discounts_bad_code_says_which_next_to_the_field_and_nothing_changes(client, cat, lens, setup, message):
    """PAY-DISCOUNTS: unknown, expired, not yet valid, used up, not applicable — said next to the code field."""
    code = setup.get("code", "NOPE")
    if setup:
        Discount.objects.create(name="Promo", value=Decimal("10"), **setup)
    guest_cart(client, [(lens, 1)])
    response = _walk(client, cat, payment="bank_transfer", code=code.lower())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_discount_code_errors"' in page and message in page
    assert "payment" not in client.session["checkout"]  # nothing was saved


def test_pay_discounts_points_more_than_held_or_negative_are_refused(client, cat, lens):
    """PAY-DISCOUNTS: spending more points than held, or negative points, is refused next to the field."""
    user = UserFactory()
    earned = cod_order_paid_at_door(user=user, lines=((Decimal("2000.00"), 1),))
    _complete(earned)  # 5 % of 2000 = 100 points
    client.force_login(user)
    user_cart(user, [(lens, 1)])
    for points, message in (("-5", "Points cannot be negative."), ("101", "You have 100 points; you cannot spend 101")):
        response = _walk(client, cat, payment="bank_transfer", points=points)
        assert response.status_code == 200 and message in response.content.decode()
        assert "payment" not in client.session["checkout"]
    assert _balance_is_ledger_sum(user) == 100


# --- ORD-PRICE-LOCK covers discounts ------------------------------------------------------------
def test_pay_discounts_code_used_up_by_a_concurrent_customer_between_review_and_confirm(client, cat, lens):
    """PAY-DISCOUNTS, ORD-PRICE-LOCK: the last use taken meanwhile sends the customer back to the review, changed."""
    Discount.objects.create(name="Last one", code="LAST", kind="fixed", value=Decimal("1000"), usage_limit=1)
    guest_cart(client, [(lens, 1)])
    assert _walk(client, cat, payment="bank_transfer", code="last").status_code == 302
    review = client.get(reverse("checkout:review"))
    assert _total("9350.00") in review.content.decode()

    # Another customer confirms with the same code first.
    other = ProductFactory(price=Money(Decimal("3000.00"), "RUB"))
    from shop.models import Cart, CartLine

    cart = Cart.objects.create()
    CartLine.objects.create(cart=cart, product=other, quantity=1)
    details = {
        **contact_data(cat.moscow, email="boris@example.com"),
        "delivery_method": cat.airmail.pk,
        "payment_method": "bank_transfer",
        "discount_code": "LAST",
    }
    first = order_confirm(
        cart=cart, token=checkout_token(cart=cart, lines=cart_lines(cart), details=details), details=details
    )
    assert first.discount == rub("1000.00")

    response = client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    assert response.status_code == 409
    page = response.content.decode()
    assert "The discount “Last one” (−RUB 1,000.00) no longer applies" in page
    assert _total("10350.00") in page
    assert Order.objects.count() == 1
    # Confirming what is shown now works, at the price shown.
    client.post(reverse("checkout:confirm"), {"token": review_token(response)})
    order = Order.objects.exclude(pk=first.pk).get()
    assert order.total == rub("10350.00") and order.discount == rub("0")


def test_pay_discounts_confirmed_order_carries_the_review_pages_lines_and_split(client, cat, lens):
    """PAY-DISCOUNTS: the order stores each discount line and each line's share; they add up to the kopeck."""
    caps = CategoryFactory(name="Caps")
    cap = ProductFactory(name="Lens cap", price=Money(Decimal("333.33"), "RUB"), category=caps, stock=50)
    Discount.objects.create(name="Caps", kind="percent", value=Decimal("15"), target="items").categories.add(caps)
    Discount.objects.create(name="Winter", code="WINTER", kind="percent", value=Decimal("7"))
    Discount.objects.create(name="Express free", kind="percent", value=Decimal("100"), target="delivery")
    guest_cart(client, [(lens, 1), (cap, 3)])
    assert _walk(client, cat, payment="bank_transfer", code="winter").status_code == 302
    review = client.get(reverse("checkout:review"))
    client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    order = Order.objects.get()
    lines = {line.product_name: line for line in order.lines.all()}
    assert lines["Lens cap"].discount == rub("150.00") + rub("59.50")  # 15 % of 999.99, then its share of 7 %
    assert lines["Lens 50mm"].discount == rub("700.00")
    assert order.delivery_discount == rub("350.00")
    assert (
        sum(line.discount.amount for line in lines.values()) + order.delivery_discount.amount == order.discount.amount
    )
    assert order.total == order.subtotal + order.delivery_cost - order.discount
    assert order.discount == sum((d.amount for d in order.discount_lines.all()), rub("0"))
    assert _total(order.total.amount) in review.content.decode()


# --- the bonus ledger ---------------------------------------------------------------------------
def _complete(order) -> None:
    with transaction.atomic():
        locked = lock_order(order.pk)
        for status in (Order.Status.PACKED, Order.Status.SHIPPED, Order.Status.COMPLETED):
            lifecycle.move(locked, status)


def _refund_sent(order, amount: str) -> None:
    refund = payment_services.refund_issue(order_id=order.pk, amount=rub(amount), reason="Returned")
    payment_services.refund_bank_details_submit(
        order_id=order.pk, holder="Anna Petrova", account_number="40817810099910004312", bic="044525225"
    )
    payment_services.refund_mark_sent(refund_id=refund.pk, reference=f"TR-{refund.pk}", actor=None)


def test_pay_discounts_ledger_through_a_refund_and_a_cancellation(client, cat, lens):
    """PAY-DISCOUNTS: earned on completion, taken back in proportion on refunds, spent and returned on cancel."""
    user = UserFactory()
    order = cod_order_paid_at_door(user=user, lines=((Decimal("10000.00"), 1),), delivery="350.00")
    _complete(order)
    assert _balance_is_ledger_sum(user) == 500  # 5 % of 10,000

    _refund_sent(order, "2587.50")  # a quarter of 10,350
    assert _balance_is_ledger_sum(user) == 375

    # Spend 300 at checkout; the order is cancelled; they come back.
    client.force_login(user)
    user_cart(user, [(lens, 1)])
    assert _walk(client, cat, payment="cash_courier", points="300").status_code == 302
    review = client.get(reverse("checkout:review"))
    assert "Bonus points" in review.content.decode() and _total("10050.00") in review.content.decode()
    client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    spent_on = Order.objects.get(user=user, payment_method="cash_courier", discount__gt=0)
    assert spent_on.total == rub("10050.00")
    assert _balance_is_ledger_sum(user) == 75
    order_cancel(order_id=spent_on.pk, reason="Changed my mind")
    assert _balance_is_ledger_sum(user) == 375
    order_cancel(order_id=spent_on.pk, reason="Again")  # nothing more comes back
    assert _balance_is_ledger_sum(user) == 375

    _refund_sent(order, "7762.50")  # the rest: every earned point goes back
    assert _balance_is_ledger_sum(user) == 0
    kinds = list(BonusEntry.objects.filter(account__user=user).order_by("pk").values_list("kind", "points"))
    assert kinds == [("earned", 500), ("taken_back", -125), ("spent", -300), ("returned", 300), ("taken_back", -375)]

    page = client.get(reverse("orders:points")).content.decode()
    assert '<strong class="bonus-balance">0</strong>' in page and page.count('class="bonus-entry"') == 5


def test_pay_discounts_take_back_never_makes_the_balance_negative():
    """PAY-DISCOUNTS: points earned and already spent cannot be taken below zero (the ledger notes it)."""
    user = UserFactory()
    order = cod_order_paid_at_door(user=user, lines=((Decimal("1000.00"), 1),))
    _complete(order)
    account = BonusAccount.objects.get(user=user)
    from orders.bonus import bonus_spend

    with transaction.atomic():
        bonus_spend(order=order, account=account, points=40)  # 50 earned, 40 spent elsewhere
    _refund_sent(order, str(order.total.amount))
    assert _balance_is_ledger_sum(user) == 0
    assert "40 points were spent already" in BonusEntry.objects.get(kind="taken_back").note


# --- the same amounts on the order, the invoice and at PayPal -----------------------------------
def test_pay_discounts_totals_identical_across_order_invoice_and_paypal_standin(client, cat, lens, paypal_standin):
    """PAY-DISCOUNTS: the order, the invoice text (pdftotext) and the stand-in's recorded amounts agree."""
    Discount.objects.create(name="Winter", code="WINTER", kind="percent", value=Decimal("7.5"))
    Discount.objects.create(name="Airmail half", kind="percent", value=Decimal("50"), target="delivery")
    guest_cart(client, [(lens, 3)])
    assert _walk(client, cat, payment="paypal", code="WINTER").status_code == 302
    review = client.get(reverse("checkout:review"))
    response = client.post(reverse("checkout:confirm"), {"token": review_token(review)}, follow=False)
    order = Order.objects.get()
    assert order.discount == rub("2250.00") + rub("175.00") and order.total == rub("27925.00")
    assert response.status_code == 307
    start = client.post(response["Location"])
    assert start.status_code == 302
    payment = order.payments.get()

    recorded = paypal_standin.order(payment.paypal_order_id)["purchase_units"][0]
    amount = recorded["amount"]
    assert amount["value"] == "27925.00"
    assert amount["breakdown"]["discount"]["value"] == "2250.00"
    assert amount["breakdown"]["shipping_discount"]["value"] == "175.00"
    items = sum(Decimal(i["unit_amount"]["value"]) * int(i["quantity"]) for i in recorded["items"])
    assert items == Decimal(amount["breakdown"]["item_total"]["value"]) == order.subtotal.amount

    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=invoice_pdf(order), capture_output=True).stdout
    text = text.decode()
    assert "Winter (−7.5 %)" in text and "Airmail half (−50 %)" in text
    assert "27,925.00" in text and "2,425.00" in text
    page = client.get(order.get_absolute_url()).content.decode()
    assert _total("27925.00") in page and "Winter (−7.5 %)" in page
    assert OrderDiscount.objects.filter(order=order).count() == 2


def test_pay_discounts_staff_create_a_discount_in_the_admin(admin_client):
    """PAY-DISCOUNTS: the admin form shows the overlap rule and refuses a percentage above 100."""
    page = admin_client.get(reverse("admin:orders_discount_add")).content.decode()
    assert "How discounts combine" in page
    data = {
        "name": "Too much",
        "is_active": "on",
        "kind": "percent",
        "value": "150",
        "target": "order",
        "min_order_value": "0",
        "starts_at_0": "2026-12-02",
        "starts_at_1": "10:00:00",
    }
    response = admin_client.post(reverse("admin:orders_discount_add"), data)
    assert "A percentage cannot be more than 100." in response.content.decode()
    assert not Discount.objects.exists()
    data["value"] = "15"
    data["code"] = "winter"
    response = admin_client.post(reverse("admin:orders_discount_add"), data)
    assert response.status_code == 302
    assert Discount.objects.get().code == "WINTER"
    assert timezone.is_aware(Discount.objects.get().starts_at)


# --- query counts (two sizes, one bound) ------------------------------------------------------
@pytest.mark.parametrize("n", [2, 30])
def test_pay_discounts_points_page_query_count_does_not_grow_with_history(client, django_assert_max_num_queries, n):
    from tests.factories import OrderFactory

    user = UserFactory()
    account = BonusAccount.objects.create(user=user, balance=10 * n)
    for _ in range(n):
        BonusEntry.objects.create(account=account, order=OrderFactory(user=user), kind="earned", points=10)
    client.force_login(user)
    with django_assert_max_num_queries(9):
        page = client.get(reverse("orders:points")).content.decode()
    assert page.count('class="bonus-entry"') == n and f'"bonus-balance">{10 * n}<' in page


@pytest.mark.parametrize("n", [1, 15])
def test_pay_discounts_review_query_count_does_not_grow_with_discounts_and_lines(
    client, cat, django_assert_max_num_queries, n
):
    products = []
    for i in range(n):
        category = CategoryFactory()
        products.append((ProductFactory(category=category, price=Money(Decimal("100.00") + i, "RUB")), 2))
        promo = Discount.objects.create(name=f"Promo {i}", kind="percent", value=Decimal("3"), target="items")
        promo.categories.add(category)
        Discount.objects.create(name=f"Order {i}", kind="fixed", value=Decimal(i + 1), usage_limit=100)
        Discount.objects.create(name=f"PayPal {i}", value=Decimal("2"), payment_method="paypal")
    guest_cart(client, products)
    assert _walk(client, cat, payment="bank_transfer", code="").status_code == 302
    with django_assert_max_num_queries(20):
        page = client.get(reverse("checkout:review")).content.decode()
    assert page.count('class="discount-line"') == n + 1
    # + the lines' pictures and the delivery promise (closures, delivery method) of the storefront
    with django_assert_max_num_queries(15):
        page = client.get(reverse("shop:cart")).content.decode()
    assert page.count('class="discount-applied"') == n + 1
