"""Issue #12: the timeline sentences of stock-outs, deliveries, acts, failed payments, amount-owed changes and
released holds are stored once (msgid and values) and read in the reader's language. The events are written
by the real services; a Russian reader reads them in Russian, an English reader in the English kept by tests.
A refund-desk error is shown in the staff member's language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from orders.models import Order, OrderEvent
from payments.models import Payment
from payments.services import payment_paypal_failed, payment_record_bank_transfer
from refunds.models import CaseKind
from refunds.services import cases
from refunds.services._common import CaseError, CaseErrorCode
from shipping.models import FailureCause, RecipientKind, StockoutChoice, StockoutVia
from shipping.services import acts, delivery, stockout
from shop.models import Product
from tests.factories import UserFactory
from tests.payments.payment_support import make_order as make_payable_order
from tests.refunds.support import delivered
from tests.shipping.support import make_order, ship

T = OrderEvent.Type
pytestmark = pytest.mark.django_db


def read(order: Order, type: str, language: str) -> list[str]:
    """The sentences of ``type`` on the order's timeline, as a reader of ``language`` sees them (no-break
    spaces of Russian money written as spaces)."""
    with translation.override(language):
        return [event.text.replace("\xa0", " ") for event in order.events.filter(type=type).order_by("pk")]


@pytest.fixture
def staff():
    return UserFactory(username="timeline-desk", is_staff=True)


def test_stock_out_sentences_read_in_the_readers_language(staff):
    """SHIP-STOCKOUT: shortage, the choice taken by phone, the cancelled part, the amount owed and the hold."""
    order = make_payable_order(
        payment_method="bank_transfer", user=None, lines=[("1000.00", 3), ("500.00", 1)], language="ru"
    )
    first = order.lines.order_by("pk").first()
    Product.objects.filter(pk=first.product_id).update(stock=1)
    payment_record_bank_transfer(
        order_id=order.pk, amount=order.total, credited_on=dt.date.today(), reference="BANK-1", actor=None
    )
    with translation.override("ru"):  # staff working in Russian: what is stored stays the same
        stockout.stockout_choose(
            order_id=order.pk, choice=StockoutChoice.CANCEL_MISSING, via=StockoutVia.PHONE, actor=staff
        )

    name = first.product_name
    assert read(order, T.STOCK_SHORT, "en") == [f"Not available now: 2 × {name}."]
    assert read(order, T.STOCK_SHORT, "ru") == [f"Сейчас нет в наличии: 2 × {name}."]
    assert read(order, T.STOCKOUT_CHOSEN, "en") == [
        "Choice for the unavailable items: Cancel the unavailable items, send the rest (by phone)."
    ]
    assert read(order, T.STOCKOUT_CHOSEN, "ru") == [
        "Решение по отсутствующим товарам: Отменить отсутствующие товары, остальное отправить (по телефону)."
    ]
    assert read(order, T.STOCKOUT_PART_CANCELLED, "en") == [f"Cancelled as unavailable: 2 × {name} (RUB 2,000.00)."]
    assert read(order, T.STOCKOUT_PART_CANCELLED, "ru") == [f"Отменено из-за отсутствия: 2 × {name} (2 000,00 ₽)."]
    assert read(order, T.ADJUSTED, "en") == ["Unavailable items cancelled (-RUB 2,000.00); now owed: RUB 1,850.00."]
    assert read(order, T.ADJUSTED, "ru") == [
        "Отсутствующие товары отменены (-2 000,00 ₽); теперь к оплате: 1 850,00 ₽."
    ]
    assert read(order, T.HOLD_RELEASED, "en") == [
        "Hold released (waiting for your choice: an item is unavailable): The unavailable items are cancelled."
    ]
    assert read(order, T.HOLD_RELEASED, "ru") == [
        "Задержка снята (ждём вашего решения: товара нет в наличии): Отсутствующие товары отменены."
    ]
    # The stored message is the English sentence, whatever language the staff member worked in.
    assert order.events.get(type=T.STOCKOUT_CHOSEN).message.startswith("Choice for the unavailable items: Cancel")


def test_failed_delivery_and_redelivery_sentences_read_in_the_readers_language(staff, policy):
    """DLV-FAILED and SHIP-ADDRESS-CHANGE: the cause from the list, the fee and the amount owed."""
    policy.redelivery_fee = Decimal("450.00")
    policy.save()
    order = make_order(status=Order.Status.PROCESSING, payment_method="cash_courier", language="ru")
    shipment = ship(order)
    delivery.delivery_record_failure(shipment_id=shipment.pk, cause=FailureCause.CUSTOMER_ABSENT, actor=staff)
    delivery.delivery_arrange_redelivery(shipment_id=shipment.pk, kind="redelivery", actor=staff)

    assert read(order, T.DELIVERY_FAILED, "en") == ["Delivery failed: Customer absent."]
    assert read(order, T.DELIVERY_FAILED, "ru") == ["Доставка не состоялась: Покупателя нет на месте."]
    assert read(order, T.REDELIVERY_ARRANGED, "en") == [
        f"Re-delivery arranged for parcel {shipment.pk}; fee RUB 450.00."
    ]
    assert read(order, T.REDELIVERY_ARRANGED, "ru") == [
        f"Назначена повторная доставка посылки {shipment.pk}; плата 450,00 ₽."
    ]
    assert read(order, T.ADJUSTED, "en") == [
        f"Re-delivery after dispatch (parcel {shipment.pk}) (RUB 450.00); now owed: RUB 5,790.00."
    ]
    assert read(order, T.ADJUSTED, "ru") == [
        f"Повторная доставка после отправки (посылка {shipment.pk}) (450,00 ₽); теперь к оплате: 5 790,00 ₽."
    ]


def test_handover_and_act_of_discrepancy_sentences_read_in_the_readers_language(staff):
    """DLV-HANDOVER and REF-SHORT-DELIVERY: to whom the parcel went, and what the act says is missing."""
    order = make_order(status=Order.Status.PROCESSING, lines=(("1000.00", 3), ("500.00", 1)), language="ru")
    shipment = ship(order)
    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff
    )
    first = order.lines.order_by("pk").first()
    acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 2}, place="Lenina 1, Moscow", actor=staff)

    [english] = read(order, T.HANDED_OVER, "en")
    assert english.startswith(f"Parcel {shipment.pk} handed over to ") and english.endswith(" (the customer).")
    [russian] = read(order, T.HANDED_OVER, "ru")
    assert russian.startswith(f"Посылка {shipment.pk} вручена: ") and russian.endswith(" (покупатель).")
    name = first.product_name
    assert read(order, T.DISCREPANCY_ACT, "en") == [f"Act of Discrepancy for parcel {shipment.pk}: {name} × 1."]
    assert read(order, T.DISCREPANCY_ACT, "ru") == [f"Акт о расхождении по посылке {shipment.pk}: {name} × 1."]


def test_a_failed_paypal_payment_reads_in_the_readers_language():
    """PAY-PAYPAL: the attempt ended without money; the reason is the shop's phrase, translated for the reader."""
    order = make_payable_order(language="ru")
    payment = Payment.objects.create(
        order=order, method="paypal", gateway="paypal", status=Payment.Status.CREATED, amount=order.total
    )

    payment_paypal_failed(payment_id=payment.pk, reason="PayPal voided the payment.")
    payment_paypal_failed(payment_id=payment.pk, reason="never read: the payment is closed")

    assert read(order, T.PAYMENT_FAILED, "en") == ["Payment not completed: PayPal voided the payment."]
    assert read(order, T.PAYMENT_FAILED, "ru") == ["Оплата не завершена: PayPal аннулировал платёж."]


