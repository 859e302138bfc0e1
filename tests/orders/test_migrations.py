"""Issue #8: orders in the old single-status shape move to status + payment status + holds."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from orders.models import HoldKind, Order, OrderEvent, OrderHold, OrderLine
from tests.factories import DeliveryMethodFactory, RegionFactory

BEFORE = [("orders", "0002_pricecorrection"), ("payments", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_statuses_become_a_fulfilment_status_a_payment_status_and_holds():
    region, method = RegionFactory(), DeliveryMethodFactory()
    old = _migrate(BEFORE)
    OldOrder, OldLine, OldEvent = (old.get_model("orders", n) for n in ("Order", "OrderLine", "OrderEvent"))
    Payment, Refund = old.get_model("payments", "Payment"), old.get_model("payments", "Refund")
    answer_by = timezone.now() + dt.timedelta(days=2)

    def order(number, status, **extra):
        o = OldOrder.objects.create(
            number=number,
            status=status,
            email=f"{number}@example.com",
            full_name="Anna",
            phone="+79161234567",
            address="1 Street",
            city="Moscow",
            region_id=region.pk,
            delivery_method_id=method.pk,
            payment_method="paypal",
            subtotal=Decimal("1000"),
            delivery_cost=Decimal("0"),
            total=Decimal("1000"),
            checkout_token=f"token-{number}",
            **extra,
        )
        OldLine.objects.create(
            order=o,
            product_name="Binocular",
            sku="B-1",
            unit_price=Decimal("500"),
            quantity=2,
            line_total=Decimal("1000"),
        )
        return o

    def paid(o, status="completed", refunded=None):
        payment = Payment.objects.create(
            order=o,
            method="paypal",
            gateway="paypal",
            status=status,
            amount=Decimal("1000"),
            captured_amount=Decimal("1000"),
            refunded_amount=Decimal(refunded or 0),
        )
        if refunded:
            Refund.objects.create(
                order=o,
                payment=payment,
                amount=Decimal(refunded),
                status="sent",
                way="paypal",
                idempotency_key=o.number,
            )

    paid(order("RX-PAID", "paid"))
    paid(order("RX-FRAUD", "fraud_check"))
    order("RX-PRICE", "price_confirmation", status_before_price_check="awaiting_payment", price_answer_by=answer_by)
    paid(order("RX-PRICE-FRAUD", "price_confirmation", status_before_price_check="fraud_check"))
    paid(order("RX-STOCK", "stock_decision"))
    refused = order("RX-REFUSED", "refunded")
    paid(refused, status="refunded", refunded="1000")
    OldEvent.objects.create(order=refused, type="status_changed", message="x", parameters={"target": "refused"})
    paid(order("RX-CLAIM", "claim_open"), status="partially_refunded", refunded="400")
    cancelled = order("RX-CANCELLED", "cancelled")
    OldEvent.objects.create(order=cancelled, type="price_error_answered", message="x", parameters={"accepted": False})
    OldEvent.objects.create(order=cancelled, type="fraud_check", message="x", parameters={"approved": True})
    order("RX-WAITING", "awaiting_payment")

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    def state(number):
        o = Order.objects.get(number=number)
        kinds = set(OrderHold.objects.filter(order=o, released_at__isnull=True).values_list("kind", flat=True))
        return o.status, o.payment_status, kinds

    H = HoldKind
    assert state("RX-PAID") == ("processing", "paid", set())
    assert state("RX-FRAUD") == ("processing", "paid", {H.FRAUD_REVIEW})
    assert state("RX-PRICE") == ("awaiting_payment", "unpaid", {H.PRICE_CONFIRMATION})
    assert OrderHold.objects.get(order__number="RX-PRICE").due_at == answer_by
    assert state("RX-PRICE-FRAUD") == ("processing", "paid", {H.PRICE_CONFIRMATION, H.FRAUD_REVIEW})
    assert state("RX-STOCK") == ("processing", "paid", {H.STOCK_DECISION})
    assert state("RX-REFUSED") == ("refused", "refunded", set())
    assert state("RX-CLAIM") == ("completed", "partially_refunded", {H.CLAIM})
    assert state("RX-CANCELLED") == ("cancelled", "unpaid", set())
    assert state("RX-WAITING") == ("awaiting_payment", "unpaid", set())
    assert OrderLine.objects.get(order__number="RX-CANCELLED").quantity_cancelled == 2
    assert OrderLine.objects.get(order__number="RX-PAID").quantity_cancelled == 0
    types = set(OrderEvent.objects.filter(order__number="RX-CANCELLED").values_list("type", flat=True))
    assert types == {OrderEvent.Type.PRICE_ERROR_DECLINED, OrderEvent.Type.FRAUD_REVIEW_APPROVED}
