"""REF-SHORT-DELIVERY: the Act of Discrepancy (shipping/services/acts.py): drawn up, printed, signed scan stored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from orders.models import Order, OrderEvent
from shipping.models import ActOfDiscrepancy, RecipientKind
from shipping.services import acts, delivery
from shipping.services.acts import ActError, ActErrorCode
from shop.models import Email
from tests.e2e.pages import pdf_text
from tests.factories import UserFactory

from .support import make_order, ship

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def staff():
    return UserFactory(username="act-desk", is_staff=True)


def handed_over(staff, *, refused=None):
    order = make_order(status=Order.Status.PROCESSING, lines=(("1000.00", 3), ("500.00", 1)))
    shipment = ship(order)
    attempt = delivery.delivery_record_handover(
        shipment_id=shipment.pk, recipient_kind=RecipientKind.CUSTOMER, refused=refused or {}, actor=staff
    )
    return order, attempt


def test_ref_short_delivery_act_records_per_line_what_was_handed_over_and_emails_the_pdf(staff):
    """REF-SHORT-DELIVERY: 1 of 3 units missing: the act's lines, the order event, the e-mail with the PDF."""
    order, attempt = handed_over(staff)
    first, second = order.lines.all()

    act = acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 2}, place="Lenina 1, Moscow", actor=staff)

    rows = {row.order_line_id: (row.quantity_expected, row.quantity_handed_over) for row in act.lines.all()}
    assert rows == {first.pk: (3, 2), second.pk: (1, 1)}
    assert (act.order, act.shipment_id, act.created_by) == (order, attempt.shipment_id, staff)
    event = order.events.get(type=OrderEvent.Type.DISCREPANCY_ACT)
    assert event.parameters["missing"] == [{"line_id": first.pk, "product": first.product_name, "quantity": 1}]
    email = Email.objects.get(key=f"discrepancy-act:{act.pk}")
    assert email.to == order.email and act.number in email.body_text
    assert email.attachment_builder == acts.ACT_BUILDER
    name, content, mime = acts.act_attachment(email.attachment_ref)
    assert name == f"act-of-discrepancy-{act.number}.pdf" and mime == "application/pdf"
    assert act.number in pdf_text(content)


def test_ref_short_delivery_act_pdf_shows_ordered_vs_handed_over_date_place_and_signature_lines(staff):
    """REF-SHORT-DELIVERY: the printed act carries the order, the parcel, each line, the place and both signatures."""
    order, attempt = handed_over(staff)
    first = order.lines.first()
    act = acts.act_draw_up(
        attempt_id=attempt.pk, handed_over={first.pk: 1}, place="Pick-up point 7", note="Box torn", actor=staff
    )

    text = " ".join(pdf_text(acts.act_pdf(act)).split())

    assert f"Act of Discrepancy {act.number}" in text
    assert order.number in text and f"Parcel {act.shipment_id}" in text
    assert "Ordered In the parcel Handed over Missing" in text
    assert f"{first.product_name} {first.sku} 3 3 1 2" in text
    assert "Pick-up point 7" in text and "Box torn" in text
    assert "Recipient (name, signature)" in text and "Courier (name, signature)" in text


def test_ref_short_delivery_act_defaults_to_the_parcel_less_what_was_refused(staff):
    """The form starts from the handover: units refused at the door count as not handed over."""
    order, attempt = handed_over(staff, refused={})
    first, second = order.lines.all()
    place, handed = acts.act_defaults(attempt)
    assert handed == {first.pk: 3, second.pk: 1}
    assert order.city in place


def test_ref_short_delivery_act_refused_when_nothing_is_missing_or_quantity_out_of_range(staff):
    """Bad input changes nothing and says why, next to the field."""
    order, attempt = handed_over(staff)
    first = order.lines.first()

    with pytest.raises(ActError) as nothing:
        acts.act_draw_up(attempt_id=attempt.pk, handed_over={}, place="Door", actor=staff)
    with pytest.raises(ActError) as too_many:
        acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 4}, place="Door", actor=staff)
    with pytest.raises(ActError) as no_place:
        acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 1}, place=" ", actor=staff)

    assert nothing.value.code == ActErrorCode.NOTHING_MISSING
    assert (too_many.value.code, too_many.value.field) == (ActErrorCode.BAD_QUANTITY, f"handed_{first.pk}")
    assert (no_place.value.code, no_place.value.field) == (ActErrorCode.PLACE_MISSING, "place")
    assert not ActOfDiscrepancy.objects.exists()


def test_ref_short_delivery_one_act_per_handover(staff):
    """Pressing twice draws up one act and sends one e-mail."""
    order, attempt = handed_over(staff)
    first = order.lines.first()
    one = acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 2}, place="Door", actor=staff)
    two = acts.act_draw_up(attempt_id=attempt.pk, handed_over={first.pk: 0}, place="Door", actor=staff)
    assert one == two and ActOfDiscrepancy.objects.count() == 1
    assert Email.objects.filter(key__startswith="discrepancy-act:").count() == 1


def test_ref_short_delivery_signed_scan_is_stored_and_the_customer_told(staff, tmp_path):
    """The signed scan goes to the private storage; the customer is e-mailed it is on file."""
    order, attempt = handed_over(staff)
    act = acts.act_draw_up(attempt_id=attempt.pk, handed_over={order.lines.first().pk: 2}, place="Door", actor=staff)

    acts.act_attach_scan(act_id=act.pk, scan=SimpleUploadedFile("signed.PNG", PNG), actor=staff)

    act.refresh_from_db()
    assert act.scan.name == f"acts/{order.pk}/act-{act.pk}-signed.png"
    with act.scan.open("rb") as stored:
        assert stored.read() == PNG
    assert not (tmp_path / act.scan.name).exists()  # private storage, never under the public MEDIA_ROOT
    assert act.scan_uploaded_by == staff and act.scan_uploaded_at is not None
    assert Email.objects.filter(key=f"discrepancy-act-signed:{act.pk}", to=order.email).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("scan.exe", b"MZ", "PDF, PNG or JPEG"),
        ("scan.pdf", PNG, "not a PDF file"),
        ("scan.jpg", b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), "larger than 10 MB"),
    ],
)
def test_ref_short_delivery_scan_type_and_size_are_checked(staff, name, content, message):
    """Only a PDF, PNG or JPEG (by content) of at most 10 MB; a refused file stores nothing."""
    order, attempt = handed_over(staff)
    act = acts.act_draw_up(attempt_id=attempt.pk, handed_over={order.lines.first().pk: 2}, place="Door", actor=staff)
    with pytest.raises(ActError) as refused:
        acts.act_attach_scan(act_id=act.pk, scan=SimpleUploadedFile(name, content), actor=staff)
    assert refused.value.field == "scan" and message in str(refused.value)
    act.refresh_from_db()
    assert not act.scan
