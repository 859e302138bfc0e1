"""Accounts: register, log in, log out, password reset by e-mail, the account page."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def logged_in_username(client) -> str | None:
    user = client.get(reverse("shop:product_list")).context["user"]
    return user.username if user.is_authenticated else None


def activation_path(message) -> str:
    return re.search(r"http://testserver(/accounts/activate/\S+/)", message.body).group(1)


def test_register_creates_the_account_and_logs_in(client):
    sent = client.post(
        reverse("register"),
        {
            "username": "anna",
            "email": "anna@example.com",
            "password1": "Opt1cs-and-stars",
            "password2": "Opt1cs-and-stars",
        },
        follow=True,
    )
    assert "Check your e-mail" in sent.content.decode()
    assert logged_in_username(client) is None
    [message] = mail.outbox
    assert message.to == ["anna@example.com"]

    response = client.get(activation_path(message), follow=True)

    assert response.redirect_chain[-1][0] == reverse("account")
    page = response.content.decode()
    assert "Welcome, anna! Your account is ready." in page
    assert "anna@example.com" in page
    assert get_user_model().objects.get(username="anna").email == "anna@example.com"
    assert logged_in_username(client) == "anna"


def test_register_keeps_the_cart(client):
    product = ProductFactory(name="Sturman 8x42")
    client.post(reverse("shop:cart_add"), {"product_id": product.pk, "quantity": "2"})

    client.post(
        reverse("register"),
        {
            "username": "anna",
            "email": "anna@example.com",
            "password1": "Opt1cs-and-stars",
            "password2": "Opt1cs-and-stars",
        },
    )
    client.get(activation_path(mail.outbox[-1]))

    assert '<span class="cart-count">2 items</span>' in client.get(reverse("shop:cart")).content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
        ({"password2": "something-else-1"}, "password2", "The two password fields didn’t match."),
        ({"password1": "12345678", "password2": "12345678"}, "password2", "This password is too common."),
    ],
)
def test_register_refuses_bad_input_next_to_the_field(client, data, field, message):
    UserFactory(username="taken", email="taken@example.com")
    form = {"username": "anna", "email": "anna@example.com", "password1": "Opt1cs-and-stars"}
    form["password2"] = form["password1"]
    form.update(data)

    response = client.post(reverse("register"), form)

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    page = response.content.decode()
    assert f'id="id_{field}_errors"' in page
    assert get_user_model().objects.filter(username="anna").count() == 0
    assert logged_in_username(client) is None


def test_login_and_logout(client):
    UserFactory(username="anna")

    response = client.post(reverse("login"), {"username": "anna", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("account")
    assert logged_in_username(client) == "anna"

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert logged_in_username(client) is None


def test_login_with_wrong_password_says_so(client):
    UserFactory(username="anna")

    response = client.post(reverse("login"), {"username": "anna", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert logged_in_username(client) is None


def test_logout_needs_post(client):
    UserFactory(username="anna")
    client.post(reverse("login"), {"username": "anna", "password": PASSWORD})

    assert client.get(reverse("logout")).status_code == 405
    assert logged_in_username(client) == "anna"


def test_account_page_needs_login(client):
    response = client.get(reverse("account"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_account_page_shows_the_users_details(client):
    user = UserFactory(username="anna", email="anna@example.com", first_name="Anna", last_name="Petrova")
    client.force_login(user)

    page = client.get(reverse("account")).content.decode()

    assert "anna@example.com" in page
    assert "Anna Petrova" in page
    assert "<h1>My account</h1>" in page
    assert f'<a href="{reverse("orders:list")}">My orders</a>' in page


def test_password_reset_sends_an_email_with_a_working_link(client):
    UserFactory(username="anna", email="anna@example.com")

    response = client.post(reverse("password_reset"), {"email": "anna@example.com"}, follow=True)

    assert "Check your e-mail" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.com"]
    assert message.subject == "Reset your password at Rusoptics"
    link = re.search(r"http://testserver(/accounts/password-reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "New-st4rs-tonight", "new_password2": "New-st4rs-tonight"},
        follow=True,
    )
    assert "Your new password is set." in done.content.decode()
    assert client.login(request=HttpRequest(), username="anna", password="New-st4rs-tonight")


def test_password_reset_for_unknown_email_sends_nothing_and_reveals_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"}, follow=True)

    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []
