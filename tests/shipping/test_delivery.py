"""DLV-HANDOVER, DLV-INSPECT, DLV-ID-CHECK, DLV-FAILED, SHIP-ADDRESS-CHANGE through shipping/services/delivery.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from orders.models import AdjustmentKind, CustomerStanding, Order, OrderAdjustment, OrderEvent
from orders.pricing import order_amount_due
from payments.models import Payment, Refund
from shipping.models import DeliveryAttempt, FailureCause, RecipientKind, RefusedItem, Shipment
from shipping.services import delivery
from shipping.services.delivery import DeliveryError, DeliveryErrorCode
from shop.models import Email
from tests.factories import UserFactory

from .support import make_order, paid_by_transfer, rub, ship

pytestmark = pytest.mark.django_db
T = OrderEvent.Type


@pytest.fixture
def staff():
    return UserFactory(username="courier-desk", is_staff=True)


def cod_order(method="cash_courier", lines=(("1000.00", 2), ("500.00", 1)), **kwargs):
    return make_order(status=Order.Status.PROCESSING, payment_method=method, lines=lines, **kwargs)


def test_dlv_handover_cash_order_paid_at_door_and_completed(staff):
    """DLV-HANDOVER: the customer receives the parcel, pays the courier in full; the order is completed."""
    order = cod_order()
    shipment = ship(order)

    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff
    )

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert attempt.recipient_name == order.full_name and attempt.recorded_by == staff
    assert shipment.status == Shipment.Status.DELIVERED
    assert order.status == Order.Status.COMPLETED
    assert order.payment_status == Order.PaymentStatus.PAID
    [payment] = Payment.objects.filter(order=order)
    assert payment.captured_amount == rub("2850.00") and payment.gateway == "courier"
    assert [line.quantity_delivered for line in order.lines.all()] == [2, 1]
    assert order.events.filter(type=T.HANDED_OVER, customer_visible=True).count() == 1


def test_dlv_inspect_refused_items_are_recorded_not_owed_and_count_for_standing(staff):
    """DLV-INSPECT: one unit refused at the door: its value is recorded and no longer owed; PAY-COD-RESTRICT sees it."""
    order = cod_order()
    first, second = order.lines.all()
    shipment = ship(order)

    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, refused={first.pk: 1}, actor=staff
    )

    order.refresh_from_db()
    first.refresh_from_db()
    [item] = RefusedItem.objects.filter(attempt=attempt)
    assert (item.order_line, item.quantity, item.value) == (first, 1, rub("1000.00"))
    assert (first.quantity_delivered, first.quantity_refused) == (1, 1)
    adjustment = OrderAdjustment.objects.get(order=order)
    assert adjustment.kind == AdjustmentKind.REFUSED_AT_DOOR and adjustment.amount == rub("-1000.00")
    assert order_amount_due(order) == rub("1850.00")
    assert Payment.objects.get(order=order).captured_amount == rub("1850.00")  # paid what is owed, in full
    assert order.payment_status == Order.PaymentStatus.PAID
    assert order.status == Order.Status.COMPLETED
    refused_event = order.events.get(type=T.ITEMS_REFUSED)
    assert refused_event.parameters["value"] == {"amount": "1000.00", "currency": "RUB"}
    assert refused_event.parameters["items"][0]["quantity"] == 1
    # standing_recompute ran in the same transaction: the standing row exists for this customer.
    assert CustomerStanding.objects.filter(email=order.email).exists()


def test_dlv_inspect_items_refused_from_a_prepaid_order_are_refunded_once(staff):
    """DLV-INSPECT + PAY-REFUND-SAME-WAY: a paid prepaid order pays only for what is kept: the refused
    unit's value goes back the way it came (one refund, keyed by the attempt); the order is completed."""
    order = paid_by_transfer(lines=(("1000.00", 2), ("500.00", 1)))
    first, _second = order.lines.all()
    shipment = ship(order)

    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, refused={first.pk: 1}, actor=staff
    )

    order.refresh_from_db()
    [refund] = Refund.objects.filter(order=order)
    [case] = refund.cases.all()  # a refused-at-door case (refunds), keyed by the attempt
    assert refund.amount == rub("1000.00") and case.kind == "refused_at_door"
    assert case.key.endswith(f"refused:{attempt.pk}")
    assert order_amount_due(order) == order.total - rub("1000.00")
    assert order.status == Order.Status.COMPLETED
    # Paid by bank transfer: the refund waits for the customer's account (PAY-REFUND-SAME-WAY).
    assert refund.status == "awaiting_bank_details"


