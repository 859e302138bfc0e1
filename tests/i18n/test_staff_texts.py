"""Issue #12: the staff e-mails and the packing slip read in Russian for a Russian shop.

Staff e-mails are queued by periodic tasks (no request): they are written in the shop's language,
``settings.LANGUAGE_CODE``, whatever language the task happens to run in. Each one is queued by the
real service or task that sends it. The packing slip is printed from the admin, so it is in the staff
member's language (the language cookie of the admin request).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from refunds import services as refund_services
from refunds.models import CaseKind, CaseRemedy
from refunds.tasks import refunds_due_digest
from shipping import tasks as shipping_tasks
from shipping.services import parcels
from shop.models import Email
from tests.factories import UserFactory
from tests.orders.lifecycle_support import isolate_hooks
from tests.refunds.support import delivered
from tests.shipping.queue_support import msk, paid_order, pdf_text
from tests.shipping.support import paid_by_transfer, ship

pytestmark = pytest.mark.django_db
MSK = ZoneInfo("Europe/Moscow")
CYRILLIC = re.compile(r"[А-Яа-яЁё]{3,}")

# (the shop's LANGUAGE_CODE, the language the task runs in, whether the e-mail must be Russian)
LANGUAGES = pytest.mark.parametrize(
    ("shop_language", "active_language", "russian"),
    [
        ("ru", "ru", True),
        ("en", "en", False),
        ("en", "ru", False),  # a task running in Russian does not turn an English shop's e-mail Russian
    ],
    ids=["ru-shop", "en-shop", "en-shop-task-in-ru"],
)


def everything(email: Email) -> str:
    return " ".join(" ".join((email.subject, email.body_text, email.body_html)).split())


def assert_language(email: Email, *, russian: bool, ru: tuple[str, ...], en: tuple[str, ...]) -> None:
    """Russian: Cyrillic in subject and both bodies, the ``ru`` phrases present, no ``en`` phrase left.
    English: the ``en`` phrases present and no Cyrillic at all."""
    text = everything(email)
    if russian:
        for part in (email.subject, email.body_text, email.body_html):
            assert CYRILLIC.search(part), part
        for phrase in ru:
            assert phrase in text, phrase
        for phrase in en:
            assert phrase not in text, phrase
    else:
        assert not CYRILLIC.search(text), text
        for phrase in en:
            assert phrase in text, phrase


def shipped_on(day: dt.date):
    order = paid_by_transfer(lines=(("1000.00", 2), ("500.00", 1)))
    return order, ship(order, shipped_at=dt.datetime.combine(day, dt.time(10), tzinfo=MSK))


def at(day: dt.date, hour: int = 12):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=MSK), tick=False)


@LANGUAGES
def test_dlv_late_staff_e_mail_of_the_shops_own_investigation_is_in_the_shops_language(
    settings, shop_language, active_language, russian
):
    """DLV-LATE: the periodic task opens the investigation and e-mails staff in LANGUAGE_CODE."""
    settings.LANGUAGE_CODE = shop_language
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    with at(shipment.investigate_on), translation.override(active_language):
        assert shipping_tasks.parcels_investigate_late() == 1
    email = Email.objects.get(key=f"staff-late-parcel:{shipment.pk}")
    assert_language(
        email,
        russian=russian,
        ru=(
            f"Посылка задерживается: заказ {order.number}",
            f"Посылка {shipment.pk} заказа {order.number} всё ещё в пути спустя 2 рабочих дня",
            "магазин сам начал её розыск",
            "Служба доставки:",
            "Открыть заказ в админке",
        ),
        en=(
            f"Late parcel: order {order.number}",
            "is still on its way 2 business days after its expected window",
            "Expected delivery:",
            "Ask the carrier",
            "Open the order in the admin",
        ),
    )


@LANGUAGES
def test_dlv_late_staff_e_mail_of_a_customers_report_is_in_the_shops_language(
    settings, shop_language, active_language, russian
):
    """DLV-LATE: the customer reports the parcel (their request may be in any language); staff read the shop's."""
    settings.LANGUAGE_CODE = shop_language
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    with at(shipment.expected_to + dt.timedelta(days=1)), translation.override(active_language):
        parcels.parcel_report_late(shipment_id=shipment.pk, actor=None)
    email = Email.objects.get(key=f"staff-late-parcel:{shipment.pk}")
    assert_language(
        email,
        russian=russian,
        ru=(f"Покупатель сообщает, что посылка {shipment.pk} заказа {order.number} не пришла.", "Обращение:"),
        en=(f"The customer reports that parcel {shipment.pk} of order {order.number} has not arrived.", "Case:"),
    )


