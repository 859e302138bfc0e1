"""Helpers for the work queue, packing and digest tests (not a test module)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from zoneinfo import ZoneInfo

from orders import services
from orders.models import Order
from tests.orders.lifecycle_support import make_order
from tests.orders.test_invoice import pdf_text

__all__ = ["MSK", "msk", "paid_order", "pdf_pages", "pdf_text"]

MSK = ZoneInfo("Europe/Moscow")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def paid_order(paid_at: dt.datetime, *, method: str = "paypal", **kwargs) -> Order:
    """A prepaid order paid at ``paid_at`` through the real service: its ship-by comes from the calendar."""
    order = make_order(payment_method=method, **kwargs)
    services.order_mark_paid(order_id=order.pk, amount=order.total, paid_at=paid_at, method=method, reference="CAP")
    order.refresh_from_db()
    return order


def pdf_pages(content: bytes, tmp_path) -> int:
    assert shutil.which("pdfinfo"), "pdfinfo (poppler-utils) is needed to count the pages"
    path = tmp_path / "pages.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