def test_a_gateways_own_words_stay_as_they_were_written():
    """A reason that is no msgid of the shop (the gateway's text) is shown as it came."""
    order = make_payable_order(language="ru")
    payment = Payment.objects.create(
        order=order, method="paypal", gateway="paypal", status=Payment.Status.CREATED, amount=order.total
    )

    payment_paypal_failed(payment_id=payment.pk, reason="INSTRUMENT_DECLINED 100%")

    assert read(order, T.PAYMENT_FAILED, "ru") == ["Оплата не завершена: INSTRUMENT_DECLINED 100%"]


def test_a_refund_desk_error_is_shown_in_the_staff_members_language(staff):
    """The refund desk refuses a decline without a reason, and an action on a closed case, in Russian."""
    order = delivered(language="ru")
    line = order.lines.first()
    case = cases.case_open(order_id=order.pk, kind=CaseKind.WITHDRAWAL, lines={line.pk: 1}, actor=staff)

    with translation.override("ru"), pytest.raises(CaseError) as missing:
        cases.case_decline(case_id=case.pk, reason="  ", actor=staff)
    assert str(missing.value) == "Укажите причину: её сообщат покупателю."
    assert missing.value.field == "reason"

    cases.case_withdraw(case_id=case.pk, actor=staff)
    with translation.override("ru"), pytest.raises(CaseError) as closed:
        cases.case_accept(case_id=case.pk, actor=staff)
    assert closed.value.code == CaseErrorCode.NOT_OPEN
    assert str(closed.value) == "Статус обращения: отозвано покупателем."
    with translation.override("en"), pytest.raises(CaseError) as english:
        cases.case_accept(case_id=case.pk, actor=staff)
    assert str(english.value) == "This case is withdrawn by the customer."


def test_the_refund_desk_page_and_its_error_speak_russian(client, staff):
    """A Russian-speaking staff member accepts a withdrawn case: the page's title, button and refusal are Russian."""
    order = delivered(language="ru")
    line = order.lines.first()
    case = cases.case_open(order_id=order.pk, kind=CaseKind.WITHDRAWAL, lines={line.pk: 1}, actor=staff)
    cases.case_withdraw(case_id=case.pk, actor=staff)
    client.force_login(UserFactory(username="vozvraty", is_staff=True, is_superuser=True))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    response = client.post(reverse("admin:refunds_case_accept", args=[case.pk]), {"remedy": "refund"})

    page = " ".join(response.content.decode().split())
    assert response.status_code == 200
    assert "Статус обращения: отозвано покупателем." in page
    assert "Принять: " in page and "This case is" not in page and "Accept " not in page
    case.refresh_from_db()
    assert case.status == "withdrawn"  # nothing changed
