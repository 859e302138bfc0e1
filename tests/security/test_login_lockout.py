"""Issue #10, problem 3: password guessing on both login pages is locked out (django-axes)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = [reverse("login"), reverse("admin:login")]


@pytest.fixture
def people():
    customer = UserFactory(username="anna")
    customer.set_password("right-Password-1")
    customer.save()
    staff = UserFactory(username="boss", is_staff=True, is_superuser=True)
    staff.set_password("right-Password-1")
    staff.save()
    return customer, staff


def _login(client, url, username, password, address="203.0.113.5"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("url", PAGES, ids=["shop-login", "admin-login"])
def test_security_password_guessing_is_locked_out_then_the_right_password_is_refused(client, people, settings, url):
    username = "boss" if "admin" in url else "anna"
    limit = settings.AXES_FAILURE_LIMIT
    answers = [_login(client, url, username, f"guess-{n}").status_code for n in range(limit)]
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error

    locked = _login(client, url, username, "right-Password-1")

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Per username and address: the owner elsewhere still gets in.
    elsewhere = Client()
    assert _login(elsewhere, url, username, "right-Password-1", address="198.51.100.20").status_code == 302


def test_security_staff_unlock_a_locked_out_customer_in_the_admin(client, people, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, reverse("login"), "anna", f"guess-{n}")
    attempt = AccessAttempt.objects.get(username="anna")
    admin = Client()
    admin.force_login(people[1])
    changelist = admin.get(reverse("admin:axes_accessattempt_changelist"))
    assert "anna" in changelist.content.decode()

    admin.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert not AccessAttempt.objects.exists()
    assert _login(client, reverse("login"), "anna", "right-Password-1").status_code == 302
