"""DLV-LATE, DLV-LOST, REF-SHORT-DELIVERY (a claim without an act) through shipping/services/parcels.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderEvent
from payments.models import Refund
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus
from refunds.services import case_open
from shipping.models import RecipientKind, Shipment
from shipping.services import acts, delivery, packing, parcels, shipments
from shipping.services.parcels import ParcelClaimError, ParcelClaimErrorCode
from shop.calendar import BusinessCalendar
from shop.models import Email, Policy
from tests.factories import UserFactory

from .support import paid_by_transfer, ship

pytestmark = pytest.mark.django_db
MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture
def staff():
    return UserFactory(username="claims-desk", is_staff=True)


def shipped_on(day: dt.date, **order_kwargs) -> tuple[Order, Shipment]:
    """A paid order shipped in one parcel at 10:00 shop time on ``day``."""
    order = paid_by_transfer(lines=(("1000.00", 2), ("500.00", 1)), **order_kwargs)
    shipment = ship(order, shipped_at=dt.datetime.combine(day, dt.time(10), tzinfo=MSK))
    return order, shipment


def at(day: dt.date, hour: int = 12):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=MSK), tick=False)


# --- DLV-LATE: the window and the margin --------------------------------------------------------
@pytest.mark.parametrize(
    ("expected_to", "margin", "investigate_on"),
    [
        (dt.date(2026, 6, 11), 2, dt.date(2026, 6, 16)),  # Thu; Fri 12 June is Russia Day, then a weekend
        (dt.date(2026, 5, 29), 2, dt.date(2026, 6, 2)),  # Fri: the weekend is skipped
        (dt.date(2026, 5, 27), 1, dt.date(2026, 5, 28)),  # Wed → Thu
        (dt.date(2026, 5, 29), 0, dt.date(2026, 5, 30)),  # no margin: the day after the window
    ],
)
def test_dlv_late_investigation_day_counts_business_days_across_weekends_and_holidays(
    expected_to, margin, investigate_on
):
    """DLV-LATE: the shop's own investigation starts ``late_parcel_margin_days`` business days after the window."""
    Policy.objects.update_or_create(pk=1, defaults={"late_parcel_margin_days": margin})
    assert parcels.investigate_on_for(expected_to) == investigate_on


def test_dlv_late_shipment_stores_its_investigation_day():
    """DLV-LATE: stored on the parcel when it leaves (indexed: the periodic task's one query)."""
    _order, shipment = shipped_on(dt.date(2026, 6, 1))
    assert shipment.investigate_on == parcels.investigate_on_for(shipment.expected_to)
    assert shipment.investigate_on > shipment.expected_to


def test_dlv_late_customer_may_report_only_once_the_window_has_passed():
    """DLV-LATE: on the window's last day the parcel is not late; the next day the report opens a case at once,
    alerts staff and e-mails the customer."""
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    last_day = shipment.expected_to

    with at(last_day, 23), pytest.raises(ParcelClaimError) as early:
        parcels.parcel_report_late(shipment_id=shipment.pk, actor=None)
    assert early.value.code == ParcelClaimErrorCode.NOT_LATE
    assert not Case.objects.exists()

    with at(last_day + dt.timedelta(days=1), 0):
        case = parcels.parcel_report_late(shipment_id=shipment.pk, actor=None)

    assert (case.kind, case.status, case.shipment_id) == (CaseKind.LATE_PARCEL, CaseStatus.REQUESTED, shipment.pk)
    assert case.amount.amount == Decimal("2500.00") + order.delivery_cost.amount  # goods and delivery
    staff_mail = Email.objects.get(key=f"staff-late-parcel:{shipment.pk}")
    assert staff_mail.to == Policy.load().staff_email and order.number in staff_mail.subject
    assert Email.objects.filter(to=order.email, key=f"case-opened:{case.pk}").exists()
    assert order.events.filter(type=OrderEvent.Type.CASE_OPENED).exists()


def test_dlv_late_reporting_twice_opens_one_investigation():
    """DLV-LATE: a second click (or the shop's task) finds the case already open."""
    _order, shipment = shipped_on(dt.date(2026, 6, 1))
    with at(shipment.expected_to + dt.timedelta(days=3)):
        first = parcels.parcel_report_late(shipment_id=shipment.pk)
        second = parcels.parcel_report_late(shipment_id=shipment.pk, by_shop=True)
    assert first == second and Case.objects.count() == 1
    assert Email.objects.filter(key__startswith="staff-late-parcel:").count() == 1


