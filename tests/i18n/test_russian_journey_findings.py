"""What the browser journeys in Russian found on the Russian pages (issue #12): a date is
written as a Russian reader writes it (``1 января 2027``: the templates use the language's DATE_FORMAT, where
Django's ``j F Y`` gives the nominative ``1 Январь 2027``); a hold on the order page and the "Track an order"
form speak Russian."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse

from orders import services
from tests.factories import UserFactory
from tests.payments.payment_support import make_order
from tests.refunds.support import delivered

pytestmark = pytest.mark.django_db

GENITIVE_MONTHS = {"января", "февраля", "марта", "апреля", "мая", "июня"} | {
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
}


def _russian_page(client, order) -> str:
    client.force_login(order.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client.get(order.get_absolute_url()).content.decode()


def test_the_withdrawal_date_on_a_russian_order_page_has_the_month_in_the_genitive(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order = delivered(user=UserFactory(), language="ru")
    page = _russian_page(client, order)

    until = re.search(r"Вы можете отказаться от покупки до (\d{1,2}) (\S+) (\d{4})", page)
    assert until, page
    assert until.group(2) in GENITIVE_MONTHS


def test_a_hold_on_the_order_page_is_named_in_russian(client):
    """ORD-PRICE-ERROR: the order waiting for the customer's answer says so in the customer's language."""
    order = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 2)], language="ru")
    line = order.lines.get()
    services.order_price_error_mark(order_id=order.pk, corrections={line.pk: Decimal("3990.00")}, actor=None)

    page = _russian_page(client, order)

    notice = re.search(r'<p class="message warning order-hold"[^>]*>(.*?)</p>', page, re.S)
    assert notice, page
    assert "Ждём вашего ответа об исправленной цене" in notice.group(1)


def test_the_track_an_order_form_and_its_answer_in_russian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    page = client.get(reverse("orders:track")).content.decode()
    refused = client.post(reverse("orders:track"), {"number": "RX-0000-0000", "email": "x@example.com"})

    assert "Номер заказа" in page and "Электронная почта, указанная в заказе" in page
    assert "Order number" not in page and "such as RX-7K4M-9Q2D" not in page
    assert "Мы не нашли заказ с таким номером" in refused.content.decode()
