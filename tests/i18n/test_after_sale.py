"""Russian after-sale pages, e-mails and the Act of Discrepancy (issue #12): the customer who shops in Russian
reads the withdrawal and claim pages, the case e-mails and the printed act in Russian."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from orders.models import Order
from refunds import services
from shipping.models import RecipientKind
from shipping.services import acts, delivery
from shop.models import Email
from tests.e2e.pages import pdf_text
from tests.factories import UserFactory
from tests.refunds.support import delivered
from tests.shipping.support import make_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def russian(client, order):
    client.force_login(order.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"


def test_the_order_cases_section_withdraw_and_claim_pages_in_russian(client):
    order = delivered(user=UserFactory(), language="ru")
    russian(client, order)

    page = client.get(order.get_absolute_url()).content.decode()
    assert "Возвраты и претензии" in page and "Вы можете отказаться от покупки до" in page
    assert "Сообщить о браке" in page and "Сообщить о недостаче" in page
    assert "Returns and claims" not in page

    confirm = client.get(reverse("cases:withdraw", args=[order.number])).content.decode()
    assert f"Отказ от заказа {order.number}" in confirm and "Подтвердить отказ от покупки" in confirm
    assert "Пожалуйста, отправьте товары обратно" in confirm and "Confirm: withdraw" not in confirm

    claim = client.get(reverse("cases:claim", args=[order.number, "defect"])).content.decode()
    assert "Какие товары и сколько" in claim and "Что случилось" in claim and "Фотографии" in claim
    refused = client.post(reverse("cases:claim", args=[order.number, "defect"]), {"remedy": "repair", "statement": "x"})
    assert refused.status_code == 400 and "Выберите товары и их количество." in refused.content.decode()


def test_the_case_e_mail_of_an_order_placed_in_russian_is_in_russian_whatever_the_request_language():
    order = delivered(user=UserFactory(), language="ru")

    case = services.withdrawal_request(order_id=order.pk)  # runs in English (no request)

    email = Email.objects.get(key=f"case-opened:{case.pk}")
    assert email.subject.startswith("Мы получили ваше обращение: отказ от покупки")
    assert f"заказ {order.number}, обращение {case.pk}" in email.subject
    assert "мы получили ваше обращение по заказу" in email.body_text and "Статус: Отправлено" not in email.body_text
    assert "Статус:" in email.body_html and "Hello" not in email.body_text


def test_the_act_of_discrepancy_and_its_e_mail_are_in_the_language_of_the_order():
    staff = UserFactory(username="act-desk-ru", is_staff=True)
    order = make_order(status=Order.Status.PROCESSING, lines=(("1000.00", 3),), language="ru")
    attempt = delivery.delivery_record_handover(
        shipment_id=ship(order).pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff
    )
    line = order.lines.get()

    act = acts.act_draw_up(attempt_id=attempt.pk, handed_over={line.pk: 2}, place="Ленина, 1", actor=staff)

    text = " ".join(pdf_text(acts.act_pdf(act)).split())
    assert f"Акт о расхождении {act.number}" in text
    assert "Заказано В посылке" in text and "Не хватает" in text
    assert "Получатель (ФИО, подпись)" in text and "Курьер (ФИО, подпись)" in text
    assert "Act of Discrepancy" not in text
    email = Email.objects.get(key=f"discrepancy-act:{act.pk}")
    assert email.subject == f"Акт о расхождении по вашему заказу {order.number}"
    assert f"{line.product_name}: не хватает 1" in email.body_text


def test_the_packed_and_shipped_e_mails_of_a_russian_order_are_in_russian():
    order = make_order(status=Order.Status.PROCESSING, language="ru")

    shipment = ship(order)

    packed = Email.objects.get(key=f"order-packed:{order.pk}")
    assert (
        packed.subject == f"Ваш заказ {order.number} упакован" and "упакован и скоро будет передан" in packed.body_text
    )
    shipped = Email.objects.get(key=f"shipment-notice:{shipment.pk}")
    assert shipped.subject == f"Ваш заказ {order.number} уже в пути"
    assert f"ваш заказ {order.number} отправлен с нашего склада" in shipped.body_text
    assert "В этой посылке:" in shipped.body_text and "рабоч" in shipped.body_text
    assert "Hello" not in shipped.body_text and "business days" not in shipped.body_html
