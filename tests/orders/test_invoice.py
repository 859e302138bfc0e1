"""ORD-ACK: the PDF invoice (WeasyPrint) carries the order's details; Cyrillic renders."""

import shutil
import subprocess

import pytest

from orders.invoice import invoice_pdf
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes, tmp_path) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it."""
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed to read the invoice"
    path = tmp_path / "invoice.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_ord_ack_invoice_pdf_has_number_cyrillic_name_lines_and_total(tmp_path, policy):
    order = make_order(full_name="Анна Сергеевна Петрова", lines=[("4990.00", 2), ("1250.50", 1)])
    content = invoice_pdf(order)
    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    assert f"Invoice {order.number}" in text
    assert "Анна Сергеевна Петрова" in text
    assert "Бинокль 1 10x42" in text and "Бинокль 2 10x42" in text
    assert "RUB 11,580.50" in text  # 2 × 4990 + 1250.50 + 350 delivery
    assert policy.legal_name in text
    assert policy.shop_email in text
