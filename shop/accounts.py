"""Customer accounts: the write side (views validate with forms and call these).

Registration never tells who has an account (issue #10): every valid form gets the same answer,
"check your e-mail", and the e-mail tells the address's owner what happened: a link to activate the
new account, or that they already have one, or that the username was taken. These messages carry a
credential (the activation link), so like password resets they are sent directly, not kept in the
outbox the admin shows.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from .models import Policy


def _send(to: str, template: str, context: dict) -> None:
    context = {"shop_name": Policy.load().shop_name, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"registration/{template}_subject.txt", context).split())
    send_mail(subject, render_to_string(f"registration/{template}_email.txt", context), None, [to])


def activation_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)  # expires after PASSWORD_RESET_TIMEOUT; used once
    return settings.SITE_URL + reverse("activate", kwargs={"uidb64": uid, "token": token})


def customer_register(*, username: str, email: str, password: str) -> None:
    """A registration request with a valid form: the account is created inactive and its owner
    e-mailed an activation link; an existing username or e-mail creates nothing and tells the owner."""
    email = email.strip()
    users = get_user_model().objects
    by_email = users.filter(email__iexact=email).first()
    if by_email is not None:
        make_password(password)  # the same work as creating an account: the timing tells nothing either
        if by_email.is_active:
            _send(email, "account_exists", {"user": by_email})
        else:
            _send(email, "activate", {"user": by_email, "link": activation_link(by_email)})
        return
    if users.filter(username__iexact=username).exists():
        make_password(password)
        _send(email, "username_taken", {"username": username})
        return
    try:
        with transaction.atomic():
            user = users.create_user(username=username, email=email, password=password, is_active=False)
    except IntegrityError:  # the same username registered a moment ago
        _send(email, "username_taken", {"username": username})
        return
    _send(email, "activate", {"user": user, "link": activation_link(user)})


def customer_activate(*, uidb64: str, token: str):
    """The user whose activation link this is, now active; None for a wrong or expired link."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = get_user_model().objects.filter(pk=pk).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user