def _refund_case(at: dt.datetime):
    order = delivered()
    with time_machine.travel(at, tick=False):
        return refund_services.claim_report(
            order_id=order.pk, kind=CaseKind.WRONG_ITEM, lines={order.lines.first().pk: 1}, remedy=CaseRemedy.REFUND
        )


@LANGUAGES
def test_ref_sla_staff_refunds_digest_is_in_the_shops_language(settings, shop_language, active_language, russian):
    """REF-SLA: the refund desk digest (one overdue, one due soon) with its dates in the shop's format."""
    settings.LANGUAGE_CODE = shop_language
    _refund_case(msk(2027, 3, 1, 10, 0))  # due 11 March: overdue on Friday 12 March
    _refund_case(msk(2027, 3, 4, 12, 0))  # due Sunday 14 March: due within a business day
    with time_machine.travel(msk(2027, 3, 12, 10, 0), tick=False), translation.override(active_language):
        email = Email.objects.get(pk=refunds_due_digest.delay().get())
    assert_language(
        email,
        russian=russian,
        ru=("Возвраты: 1 просрочен, 1 со сроком в течение рабочего дня", "Просроченные", "срок был 11 марта 2027"),
        en=("Refunds: 1 overdue, 1 due within a business day", "Refund desk,", "was due 11 March 2027", "The desk:"),
    )


@LANGUAGES
def test_ship_within_2bd_staff_digest_is_in_the_shops_language(
    settings, monkeypatch, shop_language, active_language, russian
):
    """SHIP-WITHIN-2BD: the ship-by digest of an overdue order, counted with the right plural form."""
    isolate_hooks(monkeypatch)
    settings.LANGUAGE_CODE = shop_language
    order = paid_order(msk(2026, 3, 12, 10, 0))  # Thursday: ship by Monday 16 March 10:00
    with time_machine.travel(msk(2026, 3, 16, 11, 0), tick=False), translation.override(active_language):
        email = Email.objects.get(pk=shipping_tasks.shipping_ship_by_digest())
    assert order.number in email.body_text
    assert ("В обработке" if russian else "Processing") in email.body_text  # the order's status too
    assert_language(
        email,
        russian=russian,
        ru=("Сроки отправки: 1 заказ просрочен", "Заказы, которые ждут склад", "отправить до 16 марта 2026, 10:00"),
        en=("Ship-by digest: 1 overdue", "Orders that need the warehouse now", "ship by 16 March 2026, 10:00"),
    )


@pytest.mark.parametrize("language", ["ru", "en"])
def test_ord_inserts_packing_slip_is_in_the_staff_members_language(client, tmp_path, language):
    """ORD-INSERTS: the slip printed from the admin follows the staff member's language (the cookie)."""
    client.force_login(UserFactory(username=f"sklad-{language}", is_staff=True, is_superuser=True))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    order = paid_order(msk(2026, 3, 12, 11, 0), no_marketing_inserts=True)
    response = client.get(reverse("admin:shipping_workqueueorder_slip", args=[order.pk]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content, tmp_path).split())
    russian = (f"Упаковочный лист {order.number}", "БЕЗ РЕКЛАМНЫХ ВЛОЖЕНИЙ", "Отправить до: 16 марта 2026", "Упаковал:")
    english = (f"Packing slip {order.number}", "NO MARKETING INSERTS", "Ship by: 16 March 2026", "Packed by:")
    expected, absent = (russian, english) if language == "ru" else (english, russian)
    for phrase in expected:
        assert phrase in text, text
    for phrase in absent:
        assert phrase not in text, text
