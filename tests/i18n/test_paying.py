"""Paying without surprises (issue #12): bank details with a GOST R 56042-2014 QR code, the amount the courier
collects, and the invoice with the seller's legal details, the VAT line, a cancelled stamp and whole SKUs."""

import base64
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse

from orders.invoice import invoice_pdf
from orders.notifications import order_acknowledgement_queue
from tests.orders.test_invoice import pdf_text
from tests.payments.payment_support import make_order

pytestmark = pytest.mark.django_db


def decode_qr(png: bytes, tmp_path) -> str:
    """The text of the QR code in ``png`` as Debian's zbarimg (zbar-tools) reads it."""
    assert shutil.which("zbarimg"), "zbarimg (Debian zbar-tools) is needed to read the QR code back"
    path = tmp_path / "qr.png"
    path.write_bytes(png)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(path)], check=True, capture_output=True)
    return out.stdout.decode("utf-8").strip()


def page_of(client, order) -> str:
    client.force_login(order.user)
    return client.get(reverse("orders:detail", kwargs={"number": order.number})).content.decode()


def test_bank_transfer_qr_on_the_order_page_decodes_to_the_gost_fields(client, policy, tmp_path):
    order = make_order(payment_method="bank_transfer", lines=((Decimal("6320.25"), 2),), delivery="350.00")
    page = page_of(client, order)
    data_uri = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)

    payload = decode_qr(base64.b64decode(data_uri), tmp_path)

    header, *pairs = payload.split("|")
    assert header == "ST00012"  # format ST, version 0001, UTF-8
    fields = dict(pair.split("=", 1) for pair in pairs)
    assert fields["Name"] == policy.bank_recipient == "ООО «Алатырь»"
    assert fields["PersonalAcc"] == policy.bank_account
    assert fields["BankName"] == policy.bank_name
    assert fields["BIC"] == policy.bank_bic
    assert fields["CorrespAcc"] == policy.bank_correspondent_account
    assert fields["PayeeINN"] == policy.seller_inn and fields["KPP"] == policy.seller_kpp
    assert fields["Sum"] == "1299050"  # 12,990.50 roubles in kopecks
    assert fields["Purpose"] == f"Payment for order {order.number}; VAT not charged"
    # The same details, readable, next to the code.
    for value in (policy.bank_account, policy.bank_bic, policy.bank_correspondent_account, fields["Purpose"]):
        assert value in page


def test_bank_transfer_details_and_purpose_in_the_acknowledgement_and_on_the_invoice(policy, tmp_path):
    order = make_order(payment_method="bank_transfer")
    email = order_acknowledgement_queue(order=order)
    pdf = pdf_text(invoice_pdf(order), tmp_path)
    purpose = f"Payment for order {order.number}; VAT not charged"
    for text in (email.body_text, email.body_html, pdf):
        assert purpose in text
        assert policy.bank_account in text and policy.bank_bic in text and policy.bank_recipient in text
    assert "Correspondent account: 30101810400000000225" in email.body_text


def test_the_purpose_and_qr_sum_name_the_vat_when_the_policy_sets_a_rate(client, policy, tmp_path):
    policy.vat_rate = Decimal("20")
    policy.save()
    order = make_order(payment_method="bank_transfer", lines=((Decimal("1000.00"), 1),), delivery="200.00")
    page = page_of(client, order)
    assert f"Payment for order {order.number}; incl. VAT 20% RUB 200.00" in page


def test_cash_on_delivery_page_and_email_say_what_the_courier_collects(client, policy):
    order = make_order(payment_method="cash_courier", status="processing")
    expected = "The courier will collect RUB 5,340.00 at the door"
    assert expected in page_of(client, order)
    assert expected in order_acknowledgement_queue(order=order).body_text


def test_prepaid_orders_show_no_bank_details_nor_courier_amount(client, policy):
    page = page_of(client, make_order(payment_method="paypal"))
    assert "Pay by bank transfer" not in page and "The courier will collect" not in page


# --- the invoice ---------------------------------------------------------------------------------
def test_invoice_carries_the_sellers_legal_details_and_the_vat_line(policy, tmp_path):
    order = make_order()
    text = pdf_text(invoice_pdf(order), tmp_path)
    assert policy.legal_name in text and "INN 7701234567" in text and "KPP 770101001" in text
    assert "OGRN 1207700123456" in text and "1 Optics street" in text
    assert "VAT not charged (simplified tax system, art. 346.11 of the Tax Code" in text

    policy.vat_rate = Decimal("22")
    policy.save()
    text = pdf_text(invoice_pdf(order), tmp_path)
    assert "VAT 22% included: RUB 962.95" in text  # 5,340.00 × 22 / 122


def test_invoice_of_a_cancelled_order_is_marked_cancelled(policy, tmp_path):
    from django.utils import timezone

    order = make_order(payment_method="bank_transfer", status="cancelled", cancelled_at=timezone.now())
    text = pdf_text(invoice_pdf(order), tmp_path)
    assert "CANCELLED" in text and "this invoice is not to be paid" in text
    assert "Pay by bank transfer" not in text  # nobody is asked to pay a cancelled order


def test_invoice_sku_does_not_break_mid_code(policy, tmp_path):
    order = make_order()
    line = order.lines.get()
    line.sku = "CEL-ASTROMASTER-130EQ-MD-BLK"
    line.save()
    text = pdf_text(invoice_pdf(order), tmp_path)
    assert "CEL-ASTROMASTER-130EQ-MD-BLK" in text


def test_policy_without_vat_rate_needs_a_reason(policy):
    from django.core.exceptions import ValidationError

    policy.vat_rate = None
    policy.vat_exempt_reason = " "
    with pytest.raises(ValidationError) as error:
        policy.full_clean()
    assert "vat_exempt_reason" in error.value.message_dict