def test_dlv_inspect_everything_refused_refuses_the_order_and_takes_no_payment(staff):
    """DLV-INSPECT: every item refused: the parcel and the order are refused; nothing is paid at the door."""
    order = cod_order(lines=(("1000.00", 1),))
    [line] = order.lines.all()
    shipment = ship(order)

    delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, refused={line.pk: 1}, actor=staff
    )

    order.refresh_from_db()
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.REFUSED
    assert order.status == Order.Status.REFUSED
    assert not Payment.objects.filter(order=order).exists()
    assert not order.events.filter(type=T.HANDED_OVER).exists()


def test_dlv_handover_partial_shipment_leaves_the_order_open(staff):
    """DLV-HANDOVER: with units still to ship, a handed-over parcel does not finish the order."""
    order = cod_order()
    first, second = order.lines.all()
    shipment = ship(order, {first.pk: 2})
    assert Order.objects.get(pk=order.pk).status == Order.Status.PARTIALLY_SHIPPED

    delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff)

    assert Order.objects.get(pk=order.pk).status == Order.Status.PARTIALLY_SHIPPED


def test_dlv_handover_order_number_holder_only_for_cash_orders_and_named(staff):
    """DLV-HANDOVER: a person with the order number may receive a cash order only, giving the recipient's name."""
    card = cod_order(method="card_courier")
    card_parcel = ship(card)
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(
            shipment_id=card_parcel.pk,
            recipient_kind=RecipientKind.ORDER_NUMBER_HOLDER,
            recipient_name="Ivan",
            actor=staff,
        )
    assert exc.value.code == DeliveryErrorCode.RECIPIENT_INVALID and exc.value.field == "recipient_kind"

    cash = cod_order()
    parcel = ship(cash)
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(
            shipment_id=parcel.pk, recipient_kind=RecipientKind.ORDER_NUMBER_HOLDER, actor=staff
        )
    assert exc.value.code == DeliveryErrorCode.RECIPIENT_NAME_MISSING
    assert not DeliveryAttempt.objects.exists()

    delivery.delivery_record_handover(
        shipment_id=parcel.pk,
        recipient_kind=RecipientKind.ORDER_NUMBER_HOLDER,
        recipient_name="Anna Petrova",
        actor=staff,
    )
    assert Payment.objects.get(order=cash).captured_amount == cash.total  # paid in full


def test_pay_card_at_door_id_named_card_without_id_check_changes_nothing(staff):
    """PAY-CARD-AT-DOOR-ID (checked in payments): a named card without the ID check rolls the handover back."""
    order = cod_order(method="card_courier")
    shipment = ship(order)

    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff)

    assert exc.value.code == "id_not_checked" and exc.value.field == "id_document_checked"
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED
    assert not DeliveryAttempt.objects.exists()
    assert all(line.quantity_delivered == 0 for line in order.lines.all())

    delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, id_document_checked=True, actor=staff
    )
    assert Payment.objects.get(order=order).id_document_checked


def test_dlv_id_check_document_number_is_encrypted_at_rest_and_masked(staff):
    """DLV-ID-CHECK: a prepaid order's recipient's document: the database holds ciphertext; the mask shows 4."""
    order = paid_by_transfer()
    shipment = ship(order)

    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk,
        recipient_kind=RecipientKind.NAMED_RECIPIENT,
        recipient_name="Oleg Petrov",
        id_document_type="passport",
        id_document_number="4510 123456",
        actor=staff,
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_document_number FROM shipping_deliveryattempt WHERE id = %s", [attempt.pk])
        [raw] = cursor.fetchone()
    assert "123456" not in raw and len(raw) > 40
    stored = DeliveryAttempt.objects.get(pk=attempt.pk)
    assert stored.id_document_number == "4510123456"
    assert stored.id_document_masked == "•••• 3456"
    assert not Payment.objects.filter(order=order, gateway="courier").exists()  # prepaid: nothing at the door
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


def test_dlv_id_check_only_for_prepaid_orders_and_needs_type_and_number(staff):
    """DLV-ID-CHECK: a document is recorded for a prepaid order only, with both its type and number."""
    cod = ship(cod_order())
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(
            shipment_id=cod.pk,
            recipient_kind=RecipientKind.CUSTOMER,
            id_document_type="passport",
            id_document_number="4510123456",
            actor=staff,
        )
    assert exc.value.code == DeliveryErrorCode.ID_DOCUMENT_NOT_PREPAID

    prepaid = ship(paid_by_transfer())
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(
            shipment_id=prepaid.pk, recipient_kind=RecipientKind.CUSTOMER, id_document_number="123", actor=staff
        )
    assert exc.value.code == DeliveryErrorCode.ID_DOCUMENT_INCOMPLETE and exc.value.field == "id_document_type"
    assert not DeliveryAttempt.objects.exists()


