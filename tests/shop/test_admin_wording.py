"""The admin in a shop manager's words: no rule IDs in action labels, filters or section titles
(they stay in code, tests and help texts), staff wording for holds, and regions outside the delivery
territory not offered where a region is chosen (ORD-TERRITORY)."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from orders.models import HoldKind
from tests.factories import DeliveryMethodFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

RULE_ID = re.compile(r"\b(ORD|PAY|SHIP|DLV|REF)-[A-Z0-9-]+")


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="manager", is_staff=True, is_superuser=True))
    return client


def _labels(model_admin) -> list[str]:
    labels = [str(getattr(func, "short_description", "")) for func, _, _ in model_admin._get_base_actions()]
    for inline in model_admin.inlines:
        opts = inline.model._meta
        labels += [str(inline.verbose_name_plural or opts.verbose_name_plural), str(opts.verbose_name)]
    for name in model_admin.list_display:
        func = getattr(model_admin, name, None) if isinstance(name, str) else name
        labels.append(str(getattr(func, "short_description", "")))
    return labels


def test_no_rule_ids_in_admin_action_labels_columns_or_sections():
    offending = [
        f"{model.__name__}: {label}"
        for model, model_admin in admin.site._registry.items()
        for label in _labels(model_admin)
        if RULE_ID.search(label)
    ]
    assert offending == []


def test_hold_filter_speaks_to_staff_not_to_the_customer(staff_client):
    page = staff_client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "Customer to confirm a corrected price" in page
    assert "Card payment to check" in page
    assert HoldKind.PRICE_CONFIRMATION.label not in page  # "Waiting for your answer …" is the customer's page


def test_ord_territory_delivery_rate_region_offers_only_the_territory(staff_client):
    RegionFactory(name="Moscow", code="MOW")
    RegionFactory(name="Atlantis", code="ATL", in_territory=False)
    DeliveryMethodFactory()

    add_page = staff_client.get(reverse("admin:shop_deliveryrate_add")).content.decode()
    search = staff_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "shop", "model_name": "deliveryrate", "field_name": "region", "term": ""},
    ).json()

    assert ">Moscow</option>" in add_page
    assert "Atlantis" not in add_page
    assert [row["text"] for row in search["results"]] == ["Moscow"]