def test_dlv_late_handed_over_parcel_is_not_late(staff):
    """DLV-LATE: a parcel handed over (even after its window) cannot be reported as not arrived."""
    _order, shipment = shipped_on(dt.date(2026, 6, 1))
    with at(shipment.expected_to + dt.timedelta(days=2)):
        delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff)
        with pytest.raises(ParcelClaimError) as refused:
            parcels.parcel_report_late(shipment_id=shipment.pk)
    assert refused.value.code == ParcelClaimErrorCode.NOT_LATE


# --- DLV-LATE: the periodic task --------------------------------------------------------------
#: The whole run, whatever the number of late parcels (tests/perf/test_periodic_queries.py pins it too).
LATE_SWEEP_QUERIES = 20


def _late_parcels(n: int) -> list[Shipment]:
    return [shipped_on(dt.date(2026, 6, 1))[1] for _ in range(n)]


def test_dlv_late_periodic_task_opens_on_the_investigation_day_once(django_capture_on_commit_callbacks):
    """DLV-LATE: nothing before ``investigate_on``; on it one case per parcel; a second (or late) run adds nothing."""
    [shipment] = _late_parcels(1)
    with at(shipment.investigate_on - dt.timedelta(days=1), 23):
        assert parcels.parcels_investigate_late() == 0
    with at(shipment.investigate_on, 1):
        assert parcels.parcels_investigate_late() == 1
        assert parcels.parcels_investigate_late() == 0
    with at(shipment.investigate_on + dt.timedelta(days=5)):
        assert parcels.parcels_investigate_late() == 0
    case = Case.objects.get()
    assert case.key == f"late-parcel:{shipment.pk}" and "noticed" in case.statement
    assert "shop opened an investigation itself" in Email.objects.get(key=f"staff-late-parcel:{shipment.pk}").body_text


@pytest.mark.parametrize("size", [2, 6])
def test_dlv_late_periodic_task_query_count_is_pinned_at_two_sizes(size, django_assert_max_num_queries):
    """DLV-LATE: the task reads due parcels in one query and opens their cases together: the same
    number of queries at any size (issue #14: batched); a run with nothing left to do costs 3."""
    due = _late_parcels(size)
    with at(due[0].investigate_on):
        with django_assert_max_num_queries(LATE_SWEEP_QUERIES):
            assert parcels.parcels_investigate_late() == size
        with django_assert_max_num_queries(3):
            assert parcels.parcels_investigate_late() == 0


def test_dlv_late_periodic_task_works_in_batches():
    """DLV-LATE: at most ``batch`` parcels a run; the next run takes the rest."""
    due = _late_parcels(3)
    with at(due[0].investigate_on):
        assert parcels.parcels_investigate_late(batch=2) == 2
        assert parcels.parcels_investigate_late(batch=2) == 1
    assert Case.objects.filter(kind=CaseKind.LATE_PARCEL).count() == 3


# --- DLV-LATE: staff close it ------------------------------------------------------------------
def _investigated(**kwargs) -> tuple[Order, Shipment, Case]:
    order, shipment = shipped_on(dt.date(2026, 6, 1), **kwargs)
    with at(shipment.expected_to + dt.timedelta(days=1)):
        case = parcels.parcel_report_late(shipment_id=shipment.pk)
    return order, shipment, case


def test_dlv_late_reship_at_no_charge_goes_through_packing_and_ships_a_linked_parcel(staff):
    """DLV-LATE: "re-ship at no charge": the order goes back to the warehouse, is packed and shipped as usual;
    the new parcel points to the first; the stock goes down by the units sent again; nothing is charged."""
    order, shipment, case = _investigated()
    first, second = order.lines.all()
    stock_before = first.product.stock
    total_before = order.total

    case = parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.RESHIP, actor=staff)

    order.refresh_from_db()
    shipment.refresh_from_db()
    first.refresh_from_db()
    first.product.refresh_from_db()
    assert (case.status, case.remedy) == (CaseStatus.RESOLVED, CaseRemedy.RESHIP)
    assert shipment.status == Shipment.Status.LOST and shipment.reship_requested_at is not None
    assert order.status == Order.Status.PROCESSING and order.ship_by > shipment.shipped_at
    assert first.quantity_open == 2 and first.product.stock == stock_before - 2
    assert order.events.filter(type=OrderEvent.Type.PARCEL_RESHIP).exists()
    assert "send the goods again" in Email.objects.get(key=f"case-resolved:{case.pk}").body_text

    packing.order_mark_packed(order_id=order.pk, actor=staff)
    again = shipments.shipment_create(
        order_id=order.pk,
        method_id=order.delivery_method_id,
        tracking_number="RA123456785RU" if order.delivery_method.requires_tracking else "",
        lines={first.pk: 2, second.pk: 1},
        actor=staff,
    )
    order.refresh_from_db()
    assert again.reshipment_of == shipment and order.status == Order.Status.SHIPPED
    assert order.total == total_before and not Refund.objects.filter(order=order).exists()
    assert Email.objects.filter(key=f"shipment-notice:{again.pk}").exists()

    # Pressing "re-ship" again changes nothing.
    assert parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.RESHIP, actor=staff) == case
    assert Shipment.objects.filter(reshipment_of=shipment).count() == 1


