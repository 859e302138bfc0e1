"""The customer's and staff's pages of parcel claims: DLV-LATE, DLV-LOST, REF-SHORT-DELIVERY (acts)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.access import order_link
from refunds.models import Case, CaseKind, CaseRemedy, CaseStatus
from refunds.services import case_open
from shipping.models import ActOfDiscrepancy, RecipientKind, Shipment
from shipping.services import delivery, parcels
from shop.models import Email
from tests.e2e.pages import pdf_text
from tests.factories import UserFactory

from .support import paid_by_transfer, ship

pytestmark = pytest.mark.django_db
MSK = dt.timezone(dt.timedelta(hours=3))
PDF = b"%PDF-1.4\n" + b"0" * 100


def _staff(*perms):
    user = UserFactory(username="claims-staff", is_staff=True)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


@pytest.fixture
def desk(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(
        _staff(
            "orders.view_order",
            "shipping.view_deliveryattempt",
            "shipping.add_deliveryattempt",
            "refunds.view_case",
            "refunds.change_case",
        )
    )
    return client


def _shipped():
    order = paid_by_transfer(lines=(("1000.00", 2),))
    return order, ship(order, shipped_at=dt.datetime(2026, 6, 1, 10, tzinfo=MSK))


def test_dlv_late_order_page_offers_the_report_only_after_the_window_and_opens_the_case(client):
    """DLV-LATE: the button appears the day after the window; pressing it opens the investigation."""
    order, shipment = _shipped()
    url = order_link(order, absolute=False)  # the signed link from the e-mails
    with time_machine.travel(dt.datetime.combine(shipment.expected_to, dt.time(20), tzinfo=MSK), tick=False):
        assert "My parcel has not arrived" not in client.get(url).content.decode()
    later = dt.datetime.combine(shipment.expected_to + dt.timedelta(days=1), dt.time(9), tzinfo=MSK)
    with time_machine.travel(later, tick=False):
        page = client.get(url).content.decode()
        assert "My parcel has not arrived" in page
        response = client.post(reverse("shipping:parcel_report_late", args=[order.number, shipment.pk]), follow=True)
    case = Case.objects.get(kind=CaseKind.LATE_PARCEL)
    page = response.content.decode()
    assert f"we are looking for your parcel (case {case.pk})" in page
    assert "My parcel has not arrived" not in page and "We are looking for this parcel" in page


def test_dlv_late_report_needs_the_order_s_owner_or_link(client):
    """Someone without the link gets 404 and nothing opens."""
    order, shipment = _shipped()
    with time_machine.travel(dt.datetime.combine(shipment.expected_to + dt.timedelta(days=2), dt.time(9), tzinfo=MSK)):
        response = client.post(reverse("shipping:parcel_report_late", args=[order.number, shipment.pk]))
    assert response.status_code == 404 and not Case.objects.exists()


def test_dlv_lost_customer_chooses_a_refund_from_the_signed_link(client):
    """DLV-LOST: the e-mailed link opens the choice; an empty choice is refused next to the field."""
    order, shipment = _shipped()
    case = parcels.parcel_confirm_lost(shipment_id=shipment.pk, reference="RP-1", actor=None)
    url = order_link(order, absolute=False, view="shipping:parcel_lost_choice")
    page = client.get(url).content.decode()
    assert "Send the goods again at no charge" in page and "Refund the goods and the delivery" in page
    empty = client.post(url, {"case": case.pk})
    assert "Choose a replacement or a refund." in empty.content.decode()
    done = client.post(url, {"case": case.pk, "remedy": CaseRemedy.REFUND}, follow=True)
    case.refresh_from_db()
    assert (case.status, case.remedy) == (CaseStatus.RESOLVED, CaseRemedy.REFUND)
    assert "Your choice: refund the goods and the delivery" in done.content.decode()


def test_ref_short_delivery_staff_draw_up_the_act_print_it_and_upload_the_signed_scan(desk):
    """REF-SHORT-DELIVERY in the admin: the handover's link, the act form (bad input next to the field), the PDF,
    the scan (type checked), and the file served to staff."""
    order, shipment = _shipped()
    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=None
    )
    line = order.lines.get()
    change = desk.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    draw_up = reverse("admin:shipping_actofdiscrepancy_draw_up", args=[attempt.pk])
    assert draw_up in change

    bad = desk.post(draw_up, {"place": "Door", f"handed_{line.pk}": 2})
    assert "Every unit was handed over" in bad.content.decode() and not ActOfDiscrepancy.objects.exists()
    desk.post(draw_up, {"place": "Door, Lenina 1", f"handed_{line.pk}": 1, "note": "One box empty"})
    act = ActOfDiscrepancy.objects.get()
    pdf = desk.get(reverse("admin:shipping_actofdiscrepancy_pdf", args=[act.pk]))
    assert pdf["Content-Type"] == "application/pdf" and "One box empty" in pdf_text(pdf.content)

    scan_url = reverse("admin:shipping_actofdiscrepancy_scan", args=[act.pk])
    wrong = desk.post(scan_url, {"scan": SimpleUploadedFile("scan.pdf", b"not a pdf")})
    assert "This file is not a PDF file." in wrong.content.decode()
    desk.post(scan_url, {"scan": SimpleUploadedFile("scan.pdf", PDF)})
    act.refresh_from_db()
    assert act.scan
    served = desk.get(reverse("admin:shipping_actofdiscrepancy_scan_file", args=[act.pk]))
    assert b"".join(served.streaming_content) == PDF


def test_ref_short_delivery_claim_without_an_act_is_flagged_and_declined_from_the_admin(desk):
    """REF-SHORT-DELIVERY: the list marks the claim with no act; the action declines it and e-mails the customer."""
    order, shipment = _shipped()
    delivery.delivery_record_handover(shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, actor=None)
    claim = case_open(order_id=order.pk, kind=CaseKind.SHORT_DELIVERY, lines={order.lines.get().pk: 1})
    changelist = reverse("admin:shipping_shortdeliveryclaim_changelist")
    assert "no act: may be declined" in desk.get(changelist).content.decode()

    desk.post(changelist, {"action": "decline_without_act", "_selected_action": [claim.pk]})

    claim.refresh_from_db()
    assert claim.status == CaseStatus.DECLINED and claim.decline_reason == parcels.NO_ACT_REASON
    assert Email.objects.filter(key=f"case-declined:{claim.pk}", to=order.email).exists()


def test_dlv_lost_and_late_staff_record_the_loss_and_close_the_case_in_the_admin(desk):
    """DLV-LOST: the carrier's confirmation (required); then staff record the customer's choice (replacement)."""
    order, shipment = _shipped()
    lost_url = reverse("admin:shipping_shipment_lost", args=[shipment.pk])
    assert lost_url in desk.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "This field is required." in desk.post(lost_url, {"reference": ""}).content.decode()
    desk.post(lost_url, {"reference": "Claim 12"})
    case = Case.objects.get(kind=CaseKind.LOST_PARCEL)
    settle = reverse("admin:shipping_shipment_settle", args=[case.pk])
    assert settle in desk.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    desk.post(settle, {"remedy": CaseRemedy.REPLACEMENT})

    case.refresh_from_db()
    shipment.refresh_from_db()
    assert (case.status, case.remedy) == (CaseStatus.RESOLVED, CaseRemedy.REPLACEMENT)
    assert shipment.status == Shipment.Status.LOST and shipment.reship_requested_at is not None
