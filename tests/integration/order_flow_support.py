"""Helpers for ``test_order_flow_processes.py`` (not a test module).

A customer's web checkout through Django's test client, the worker's mail output parsed as MIME,
the text of a PDF as ``pdftotext`` reads it, and the results a worker logged for one task.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from djmoney.money import Money

from orders.models import Order
from shop.models import Product
from tests.factories import ProductFactory
from tests.orders.checkout_support import Catalogue, contact_data, review_token

#: What Django's file e-mail backend writes after every message.
_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def binocular() -> Product:
    return ProductFactory(name="Binocular 10x50", price=Money(Decimal("4990.00"), "RUB"), stock=20)


def web_checkout(client, *, cat: Catalogue, product: Product, quantity: int = 1, email_address: str) -> Order:
    """A guest puts ``product`` in the cart and walks every checkout step as a browser would:
    contact → delivery (air mail) → payment "Cash to the courier" → review → "Confirm order"."""
    response = client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": quantity})
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(reverse("shop:cart")).content.decode()
    assert product.name in page

    response = client.post(reverse("checkout:start"), contact_data(cat.moscow, email=email_address))
    assert response.status_code == 302 and response["Location"] == reverse("checkout:delivery"), response
    response = client.post(reverse("checkout:delivery"), {"delivery_method": str(cat.airmail.pk)})
    assert response.status_code == 302 and response["Location"] == reverse("checkout:payment"), response
    page = client.get(reverse("checkout:payment")).content.decode()
    assert "Cash to the courier" in page
    response = client.post(reverse("checkout:payment"), {"payment_method": "cash_courier"})
    assert response.status_code == 302 and response["Location"] == reverse("checkout:review"), response
    review = client.get(reverse("checkout:review"))
    assert review.status_code == 200
    assert "Confirm order" in review.content.decode() and product.name in review.content.decode()

    response = client.post(reverse("checkout:confirm"), {"token": review_token(review)})
    assert response.status_code == 302, response.content.decode()[:2000]
    order = Order.objects.get(email=email_address)
    assert response["Location"] == reverse("orders:placed", kwargs={"number": order.number})
    return order


def parsed_messages(mail_dir: Path) -> list[EmailMessage]:
    """Every message the worker's file backend wrote (a file per connection), as MIME objects."""
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(_SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


def messages_with_subject(mail_dir: Path, text: str) -> list[EmailMessage]:
    return [message for message in parsed_messages(mail_dir) if text in str(message["Subject"])]


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def pdf_attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename() or "", part.get_content())
        for part in message.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """The PDF's text as pdftotext (poppler-utils) reads it."""
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed to read the invoice"
    path = tmp_path / "attachment.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def task_results(worker_log: str, task: str) -> list[str]:
    """The return values a worker logged for ``task``, in the order it ran them
    ("Task <name>[<id>] succeeded in 0.01s: <result>")."""
    pattern = re.compile(rf"Task {re.escape(task)}\[[0-9a-f-]+\] succeeded in [0-9.e-]+s: (.*)$", re.MULTILINE)
    return [match.group(1).strip() for match in pattern.finditer(worker_log)]


def every_second(*, name: str, task: str) -> PeriodicTask:
    """A beat entry (DatabaseScheduler) running ``task`` every second, so a test need not wait for
    the production crontab in ``config/celery.py``."""
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(name=name, task=task, interval=interval)