def test_dlv_late_refund_in_full_refunds_goods_and_delivery_and_the_order_ends(staff):
    """DLV-LATE: "refund in full": goods and delivery, the way it was paid; the parcel's units are given up."""
    order, shipment, case = _investigated()

    case = parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.REFUND, actor=staff)

    order.refresh_from_db()
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == order.total  # 2 × 1000 + 500 + delivery
    assert (case.status, case.remedy) == (CaseStatus.RESOLVED, CaseRemedy.REFUND)
    assert order.status == Order.Status.CANCELLED
    assert all(line.quantity_shipped == 0 and line.quantity_cancelled == line.quantity for line in order.lines.all())
    assert Email.objects.filter(key__startswith=f"case-refund:{case.pk}").exists()


def test_dlv_late_customer_cannot_choose_staff_close_it():
    """DLV-LATE: the customer reports; staff decide how it ends."""
    _order, _shipment, case = _investigated()
    with pytest.raises(ParcelClaimError) as refused:
        parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.REFUND, by_customer=True)
    assert refused.value.code == ParcelClaimErrorCode.WRONG_CASE


# --- DLV-LOST ---------------------------------------------------------------------------------
def test_dlv_lost_risk_passes_only_at_a_signed_handover(staff):
    """DLV-LOST: a parcel handed over cannot be declared lost; one on its way or at a pick-up point can."""
    _order, handed = shipped_on(dt.date(2026, 6, 1))
    delivery.delivery_record_handover(shipment_id=handed.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff)
    with pytest.raises(ParcelClaimError) as refused:
        parcels.parcel_confirm_lost(shipment_id=handed.pk, reference="RP-1", actor=staff)
    assert refused.value.code == ParcelClaimErrorCode.RISK_PASSED

    _order, waiting = shipped_on(dt.date(2026, 6, 1))
    delivery.delivery_record_awaiting_collection(shipment_id=waiting.pk, pickup_point="PVZ 4", actor=staff)
    case = parcels.parcel_confirm_lost(shipment_id=waiting.pk, reference="RP-2", actor=staff)
    assert case.kind == CaseKind.LOST_PARCEL


def test_dlv_lost_confirmation_is_recorded_and_the_customer_is_asked_to_choose(staff):
    """DLV-LOST: the carrier's confirmation on the parcel, a case, an event, the e-mail with the choice link."""
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    with pytest.raises(ParcelClaimError) as missing:
        parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference=" ", actor=staff)
    assert missing.value.field == "reference"

    case = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="Claim 77/2026", actor=staff)
    again = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="Claim 77/2026", actor=staff)

    shipment.refresh_from_db()
    assert case == again and (case.kind, case.status) == (CaseKind.LOST_PARCEL, CaseStatus.REQUESTED)
    assert shipment.status == Shipment.Status.LOST and shipment.loss_reference == "Claim 77/2026"
    assert order.events.get(type=OrderEvent.Type.PARCEL_LOST).parameters["reference"] == "Claim 77/2026"
    email = Email.objects.get(key=f"parcel-lost:{shipment.pk}")
    assert "secret-link" in email.body_text and "refund the goods and the delivery" in email.body_text


def test_dlv_lost_closes_an_open_late_investigation_into_the_lost_case(staff):
    """DLV-LOST after DLV-LATE: the investigation ends, the customer chooses in the lost parcel's case."""
    _order, shipment, late = _investigated()
    lost = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="RP-9", actor=staff)
    late.refresh_from_db()
    assert late.status == CaseStatus.RESOLVED and f"case {lost.pk}" in late.resolution_note
    assert lost.status == CaseStatus.REQUESTED


