"""Issue #10, problem 7: registration answers the same whether or not an account exists; the e-mail
tells the address's owner."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _register(client, username, email):
    return client.post(
        reverse("register"),
        {"username": username, "email": email, "password1": "Opt1cs-and-stars", "password2": "Opt1cs-and-stars"},
        follow=True,
    )


def _answer(response) -> tuple:
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, response.redirect_chain, page


def test_security_registration_does_not_tell_who_has_an_account(client):
    UserFactory(username="taken", email="taken@example.com")

    fresh = _register(client, "anna", "anna@example.com")
    same_email = _register(client, "someone", "TAKEN@example.com")
    same_username = _register(client, "taken", "new@example.com")

    assert _answer(fresh) == _answer(same_email) == _answer(same_username)
    page = fresh.content.decode()
    assert "Check your e-mail" in page
    assert "already exists" not in page
    assert get_user_model().objects.filter(username="someone").count() == 0
    to = {tuple(m.to): m.body for m in mail.outbox}
    assert "You already have an account" in to[("TAKEN@example.com",)]
    assert 'the username "taken". That username is taken' in to[("new@example.com",)]
    assert "/accounts/activate/" in to[("anna@example.com",)]


def test_security_activation_link_works_once_and_a_forged_one_does_not(client):
    _register(client, "anna", "anna@example.com")
    link = re.search(r"http://testserver(/accounts/activate/\S+/)", mail.outbox[-1].body).group(1)
    assert not get_user_model().objects.get(username="anna").is_active

    assert client.get(link.rsplit("/", 2)[0] + "/forged-token/").status_code == 400
    assert client.get(link).status_code == 302
    assert get_user_model().objects.get(username="anna").is_active
    client.logout()
    assert client.get(link).status_code == 400  # logging in changed what the token covers
