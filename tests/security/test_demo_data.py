"""Issue #10, problem 4: a production install (DEBUG=false) ships no known superuser."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _admin_login(client, username, password):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password, "next": reverse("admin:index")}
    )


def test_security_load_demo_refuses_production_and_the_demo_staff_login_fails(client, settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="Refusing to load demo data with DEBUG=false"):
        call_command("load_demo")

    assert not get_user_model().objects.exists()
    response = _admin_login(client, "staff", "staff-demo-2026")
    assert response.status_code == 200  # the login form again, with its error
    assert "_auth_user_id" not in client.session


def test_security_load_demo_forced_in_production_needs_a_password(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="needs --staff-password"):
        call_command("load_demo", force=True)
    assert not get_user_model().objects.exists()


def test_security_load_demo_forced_with_a_password_uses_it_and_creates_no_demo_customer(client, settings):
    settings.DEBUG = False
    call_command("load_demo", force=True, staff_password="a-long-chosen-passphrase-42", stdout=None)

    assert _admin_login(client, "staff", "staff-demo-2026").status_code == 200
    assert "_auth_user_id" not in client.session
    assert _admin_login(client, "staff", "a-long-chosen-passphrase-42").status_code == 302
    assert not get_user_model().objects.filter(username="customer").exists()
