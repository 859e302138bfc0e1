"""Issue #12: the e-mails and pages a review found still in English are Russian for a Russian order.

Each e-mail is queued by the real service that sends it, for an order placed in Russian, while the
code runs in English (no request): subject and both bodies must be Russian and carry none of the
English sentence. The pages are fetched like a browser with the language cookie set to Russian.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from orders import services as order_services
from orders.access import order_link
from orders.discounts import PricedLine, discounts_apply
from orders.models import Discount, Order
from payments import services as payment_services
from payments.services import payment_record_bank_transfer
from shipping import tasks as shipping_tasks
from shipping.models import FailureCause, StockoutChoice, StockoutVia
from shipping.services import delivery, stockout
from shop.models import Email, Product
from shop.money import format_money
from tests.factories import ProductFactory, UserFactory
from tests.orders.lifecycle_support import isolate_hooks
from tests.payments.payment_support import cod_order_paid_at_door, rub
from tests.payments.payment_support import make_order as make_payable_order
from tests.shipping.support import make_order, paid_by_transfer, ship

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
CYRILLIC = re.compile(r"[А-Яа-яЁё]{3,}")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=MSK)


def assert_russian(email: Email, *english: str, russian: str) -> None:
    """Subject and both bodies are Russian; ``russian`` is in the text body; no English sentence is left."""
    for part in (email.subject, email.body_text, email.body_html):
        assert CYRILLIC.search(part), part
    everything = " ".join((email.subject, email.body_text, email.body_html))
    for sentence in ("Hello", "Questions? Write to", *english):
        assert sentence not in everything, sentence
    assert russian in " ".join(email.body_text.split()), email.body_text


# --- e-mails ----------------------------------------------------------------------------------------
def test_the_pick_up_point_e_mails_of_a_russian_order_are_russian():
    """Awaiting collection, the reminder and "not collected" (DLV-ACCEPT-14D), in Russian."""
    with time_machine.travel(at(1, 10), tick=False):
        order = paid_by_transfer(language="ru")
    with time_machine.travel(at(1, 11), tick=False):
        shipment = ship(order)
    with time_machine.travel(at(5, 10), tick=False):
        delivery.delivery_record_awaiting_collection(
            shipment_id=shipment.pk, pickup_point="ПВЗ 17, Тверская 5", actor=None
        )
    with time_machine.travel(at(17, 0, 30), tick=False):
        assert shipping_tasks.shipments_remind_collection.delay().get() == 1
    with time_machine.travel(at(20, 0, 10), tick=False):
        assert shipping_tasks.shipments_expire_uncollected.delay().get() == 1

    awaiting = Email.objects.get(key=f"parcel-awaiting:{shipment.pk}")
    assert awaiting.subject == f"Ваш заказ {order.number} ждёт вас: заберите его до 19 июня 2026"
    assert_russian(
        awaiting,
        "your parcel has arrived",
        "A parcel not collected by then",
        russian="Ваша посылка прибыла в пункт выдачи: ПВЗ 17, Тверская 5. Заберите её до 19 июня 2026 "
        "(в течение 14 дней после прибытия).",
    )
    reminder = Email.objects.get(key=f"parcel-collect-reminder:{shipment.pk}")
    assert reminder.subject == f"Напоминание: заберите заказ {order.number} до 19 июня 2026"
    assert_russian(
        reminder, "is still waiting for you", russian="Ваша посылка всё ещё ждёт вас в пункте выдачи: ПВЗ 17"
    )
    expired = Email.objects.get(key=f"parcel-not-collected:{shipment.pk}")
    assert expired.subject == f"Заказ {order.number} не был получен в срок"
    assert_russian(
        expired,
        "was not collected by",
        "We refund the goods",
        russian="Мы вернём стоимость товаров, 4 990,00 ₽, тем же способом, которым вы платили",
    )


def test_the_redelivery_e_mail_of_a_russian_order_is_russian(policy):
    policy.redelivery_fee = Decimal("450.00")
    policy.save()
    staff = UserFactory(username="courier-desk", is_staff=True)
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier", language="ru")
    shipment = ship(order)
    delivery.delivery_record_failure(shipment_id=shipment.pk, cause=FailureCause.CUSTOMER_ABSENT, actor=staff)

    delivery.delivery_arrange_redelivery(shipment_id=shipment.pk, kind="redelivery", actor=staff)

    email = Email.objects.get(key__startswith="parcel-redelivery:")
    assert email.subject == f"Повторная доставка заказа {order.number}"
    assert_russian(
        email,
        "we have arranged another delivery",
        "This costs",
        russian="Это стоит 450,00 ₽; сумма добавлена к оплате заказа (теперь к оплате 5 790,00 ₽).",
    )


PAID_AT = dt.datetime(2026, 11, 16, 10, 0, tzinfo=MSK)  # a Monday, in business hours


def short_order() -> Order:
    """A guest's Russian bank-transfer order of 3 × 1000 + 1 × 500, paid when only 1 of the first is in stock."""
    order = make_payable_order(
        payment_method="bank_transfer", user=None, lines=[("1000.00", 3), ("500.00", 1)], language="ru"
    )
    Product.objects.filter(pk=order.lines.order_by("pk").first().product_id).update(stock=1)
    with time_machine.travel(PAID_AT, tick=False):
        payment_record_bank_transfer(
            order_id=order.pk, amount=order.total, credited_on=PAID_AT.date(), reference="BANK-1", actor=None
        )
    return order


