"""Russian and English (issue #12): the header switch remembers the choice, the order keeps the language it was
placed in and its e-mails and invoice are written in it, and catalogue content falls back to the other language."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from orders.invoice import invoice_pdf
from orders.models import Order
from orders.notifications import order_acknowledgement_queue
from tests.factories import ProductFactory
from tests.orders.checkout_support import checkout_to_review, guest_cart, make_catalogue, review_token
from tests.orders.test_invoice import pdf_text
from tests.payments.payment_support import make_order

pytestmark = pytest.mark.django_db


def test_the_header_switch_remembers_the_language(client):
    page = client.get(reverse("shop:product_list")).content.decode()
    assert '<html lang="en">' in page and "Catalogue" in page
    assert f'action="{reverse("set_language")}"' in page

    response = client.post(reverse("set_language"), {"language": "ru", "next": reverse("shop:cart")})

    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == settings.LANGUAGE_COOKIE_AGE
    page = client.get(reverse("shop:cart")).content.decode()
    assert '<html lang="ru">' in page and "Корзина пуста." in page and "Каталог" in page


def test_the_language_follows_the_browser_until_the_customer_chooses(client):
    page = client.get(reverse("shop:product_list"), HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").content.decode()
    assert '<html lang="ru">' in page and "Все товары" in page


def test_an_order_placed_in_russian_keeps_russian_for_its_emails_and_invoice(client, tmp_path):
    cat = make_catalogue()
    item = ProductFactory(name="Binocular 10x50", price=Money(Decimal("4990.00"), "RUB"), stock=20)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    guest_cart(client, [(item, 1)])
    review = checkout_to_review(client, region=cat.moscow, method=cat.airmail, payment="bank_transfer")
    assert "Подтвердить заказ" in review.content.decode()
    token = review_token(review)

    client.post(reverse("checkout:confirm"), {"token": token})

    order = Order.objects.get()
    assert order.language == "ru"
    with translation.override("en"):  # a worker or a staff member working in English
        ack = order_acknowledgement_queue(order=order)
        pdf = pdf_text(invoice_pdf(order), tmp_path)
    assert ack.subject.startswith(f"Ваш заказ {order.number}")
    assert "Здравствуйте" in ack.body_text and "Оплата банковским переводом" in ack.body_html
    assert f"Назначение платежа: Оплата заказа {order.number}; НДС не облагается" in ack.body_text
    assert "5 340,00 ₽" in ack.body_text.replace("\xa0", " ")
    assert f"Счёт {order.number}" in pdf and "ПРОДАВЕЦ" in pdf and "ИНН 7701234567" in pdf
    assert "НДС не облагается" in pdf


def test_an_order_placed_in_english_stays_english_when_staff_work_in_russian(tmp_path, policy):
    order = make_order(language="en")
    with translation.override("ru"):
        ack = order_acknowledgement_queue(order=order)
        pdf = pdf_text(invoice_pdf(order), tmp_path)
    assert ack.subject.startswith(f"Your order {order.number}") and "Hello" in ack.body_text
    assert f"Invoice {order.number}" in pdf and "SELLER" in pdf and "RUB 5,340.00" in pdf


def test_catalogue_content_is_translatable_and_falls_back_to_english(client):
    translated = ProductFactory(name_en="Sturman 8x42 binocular", name_ru="Бинокль Sturman 8x42")
    english_only = ProductFactory(name_en="Optics Cleaning Kit", name_ru=None)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = client.get(reverse("shop:product_list")).content.decode()
    assert "Бинокль Sturman 8x42" in page and "Sturman 8x42 binocular" not in page
    assert "Optics Cleaning Kit" in page  # no Russian name yet: the English one
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("shop:product_list")).content.decode()
    assert "Sturman 8x42 binocular" in page and translated.pk and english_only.pk