def test_dlv_inspect_refusing_more_than_the_parcel_holds_is_refused(staff):
    order = cod_order()
    first, _ = order.lines.all()
    shipment = ship(order)
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(
            shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, refused={first.pk: 3}, actor=staff
        )
    assert exc.value.code == DeliveryErrorCode.TOO_MANY_REFUSED and exc.value.field == f"refused_{first.pk}"
    assert not RefusedItem.objects.exists() and not OrderAdjustment.objects.exists()


def test_dlv_handover_twice_is_refused_and_a_partner_event_sent_twice_records_once(staff):
    """A parcel is handed over once; the same partner event (key) returns the first attempt."""
    order = cod_order()
    shipment = ship(order)
    first = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, key="partner:1:ev-1", actor=None
    )
    again = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, key="partner:1:ev-1", actor=None
    )
    assert again.pk == first.pk and DeliveryAttempt.objects.count() == 1
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff)
    assert exc.value.code == DeliveryErrorCode.NOT_ALLOWED


def test_dlv_failed_records_cause_and_whether_beyond_shop_control(staff):
    """DLV-FAILED: the cause from the list; the customer's side counts for PAY-COD-RESTRICT, the carrier's not."""
    order = cod_order()
    shipment = ship(order)

    attempt = delivery.delivery_record_failure(shipment_id=shipment.pk, cause=FailureCause.CUSTOMER_ABSENT, actor=staff)
    second = delivery.delivery_record_failure(shipment_id=shipment.pk, cause=FailureCause.CARRIER_FAULT, actor=staff)

    assert attempt.beyond_shop_control is True and second.beyond_shop_control is False
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.FAILED
    events = list(order.events.filter(type=T.DELIVERY_FAILED).values_list("parameters", flat=True))
    assert [(e["cause"], e["beyond_shop_control"]) for e in events] == [
        ("customer_absent", True),
        ("carrier_fault", False),
    ]
    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED

    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_record_failure(shipment_id=shipment.pk, cause="dog ate it", actor=staff)
    assert exc.value.code == DeliveryErrorCode.UNKNOWN_CAUSE and exc.value.field == "cause"


def test_ship_address_change_redelivery_after_failure_charges_the_fee_once(staff, policy):
    """SHIP-ADDRESS-CHANGE: a re-delivery after a failed attempt adds the Policy fee, with an event and an e-mail."""
    policy.redelivery_fee = Decimal("450.00")
    policy.save()
    order = cod_order()
    shipment = ship(order)
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_arrange_redelivery(shipment_id=shipment.pk, kind="redelivery", actor=staff)
    assert exc.value.code == DeliveryErrorCode.NO_FAILED_ATTEMPT
    delivery.delivery_record_failure(shipment_id=shipment.pk, cause=FailureCause.CUSTOMER_ABSENT, actor=staff)

    for _ in range(2):
        delivery.delivery_arrange_redelivery(shipment_id=shipment.pk, kind="redelivery", actor=staff)

    [fee] = OrderAdjustment.objects.filter(order=order)
    assert fee.kind == AdjustmentKind.FEE and fee.amount == rub("450.00")
    assert order_amount_due(order) == rub("3300.00")
    shipment.refresh_from_db()
    assert shipment.status == Shipment.Status.SHIPPED  # on its way again
    assert order.events.filter(type=T.REDELIVERY_ARRANGED).count() == 1
    [email] = Email.objects.filter(key__startswith="parcel-redelivery:")
    assert email.to == order.email
    assert "450" in email.body_text and "3" in email.body_text and "Re-delivery" in email.subject

    # The customer pays the fee at the door too.
    delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff)
    assert Payment.objects.get(order=order).captured_amount == rub("3300.00")


def test_ship_address_change_after_dispatch_updates_the_address_and_charges_once(staff, policy):
    """SHIP-ADDRESS-CHANGE: a new address after dispatch: the order's address changes, the fee is owed."""
    order = cod_order()
    shipment = ship(order)
    with pytest.raises(DeliveryError) as exc:
        delivery.delivery_arrange_redelivery(shipment_id=shipment.pk, kind="address_change", city="Tver", actor=staff)
    assert exc.value.code == DeliveryErrorCode.ADDRESS_MISSING and exc.value.field == "address"

    for _ in range(2):
        delivery.delivery_arrange_redelivery(
            shipment_id=shipment.pk, kind="address_change", address="3 Mira avenue", city="Tver", actor=staff
        )

    order.refresh_from_db()
    assert (order.address, order.city) == ("3 Mira avenue", "Tver")
    [fee] = OrderAdjustment.objects.filter(order=order, kind=AdjustmentKind.FEE)
    assert fee.amount == rub(policy.redelivery_fee)
    [email] = Email.objects.filter(key__startswith="parcel-redelivery:")
    assert "3 Mira avenue" in email.body_text and "500" in email.body_text