def test_dlv_lost_customer_chooses_a_replacement(staff):
    """DLV-LOST: the replacement is the same goods sent again at no charge, through the warehouse."""
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    case = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="RP-3", actor=staff)
    with pytest.raises(ParcelClaimError) as wrong:
        parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.RESHIP, by_customer=True)
    assert wrong.value.code == ParcelClaimErrorCode.BAD_REMEDY

    case = parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.REPLACEMENT, by_customer=True)

    order.refresh_from_db()
    assert (case.status, case.remedy) == (CaseStatus.RESOLVED, CaseRemedy.REPLACEMENT)
    assert order.status == Order.Status.PROCESSING
    assert "your choice" in case.resolution_note


def test_dlv_lost_refund_of_goods_and_delivery_never_above_what_was_paid(staff):
    """DLV-LOST: a refund of the goods and the delivery; asked twice, refunded once."""
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    case = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="RP-4", actor=staff)
    parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.REFUND, by_customer=True)
    parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.REFUND, by_customer=True)
    assert sum(r.amount.amount for r in Refund.objects.filter(order=order)) == order.total.amount


def test_dlv_lost_stock_short_refuses_the_replacement_and_changes_nothing(staff):
    """Sending again needs the goods on the shelf: otherwise said plainly, and the customer may take the refund."""
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    case = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="RP-5", actor=staff)
    first = order.lines.first()
    first.product.stock = 1
    first.product.save(update_fields=["stock"])
    with pytest.raises(ParcelClaimError) as short:
        parcels.parcel_claim_settle(case_id=case.pk, remedy=CaseRemedy.REPLACEMENT, by_customer=True)
    assert short.value.code == ParcelClaimErrorCode.OUT_OF_STOCK
    case.refresh_from_db()
    first.refresh_from_db()
    assert case.status == CaseStatus.REQUESTED and first.quantity_shipped == 2


# --- REF-SHORT-DELIVERY: a claim with no act may be declined ------------------------------------
def test_ref_short_delivery_claim_without_an_act_may_be_declined_with_that_reason(staff, settings, tmp_path):
    """REF-SHORT-DELIVERY: no act → declined, the customer e-mailed why; with an act it cannot be declined so."""
    settings.MEDIA_ROOT = tmp_path
    order, shipment = shipped_on(dt.date(2026, 6, 1))
    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=staff
    )
    first = order.lines.first()
    claim = case_open(order_id=order.pk, kind=CaseKind.SHORT_DELIVERY, lines={first.pk: 1}, remedy=CaseRemedy.REFUND)

    declined = parcels.short_delivery_decline_without_act(case_id=claim.pk, actor=staff)
    assert declined.status == CaseStatus.DECLINED and declined.decline_reason == parcels.NO_ACT_REASON
    assert "No Act of Discrepancy" in Email.objects.get(key=f"case-declined:{claim.pk}").body_text

    other = case_open(order_id=order.pk, kind=CaseKind.SHORT_DELIVERY, lines={first.pk: 1}, remedy=CaseRemedy.REFUND)
    acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 1}, place="Door", actor=staff)
    with pytest.raises(ParcelClaimError) as has_act:
        parcels.short_delivery_decline_without_act(case_id=other.pk, actor=staff)
    assert has_act.value.code == ParcelClaimErrorCode.HAS_ACT
    other.refresh_from_db()
    assert other.status == CaseStatus.REQUESTED


def test_dlv_late_window_is_the_shop_local_date():
    """DLV-LATE: "late" turns at the shop's midnight, not UTC's."""
    _order, shipment = shipped_on(dt.date(2026, 6, 1))
    calendar = BusinessCalendar.current()
    midnight = dt.datetime.combine(shipment.expected_to + dt.timedelta(days=1), dt.time(0, 5), tzinfo=calendar.tz)
    with time_machine.travel(midnight, tick=False):
        assert parcels.is_late(shipment)
    with time_machine.travel(midnight - dt.timedelta(minutes=10), tick=False):
        assert not parcels.is_late(shipment)


def test_parcel_claims_read_in_a_fixed_number_of_queries_at_any_size():
    """The order page's parcel block: the cases and the shop's date, the same queries for 1 or 3 parcels
    (the parcels themselves come prefetched with the order page's order)."""
    from orders.models import Order as OrderModel
    from shipping.selectors import parcel_claims

    counts = []
    for parts in (1, 3):
        order = paid_by_transfer(lines=tuple(("100.00", 1) for _ in range(parts)))
        for line in order.lines.all():
            ship(order, {line.pk: 1})
        order = OrderModel.objects.prefetch_related("shipments").get(pk=order.pk)
        with CaptureQueriesContext(connection) as queries:
            claims = parcel_claims(order)
        assert len(claims) == parts
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 3
