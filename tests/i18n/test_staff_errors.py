"""Issue #12: the refusals the services raise and the admin shows to staff (at the top of the page or
next to a field) read in the reader's language: Russian under ``ru``, the original English under ``en``.
Each is raised through the real service; a refusal changes nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from orders.models import Order
from payments import services as payment_services
from payments.models import Payment, Refund
from shipping.errors import ShipmentError, ShipmentErrorCode
from shipping.models import ActOfDiscrepancy, DeliveryAttempt, RecipientKind, Shipment
from shipping.services import acts, delivery
from shipping.services.acts import ActError, ActErrorCode
from shipping.services.delivery import DeliveryError, DeliveryErrorCode
from shipping.services.shipments import shipment_create
from tests.factories import UserFactory
from tests.payments.payment_support import make_order as make_payment_order
from tests.payments.payment_support import rub
from tests.shipping.shipping_support import DHL_NUMBER, order_to_ship
from tests.shipping.support import make_order, ship

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff():
    return UserFactory(username="sklad", is_staff=True)


def refusal(language: str, error_class, action) -> Exception:
    with translation.override(language), pytest.raises(error_class) as refused:
        action()
    return refused.value


def test_an_act_refused_for_a_full_handover_reads_in_russian_and_in_english(staff):
    order = make_order(status=Order.Status.PROCESSING, lines=(("1000.00", 3),))
    attempt = delivery.delivery_record_handover(
        shipment_id=ship(order).pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff
    )
    line = order.lines.get()

    def draw_up(**changes):
        asked = {"attempt_id": attempt.pk, "handed_over": {}, "place": "Door", "actor": staff} | changes
        return lambda: acts.act_draw_up(**asked)

    russian = refusal("ru", ActError, draw_up())
    english = refusal("en", ActError, draw_up())
    assert russian.code == english.code == ActErrorCode.NOTHING_MISSING
    assert str(russian) == (
        "Вручено всё: акт фиксирует то, чего не хватает или что не то. Уменьшите врученное количество."
    )
    assert str(english) == (
        "Every unit was handed over: an act records what is missing or wrong. Lower a handed-over quantity."
    )

    too_many = refusal("ru", ActError, draw_up(handed_over={line.pk: 4}))
    assert (too_many.field, str(too_many)) == (
        f"handed_{line.pk}",
        f"{line.product_name}: вручено может быть от 0 до 3 шт.",
    )
    assert str(refusal("en", ActError, draw_up(handed_over={line.pk: 4}))) == (
        f"{line.product_name}: between 0 and 3 can be handed over."
    )
    assert str(refusal("ru", ActError, draw_up(handed_over={line.pk: 1}, place=" "))) == (
        "Укажите, где была вручена посылка."
    )
    assert not ActOfDiscrepancy.objects.exists()


def test_a_scan_of_the_wrong_type_is_refused_next_to_the_field_in_russian(staff):
    order = make_order(status=Order.Status.PROCESSING, lines=(("1000.00", 3),))
    attempt = delivery.delivery_record_handover(
        shipment_id=ship(order).pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff
    )
    act = acts.act_draw_up(attempt_id=attempt.pk, handed_over={order.lines.get().pk: 2}, place="Door", actor=staff)

    def attach():
        return acts.act_attach_scan(act_id=act.pk, scan=SimpleUploadedFile("act.txt", b"hello"), actor=staff)

    russian = refusal("ru", ActError, attach)
    assert (russian.code, russian.field) == (ActErrorCode.BAD_SCAN, "scan")
    assert str(russian) == "Загрузите скан в формате PDF, PNG или JPEG."
    assert str(refusal("en", ActError, attach)) == "Upload the scan as a PDF, PNG or JPEG file."
    act.refresh_from_db()
    assert not act.scan


@pytest.mark.parametrize(
    "left, russian",
    [
        (2, "К отправке остались только 2 единицы «{product}»."),
        (1, "К отправке осталась только 1 единица «{product}»."),
        (5, "К отправке осталось только 5 единиц «{product}»."),
    ],
)
def test_over_shipping_a_line_is_refused_in_russian_with_the_count_in_the_right_form(left, russian):
    order = order_to_ship(quantities=(left,))
    line = order.lines.get()

    def ship_too_many():
        return shipment_create(
            order_id=order.pk,
            method_id=order.delivery_method.pk,
            tracking_number=DHL_NUMBER,
            lines={line.pk: left + 1},
            actor=None,
        )

    refused = refusal("ru", ShipmentError, ship_too_many)
    assert (refused.code, refused.field, refused.line_id) == (ShipmentErrorCode.OVER_OPEN, "lines", line.pk)
    assert str(refused) == russian.format(product=line.product_name)
    assert str(refusal("en", ShipmentError, ship_too_many)) == f"Only {left} of “{line.product_name}” left to ship."
    assert not Shipment.objects.filter(order=order).exists()


def test_a_handover_without_the_recipients_name_is_refused_next_to_the_field_in_russian(staff):
    order = make_order(status=Order.Status.PROCESSING, lines=(("1000.00", 1),))
    shipment = ship(order)

    def hand_over():
        return delivery.delivery_record_handover(
            shipment_id=shipment.pk, recipient_kind=RecipientKind.NAMED_RECIPIENT, actor=staff
        )

    refused = refusal("ru", DeliveryError, hand_over)
    assert (refused.code, refused.field) == (DeliveryErrorCode.RECIPIENT_NAME_MISSING, "recipient_name")
    assert str(refused) == "Введите имя получателя так, как он его назвал."
    assert str(refusal("en", DeliveryError, hand_over)) == "Enter the recipient's name as they gave it."
    assert not DeliveryAttempt.objects.exists()


def test_a_refund_above_what_was_taken_is_refused_in_russian_and_in_english():
    order = make_payment_order(status="processing", payment_method="cash_courier")

    def refund():
        return payment_services.refund_issue(order_id=order.pk, amount=rub("1.00"), reason="Goodwill")

    russian = refusal("ru", payment_services.RefundError, refund)
    assert str(russian).startswith("По этому заказу можно вернуть ещё только ")
    assert "0,00" in str(russian)
    assert str(refusal("en", payment_services.RefundError, refund)) == (
        "Only RUB 0.00 can still be refunded on this order."
    )
    assert not Refund.objects.exists()


def test_a_payment_at_the_door_short_of_the_total_is_refused_in_russian():
    order = make_payment_order(status="processing", payment_method="cash_courier")

    def take(amount):
        return lambda: payment_services.payment_record_at_door(
            order_id=order.pk,
            method="cash_courier",
            amount=amount,
            id_document_checked=False,
            card_unnamed=False,
            actor=None,
        )

    russian = refusal("ru", payment_services.PaymentError, take(order.total - rub("1.00")))
    assert str(russian).startswith("Заказ нужно оплатить полностью: ")
    assert "(получено: " in str(russian)
    english = refusal("en", payment_services.PaymentError, take(order.total - rub("1.00")))
    assert str(english).startswith("The order must be paid in full: ") and "(taken: " in str(english)
    assert not Payment.objects.filter(order=order).exists()


def test_a_tracking_number_of_the_wrong_shape_is_refused_next_to_the_field_in_russian():
    order = order_to_ship(quantities=(1,))

    def ship_with(number):
        return lambda: shipment_create(
            order_id=order.pk,
            method_id=order.delivery_method.pk,
            tracking_number=number,
            lines={order.lines.get().pk: 1},
            actor=None,
        )

    refused = refusal("ru", ShipmentError, ship_with("123"))
    assert (refused.code, refused.field) == (ShipmentErrorCode.TRACKING_FORMAT, "tracking_number")
    assert str(refused) == "Это не трек-номер DHL Express: ожидается 10 цифр, например 1234567890."
    assert str(refusal("en", ShipmentError, ship_with("123"))) == (
        "This is not a DHL Express tracking number: expected 10 digits, e.g. 1234567890."
    )
    assert not Shipment.objects.filter(order=order).exists()