def test_the_stock_out_e_mails_of_a_russian_order_are_russian():
    """SHIP-STOCKOUT: the question and the outcome, for a guest who ordered in Russian."""
    order = short_order()
    first = order.lines.order_by("pk").first()
    with time_machine.travel(PAID_AT + dt.timedelta(hours=1), tick=False):
        stockout.stockout_choose(order_id=order.pk, choice=StockoutChoice.CANCEL_MISSING, via=StockoutVia.LINK)

    [question] = Email.objects.filter(key__startswith="stockout-request:")
    assert question.subject == f"Заказ {order.number}: некоторых товаров нет в наличии — выберите, как поступить"
    assert_russian(
        question,
        "we cannot send everything",
        "Please choose what we should do",
        "If we have no answer by",
        russian=f"К сожалению, сейчас мы не можем отправить весь заказ {order.number}. Нет в наличии: "
        f"- {first.product_name}: 2 из 3",
    )
    [outcome] = Email.objects.filter(key__startswith="stockout-outcome:")
    assert outcome.subject == f"Заказ {order.number}: отсутствующие товары отменены"
    assert_russian(
        outcome,
        "as you chose",
        "will be refunded the way you paid",
        russian="Их стоимость: 2 000,00 ₽. 2 000,00 ₽ вернём тем же способом, которым вы платили.",
    )


def test_the_price_error_e_mails_of_a_russian_order_are_russian(monkeypatch):
    """ORD-PRICE-ERROR: the request to confirm and the confirmation, in Russian."""
    isolate_hooks(monkeypatch)
    staff = UserFactory(username="pricer-ru", is_staff=True)
    order = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 2)], language="ru")
    line = order.lines.get()
    order_services.order_price_error_mark(order_id=order.pk, corrections={line.pk: Decimal("3990.00")}, actor=staff)
    order_services.order_price_error_answer(order_id=order.pk, accept=True)

    request = Email.objects.get(key__startswith="order-price-request:")
    assert request.subject == f"Подтвердите исправленную цену заказа {order.number}"
    assert_russian(
        request,
        "a price in your order",
        "Please accept the new total",
        russian="Итого: 10 330,00 ₽ → 8 330,00 ₽ Примите новую сумму или отмените заказ по ссылке:",
    )
    [accepted] = [e for e in Email.objects.filter(to=order.email) if "принята" in e.subject]
    assert accepted.subject == f"Заказ {order.number}: исправленная цена принята"
    assert_russian(
        accepted,
        "you accepted the corrected price",
        russian=f"Заказ {order.number} выполняется с новой суммой 8 330,00 ₽ (была 10 330,00 ₽).",
    )


