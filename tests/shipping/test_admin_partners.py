"""SHIP-SUBCONTRACTOR in the admin: every try on the order's page, the notice list, "send again now",
the partner form's HTTPS rule, and the demo's default partner."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse

from shipping.models import FulfilmentPartner, PartnerNotice
from tests.factories import UserFactory
from tests.orders.checkout_support import make_catalogue

from .partner_support import binocular, confirm_cod

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager_retries")]


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def _orders(cat, product, n: int, capture, *, run: bool = True):
    with capture(execute=run):
        return [confirm_cod(cat, product, quantity=1) for _ in range(n)]


def test_ship_subcontractor_order_page_shows_every_try_of_the_partner_notice(
    staff_client, fulfilment_partner, partner_server, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """SHIP-SUBCONTRACTOR: staff see on the order each POST, its answer and how long it took."""
    cat, product = make_catalogue(), binocular()
    partner_server.fail_next(2, status=503)
    [order] = _orders(cat, product, 1, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(40):
        page = staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = page.content.decode()
    assert "Fulfilment partner notices" in html and "(SHIP-SUBCONTRACTOR)" not in html
    assert html.count("HTTP 503") == 2 and "<td>202</td>" in html
    assert "Delivered (partner answered 2xx)" in html
    assert "Sent to the fulfilment partner Courier Partner LLC (e-mail and endpoint)." in html
    assert "Fulfilment partner Courier Partner LLC confirmed receipt (HTTP 202, attempt 3)." in html

    # A partner that keeps failing: nine tries on the page, still pending, and no query per try.
    partner_server.fail_next(30)
    [failing] = _orders(cat, product, 1, django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(40):
        page = staff_client.get(reverse("admin:orders_order_change", args=[failing.pk]))
    html = page.content.decode()
    assert html.count("HTTP 500") == 9 and "Not answered yet" in html


def test_ship_subcontractor_notice_list_filters_by_status_with_a_fixed_number_of_queries(
    staff_client, fulfilment_partner, partner_server, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    """SHIP-SUBCONTRACTOR: the notice list (filter by status) costs the same queries for 2 or 12 notices."""
    cat, product = make_catalogue(), binocular(stock=100)
    url = reverse("admin:shipping_partnernotice_changelist")
    delivered = _orders(cat, product, 1, django_capture_on_commit_callbacks)
    pending = _orders(cat, product, 1, django_capture_on_commit_callbacks, run=False)
    with django_assert_max_num_queries(12):
        page = staff_client.get(url, {"status__exact": "pending"})
    html = page.content.decode()
    assert pending[0].number in html and delivered[0].number not in html
    _orders(cat, product, 10, django_capture_on_commit_callbacks, run=False)
    with django_assert_max_num_queries(12):
        page = staff_client.get(url)
    assert page.content.decode().count("Not answered yet") >= 11
    detail = staff_client.get(reverse("admin:shipping_partnernotice_change", args=[PartnerNotice.objects.last().pk]))
    assert detail.status_code == 200 and "idempotency_key" in detail.content.decode()


def test_ship_subcontractor_send_again_now_action_sends_pending_and_never_resends_delivered(
    staff_client, fulfilment_partner, partner_server, django_capture_on_commit_callbacks
):
    """SHIP-SUBCONTRACTOR: "Send again now" tries a pending notice at once; a delivered one is left alone."""
    cat, product = make_catalogue(), binocular()
    _orders(cat, product, 1, django_capture_on_commit_callbacks)
    _orders(cat, product, 1, django_capture_on_commit_callbacks, run=False)
    assert len(partner_server.received) == 1
    ids = [str(pk) for pk in PartnerNotice.objects.values_list("pk", flat=True)]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:shipping_partnernotice_changelist"),
            {"action": "send_again_now", ACTION_CHECKBOX_NAME: ids},
            follow=True,
        )
    html = response.content.decode()
    assert "1 notice queued to be sent now." in html
    assert "1 notice already delivered: a delivered notice is never sent again." in html
    assert set(PartnerNotice.objects.values_list("status", flat=True)) == {PartnerNotice.Status.DELIVERED}
    assert len(partner_server.received) == 2 and len(partner_server.processed) == 2


def test_ship_subcontractor_partner_form_refuses_plain_http_next_to_the_field(staff_client, settings):
    """SHIP-SUBCONTRACTOR: staff entering an http:// endpoint get the message next to it; nothing is saved."""
    settings.SHIP_PARTNER_ALLOW_HTTP = False
    data = {"name": "Partner", "email": "p@example.com", "endpoint": "http://partner.example/", "secret": "s"}
    data |= {"is_default": "on", "is_active": "on"}
    page = staff_client.post(reverse("admin:shipping_fulfilmentpartner_add"), data)
    assert page.status_code == 200
    assert "Enter an HTTPS address (https://…)." in page.content.decode()
    assert not FulfilmentPartner.objects.exists()
    data["endpoint"] = "https://partner.example/"
    assert staff_client.post(reverse("admin:shipping_fulfilmentpartner_add"), data).status_code == 302
    assert FulfilmentPartner.objects.get().endpoint == "https://partner.example/"


def test_ship_subcontractor_demo_has_a_default_partner_loaded_idempotently(settings):
    """SHIP-SUBCONTRACTOR: ``load_demo`` gives the demo shop a default partner, once, and never takes the
    default from a partner staff chose."""
    settings.DEBUG = True  # load_demo is a development tool (pytest-django runs with DEBUG off)
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    [demo] = FulfilmentPartner.objects.all()
    assert demo.is_default and demo.is_active and demo.email == "fulfilment-partner@example.com"

    FulfilmentPartner.objects.filter(pk=demo.pk).update(is_default=False, is_active=False)
    real = FulfilmentPartner.objects.create(name="Real partner", email="real@example.com", is_default=True)
    call_command("load_demo", stdout=StringIO())
    assert list(FulfilmentPartner.objects.filter(is_default=True)) == [real]
    assert FulfilmentPartner.objects.count() == 2
