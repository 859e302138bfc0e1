"""One order's money is written the same way on its page, in its e-mail, on its PDF invoice and on the
PayPal stand-in's approval page — per language: ``12 990,00 ₽`` in Russian, ``RUB 12,990.00`` in English."""

from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.urls import reverse
from djmoney.money import Money

from orders.invoice import invoice_pdf
from orders.notifications import order_acknowledgement_queue
from shop.money import format_money
from tests.orders.test_invoice import pdf_text
from tests.payments.payment_support import make_order, start_paypal

pytestmark = pytest.mark.django_db


def test_format_money_writes_each_language_its_way():
    amount = Money(Decimal("12990"), "RUB")
    assert format_money(amount, language="ru") == "12\xa0990,00\xa0₽"
    assert format_money(amount, language="en") == "RUB 12,990.00"
    assert format_money(Decimal("0.5"), "EUR", language="en-us") == "EUR 0.50"
    assert str(amount) == "RUB 12,990.00"  # django-money's str() goes through the same function


@pytest.mark.parametrize(("language", "total"), [("ru", "12\xa0990,50\xa0₽"), ("en", "RUB 12,990.50")])
def test_one_orders_money_is_identical_on_page_email_pdf_and_paypal(
    client, paypal_standin, policy, tmp_path, language, total
):
    order = make_order(lines=((Decimal("6320.25"), 2),), delivery="350.00", language=language)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(order.user)

    page = client.get(reverse("orders:detail", kwargs={"number": order.number})).content.decode()
    email = order_acknowledgement_queue(order=order)
    pdf = pdf_text(invoice_pdf(order), tmp_path)
    start_paypal(client, order)
    approval = requests.get(order.payments.get().approve_url, timeout=5).text

    assert format_money(order.total, language=language) == total
    for medium, text in {"page": page, "e-mail text": email.body_text, "PayPal": approval}.items():
        assert total in text, f"{total!r} not on the {medium}"
    # The PDF carries the same no-break spaces; pdftotext writes each of them as a plain space.
    assert total.replace("\xa0", " ") in pdf
    assert format_money(order.lines.get().unit_price, language=language).replace("\xa0", " ") in pdf