def test_the_bank_refund_e_mails_of_a_russian_order_are_russian():
    """PAY-REFUND-SAME-WAY: where to send the refund, the account given, the refund sent: in Russian."""
    order = cod_order_paid_at_door(language="ru")
    refund = payment_services.refund_issue(order_id=order.pk, amount=rub("1340.00"), reason="Возврат крышки")
    payment_services.refund_bank_details_submit(
        order_id=order.pk, holder="Анна Петрова", account_number="40817810099910004312", bic="044525225"
    )
    refund.refresh_from_db()
    payment_services.refund_mark_sent(refund_id=refund.pk, reference="PP-2026-0042", actor=None)

    asked = Email.objects.get(key=f"refund-bank-details:{refund.pk}")
    assert asked.subject == f"Куда вернуть деньги по заказу {order.number}?"
    assert_russian(
        asked,
        "we are refunding",
        "so the money goes back by bank transfer",
        "We will transfer the refund",
        russian="Вы оплатили заказ способом «Наличными курьеру», поэтому деньги вернутся банковским переводом",
    )
    given = Email.objects.get(key__startswith=f"refund-bank-details-set:{order.pk}:")
    assert_russian(
        given,
        "a bank account was given",
        "If this wasn't you",
        russian="Для возврата 1 340,00 ₽ по заказу",
    )
    assert "Анна Петрова, счёт, оканчивающийся на 4312" in given.body_text
    sent = Email.objects.get(key=f"refund-sent:{refund.pk}")
    assert_russian(
        sent,
        "we have sent you a refund",
        "It was transferred",
        "Reference:",
        russian="Деньги переведены на указанный вами счёт (Анна Петрова, оканчивается на 4312). "
        "Номер операции: PP-2026-0042",
    )


