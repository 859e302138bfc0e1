"""Issue #12: the admin is used by Russian staff: models, fields, help texts, actions and filters are
translated, and every model of the shop's apps has a translatable name (no English label left behind)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise

from tests.factories import UserFactory
from tests.orders.lifecycle_support import make_order

pytestmark = pytest.mark.django_db
SHOP_APPS = ("shop", "orders", "payments", "shipping", "refunds")


@pytest.fixture
def russian_staff(client):
    client.force_login(UserFactory(username="menedzher", is_staff=True, is_superuser=True))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    return client


def test_every_model_and_field_label_of_the_shop_is_translatable_and_translated():
    """Each model's names and each field's verbose name / help text is a lazy gettext string with a
    Russian translation (the .po has it): none would show in English on a Russian admin page."""
    untranslated = []
    for app in SHOP_APPS:
        for model in apps.get_app_config(app).get_models():
            opts = model._meta
            labels = [opts.original_attrs["verbose_name"], opts.original_attrs["verbose_name_plural"]]
            for field in opts.get_fields(include_parents=False):
                if field.auto_created or not field.concrete or field.name.endswith(("_en", "_ru", "_currency")):
                    continue  # ids, reverse relations, modeltranslation's copies, djmoney's currency columns
                labels.append(field.verbose_name)
                if field.help_text:
                    labels.append(field.help_text)
            for label in labels:
                english = str(label)
                with translation.override("ru"):
                    russian = str(label)
                if not isinstance(label, Promise) or russian == english:
                    untranslated.append(f"{app}.{model.__name__}: {english}")
    assert untranslated == []


def test_the_policy_page_speaks_russian(russian_staff):
    page = russian_staff.get(reverse("admin:shop_policy_changelist"), follow=True).content.decode()
    assert "Настройки магазина" in page and "Название магазина" in page
    assert "Показывается в заголовках страниц, письмах и счетах." in page
    assert "Shown in page titles, e-mails and invoices." not in page and "Shop name" not in page


def test_the_orders_admin_actions_filters_and_columns_speak_russian(russian_staff):
    make_order(status="processing", payment_method="cash_courier")
    page = russian_staff.get(reverse("admin:orders_order_changelist")).content.decode()
    assert "Заказы" in page and "Отменить заказ…" in page and "Отметить неверную цену…" in page
    assert "на удержании" in page.lower() or "На удержании" in page
    assert "Cancel order…" not in page and "Mark a wrong price…" not in page
    assert "Администрирование магазина" in page


def test_the_admin_index_names_the_sections_in_russian(russian_staff):
    page = russian_staff.get(reverse("admin:index")).content.decode()
    for section in ("Заказы", "Оплаты и возвраты", "Обращения и возвраты", "Исполнение заказов"):
        assert section in page, section
    assert "Payments and refunds" not in page and "Fulfilment" not in page


def test_no_admin_action_is_left_without_a_translation():
    with translation.override("ru"):
        english_actions = [
            f"{model.__name__}: {func.short_description}"
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in SHOP_APPS
            for func, _name, _desc in model_admin._get_base_actions()
            if getattr(func, "short_description", "") and str(func.short_description).isascii()
        ]
    assert english_actions == []
