"""PAY-COD-RESTRICT: pay on delivery is withdrawn after refusals, failed deliveries or misconduct."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from orders.models import CustomerStanding, CustomerStandingLog, Order
from orders.standing import cod_decision, standing_lift, standing_mark_misconduct, standing_recompute
from shipping.models import FailureCause
from shipping.services import delivery
from tests.factories import UserFactory
from tests.shipping.support import make_order, ship

pytestmark = pytest.mark.django_db
EMAIL = "Sergey@Example.com"


# The evidence is written by the delivery services (shipping/services/delivery.py), as in production;
# ``ship`` stands in for shipment_create until the fulfilment branches merge.
def _delivered(total="1000.00", *, refused_value=None, status=Order.Status.COMPLETED):
    """A cash order of ``total`` handed over (``COMPLETED``), with items worth ``refused_value`` refused
    at the door (DLV-INSPECT), or wholly refused (``REFUSED``), or only shipped (``SHIPPED``)."""
    total, refused = Decimal(total), Decimal(refused_value or "0")
    prices = [refused, total - refused] if refused and refused < total else [total]
    order = make_order(
        status=Order.Status.PROCESSING,
        payment_method="cash_courier",
        email=EMAIL,
        lines=[(price, 1) for price in prices],
        delivery="0",
    )
    shipment = ship(order)
    if status == Order.Status.SHIPPED:
        return shipment
    lines = list(order.lines.all())
    refuse = lines if status == Order.Status.REFUSED else lines[:1] if refused else []
    delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind="customer", refused={line.pk: 1 for line in refuse}, actor=None
    )
    return shipment


def _failed(*, beyond_shop_control=True):
    shipment = _delivered(status=Order.Status.SHIPPED)
    cause = FailureCause.CUSTOMER_ABSENT if beyond_shop_control else FailureCause.CARRIER_FAULT
    delivery.delivery_record_failure(shipment_id=shipment.pk, cause=cause, actor=None)


def test_pay_cod_restrict_no_history_allows():
    assert cod_decision(email=EMAIL).allowed
    standing = standing_recompute(email=EMAIL)
    assert standing.cod_allowed
    assert not CustomerStandingLog.objects.exists()  # no change, no log row


def test_pay_cod_restrict_a_refused_value_over_half_of_last_three_orders():
    _delivered("1000.00", refused_value="900.00")
    _delivered("1000.00", refused_value="400.00")
    _delivered("1000.00", refused_value="200.00")  # 1500 of 3000: exactly half is not "exceeds"
    assert standing_recompute(email=EMAIL).cod_allowed

    _delivered("1000.00", status=Order.Status.REFUSED)  # a wholly refused order counts in full
    standing = standing_recompute(email=EMAIL)
    # Last three: 1000 refused + 200 + 400 = 1600 of 3000.
    assert not standing.cod_allowed
    decision = cod_decision(email="sergey@example.com")
    assert not decision.allowed
    assert "In your last 3 orders, items worth 1600.00 of 3000.00 were refused" in decision.reason
    log = CustomerStandingLog.objects.get()
    assert log.cod_allowed is False and "refused" in log.reason


def test_pay_cod_restrict_a_needs_three_orders():
    _delivered("1000.00", status=Order.Status.REFUSED)
    _delivered("1000.00", status=Order.Status.REFUSED)
    assert standing_recompute(email=EMAIL).cod_allowed


def test_pay_cod_restrict_b_three_failed_deliveries_in_a_row_beyond_shop_control():
    _failed()
    _failed()
    _failed(beyond_shop_control=False)  # carrier's fault: breaks the run
    assert standing_recompute(email=EMAIL).cod_allowed
    _failed()
    _failed()
    assert standing_recompute(email=EMAIL).cod_allowed  # two in a row since the carrier's fault
    _failed()
    standing = standing_recompute(email=EMAIL)
    assert not standing.cod_allowed
    assert (
        cod_decision(email=EMAIL).reason == "The last 3 deliveries to you failed for reasons beyond the shop's control."
    )


def test_pay_cod_restrict_b_successful_delivery_breaks_the_run():
    _failed()
    _failed()
    shipment = _delivered(status=Order.Status.SHIPPED)
    delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind="customer", actor=None)
    _failed()
    assert standing_recompute(email=EMAIL).cod_allowed


def test_pay_cod_restrict_c_misconduct_lift_and_log():
    staff = UserFactory(username="manager", is_staff=True)
    standing_mark_misconduct(email=EMAIL, note="Abusive to the courier.", actor=staff)
    decision = cod_decision(email=EMAIL)
    assert not decision.allowed
    assert decision.reason == "Withdrawn by the shop after misconduct: Abusive to the courier."

    standing_lift(email=EMAIL, actor=staff, note="Apologised by phone.")
    assert cod_decision(email=EMAIL).allowed
    rows = list(CustomerStanding.objects.get(email=EMAIL.lower()).log.order_by("pk"))
    assert [(r.cod_allowed, r.actor) for r in rows] == [(False, staff), (True, staff)]
    assert rows[1].reason == "Restriction lifted by staff. Apologised by phone."


def test_pay_cod_restrict_misconduct_needs_a_note():
    with pytest.raises(ValueError, match="note is required"):
        standing_mark_misconduct(email=EMAIL, note="  ", actor=None)
    assert not CustomerStanding.objects.exists()


def test_pay_cod_restrict_after_lift_only_newer_evidence_counts():
    staff = UserFactory(username="manager2", is_staff=True)
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(days=30)):
        for _ in range(3):
            _delivered("1000.00", status=Order.Status.REFUSED)
        assert not standing_recompute(email=EMAIL).cod_allowed
    standing_lift(email=EMAIL, actor=staff)
    assert standing_recompute(email=EMAIL).cod_allowed  # old refusals no longer count
    for _ in range(2):
        _delivered("1000.00", status=Order.Status.REFUSED)
    assert standing_recompute(email=EMAIL).cod_allowed
    _delivered("1000.00", status=Order.Status.REFUSED)
    assert not standing_recompute(email=EMAIL).cod_allowed
    assert CustomerStandingLog.objects.count() == 3  # withdrawn, lifted, withdrawn again


def test_pay_cod_restrict_reads_policy_numbers(policy):
    policy.cod_restrict_orders = 2
    policy.cod_refused_share = Decimal("0.25")
    policy.save()
    _delivered("1000.00", refused_value="300.00")
    _delivered("1000.00", refused_value="300.00")
    assert not standing_recompute(email=EMAIL).cod_allowed


def test_cod_decision_is_one_query(django_assert_num_queries):
    standing_mark_misconduct(email=EMAIL, note="x", actor=None)
    with django_assert_num_queries(1):
        cod_decision(email=EMAIL)