# --- pages ------------------------------------------------------------------------------------------
@pytest.fixture
def ru(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


def page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_the_signed_link_pages_are_russian(ru, monkeypatch):
    """The price answer, the stock-out choice and the refund account pages, opened from the e-mail's link."""
    short = short_order()  # before the hooks are isolated: paying it opens the stock-out question
    isolate_hooks(monkeypatch)
    staff = UserFactory(username="pricer-pages", is_staff=True)
    priced = make_order(status="processing", payment_method="cash_courier", lines=[("4990.00", 2)], language="ru")
    line = priced.lines.get()
    order_services.order_price_error_mark(order_id=priced.pk, corrections={line.pk: Decimal("3990.00")}, actor=staff)
    html = page(ru, order_link(priced, absolute=False, view="price:answer"))
    assert f"Заказ {priced.number}: исправленная цена" in html
    assert "К сожалению, в вашем заказе была указана неверная цена." in html
    assert "Принять новую цену" in html and "Отменить заказ" in html and "Новая сумма" in html
    assert "Accept new price" not in html and "We are sorry" not in html

    with time_machine.travel(PAID_AT + dt.timedelta(hours=1), tick=False):
        html = page(ru, order_link(short, absolute=False, view="shipping:stockout_answer"))
    assert f"Заказ {short.number}: некоторых товаров нет в наличии" in html
    assert "Выберите, как нам поступить, до" in html and "Нет в наличии" in html
    assert "отменяем только отсутствующие товары и возвращаем их стоимость; остальное отправляем сейчас." in html
    assert "We are sorry" not in html and "nothing is sent" not in html

    paid = cod_order_paid_at_door(language="ru")
    payment_services.refund_issue(order_id=paid.pk, amount=rub("100.00"), reason="Часть")
    html = page(ru, order_link(paid, absolute=False, view="payments:refund_account"))
    assert f"Возврат по заказу {paid.number}" in html and "Отправить реквизиты" in html
    assert "Вы оплатили заказ способом «Наличными курьеру»" in html
    assert "Send the account details" not in html and "Back to the order" not in html

    refused = ru.post(
        order_link(paid, absolute=False, view="payments:refund_account"),
        {"account_holder": "Анна Петрова", "account_number": "40817810099910004312", "bank_bic": "04452522"},
    )
    assert "БИК российского банка состоит из 9 цифр." in refused.content.decode()


def test_the_account_pages_are_russian(ru):
    """Log in, register, password reset and the pages after them."""
    login = page(ru, reverse("login"))
    assert "Забыли пароль?" in login and "Log in" not in login
    register = page(ru, reverse("register"))
    assert "Зарегистрироваться" in register and "Уже зарегистрированы?" in register
    assert "Create account" not in register and "Already registered?" not in register
    reset = page(ru, reverse("password_reset"))
    assert "Сброс пароля" in reset and "Отправить ссылку" in reset and "Send the link" not in reset
    done = page(ru, reverse("password_reset_done"))
    assert "Проверьте почту" in done and "Вернуться ко входу" in done and "Check your e-mail" not in done
    sent = page(ru, reverse("register_sent"))
    assert "Мы отправили письмо на указанный адрес." in sent and "We have sent" not in sent
    invalid = page(ru, reverse("activate", args=["MQ", "not-a-token"]), status=400)
    assert "Эта ссылка недействительна" in invalid and "This link is not valid" not in invalid
    confirm = page(ru, reverse("password_reset_confirm", args=["MQ", "not-a-token"]))
    assert "Ссылка недействительна или уже использована." in confirm and "Ask for a new one" not in confirm
    missing = page(ru, "/no-such-page/", status=404)
    assert "Такой страницы нет" in missing and "We could not find that page" not in missing


def test_order_again_and_the_catalogue_search_help_are_russian(ru):
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier", language="ru", user=UserFactory())
    ru.force_login(order.user)
    detail = page(ru, order.get_absolute_url())
    assert "Заказать снова" in detail and "«Заказать снова» положит эти товары в корзину" in detail
    assert "Order again" not in detail
    catalogue = page(ru, reverse("shop:product_list"))
    assert "Фильтры и сортировка" in catalogue and "Filters and sorting" not in catalogue
    assert "Name, SKU or words" not in catalogue


def test_pay_discounts_offer_reason_and_code_errors_are_whole_russian_sentences(ru):
    """PAY-DISCOUNTS in Russian: the offer, the reason and the code's error are whole sentences, money in ₽."""
    ends = timezone.now() + dt.timedelta(days=29)
    paypal_week = Discount.objects.create(
        name="Неделя PayPal", kind="percent", value=Decimal("5"), payment_method="paypal", ends_at=ends
    )
    Discount.objects.create(name="Большой заказ", code="BIG", value=Decimal("10"), min_order_value=Decimal("50000"))
    lens = ProductFactory(name="Объектив 50 мм", price=rub("10000.00"), stock=5)
    line = PricedLine(key=1, product_id=lens.pk, category_id=lens.category_id, name=lens.name,
                      unit_price=Decimal("10000.00"), quantity=1)  # fmt: skip
    ending = f"{timezone.localtime(ends):%d.%m.%Y}"  # the Russian short date

    with translation.override("ru"):
        offered = discounts_apply(lines=[line], currency="RUB", payment_method="bank_transfer", code="BIG")
        applied = discounts_apply(lines=[line], currency="RUB", payment_method="paypal")

    assert [offer.text for offer in offered.offers] == [
        f"Оплатите способом «PayPal», чтобы сэкономить 5 % (до {ending})"
    ]
    minimum = format_money(Decimal("50000"), "RUB", language="ru")
    assert minimum == "50\u00a0000,00\u00a0₽"
    assert offered.code_error == f"Этот код не действует для заказа: товаров должно быть не меньше чем на {minimum}."
    [discount] = applied.applied
    assert discount.discount_id == paypal_week.pk
    assert discount.reason == f"действует сейчас, при оплате способом «PayPal», до {ending}"
    ru.post(reverse("shop:cart_add"), {"product_id": lens.pk, "quantity": "1"})
    assert f"Оплатите способом «PayPal», чтобы сэкономить 5 % (до {ending})" in page(ru, reverse("shop:cart"))


def test_the_timeline_is_written_in_the_readers_language(client):
    """The order's events are stored once; the customer reads them in Russian, an English reader in English."""
    with time_machine.travel(at(1, 10), tick=False):
        order = paid_by_transfer(language="ru", user=UserFactory())
    with time_machine.travel(at(1, 11), tick=False):
        shipment = ship(order)
    with time_machine.travel(at(5, 10), tick=False):
        delivery.delivery_record_awaiting_collection(shipment_id=shipment.pk, pickup_point="ПВЗ 17", actor=None)
    client.force_login(order.user)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    russian = " ".join(page(client, order.get_absolute_url()).split())
    assert "Получена оплата 5 340,00 ₽." in russian
    assert f"Посылка {shipment.pk} ждёт вас в пункте выдачи: ПВЗ 17; заберите её до 19 июня 2026." in russian
    assert "Payment of" not in russian and "is waiting for you" not in russian

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = " ".join(page(client, order.get_absolute_url()).split())
    assert f"Parcel {shipment.pk} is waiting for you at ПВЗ 17; collect it by 19 June 2026." in english
    assert "Payment of RUB 5,340.00 received." in english
