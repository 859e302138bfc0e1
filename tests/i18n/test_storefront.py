"""The storefront in Russian (issue #12): catalogue filters and search help, the account, address and bonus points
pages, and the delivery promise with its countdown."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from shop.delivery import DeliveryPromise
from tests.factories import ProductFactory, UserFactory
from tests.orders.checkout_support import make_catalogue

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def russian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


def test_the_catalogue_filters_sorting_and_search_help_in_russian(russian):
    page = russian.get(reverse("shop:product_list")).content.decode()

    assert "Фильтры и сортировка" in page and "Только в наличии" in page and "Сначала дешевле" in page
    assert "поиск идёт по всем категориям" in page and "Filters and sorting" not in page
    refused = russian.get(reverse("shop:product_list"), {"price_min": "500", "price_max": "100"}).content.decode()
    assert "Цена «до» не может быть меньше цены «от»." in refused


def test_the_account_address_and_bonus_points_pages_in_russian(russian):
    russian.force_login(UserFactory())

    account = russian.get(reverse("account")).content.decode()
    assert "Адресная книга" in account and "Изменить имя и телефон" in account and "Address book" not in account
    address = russian.post(reverse("address_add"), {}).content.decode()
    assert "Новый адрес" in address and "Сохранить адрес" in address
    assert "Сделать адресом по умолчанию" in address
    profile = russian.get(reverse("profile")).content.decode()
    assert "Моё имя и телефон" in profile and "Имя" in profile and "Фамилия" in profile
    points = russian.get(reverse("orders:points")).content.decode()
    assert "Мои бонусные баллы" in points and "баллов (1 балл = 1" in points and "Баллов пока нет." in points


def test_the_delivery_promise_in_russian(russian):
    make_catalogue()
    product = ProductFactory(stock=5)
    with time_machine.travel(dt.datetime(2026, 12, 11, 12, 50, tzinfo=MSK), tick=False):
        page = russian.get(product.get_absolute_url()).content.decode()

    assert "Закажите в течение <strong>2 ч 10 мин</strong>" in page and "отправим до <strong>" in page
    assert "Order in the next" not in page and "ships by" not in page


@pytest.mark.parametrize(("minutes", "text"), [(130, "2 ч 10 мин"), (45, "45 мин")])
def test_the_countdown_is_written_in_the_language_of_the_page(minutes, text):
    from django.utils import translation

    promise = DeliveryPromise(
        order_by=None,
        left=dt.timedelta(minutes=minutes),
        ships_by=None,
        arrives_from=None,
        arrives_to=None,
        method=None,
        region=None,
    )
    with translation.override("ru"):
        assert promise.left_label == text
