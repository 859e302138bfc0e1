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

from .models import Address, CustomerProfile, Policy


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


# --- profile and address book --------------------------------------------------------------------
def profile_update(*, user, first_name: str, last_name: str, phone) -> None:
    """The customer's name (Django's user) and phone (their profile), in one transaction."""
    with transaction.atomic():
        user.first_name, user.last_name = first_name, last_name
        user.save(update_fields=["first_name", "last_name"])
        CustomerProfile.objects.update_or_create(user=user, defaults={"phone": phone or ""})


def _user_addresses(user):
    # Lock the customer's addresses (pk order) so two tabs cannot leave two defaults or none.
    return list(Address.objects.select_for_update().filter(user=user).order_by("pk"))


def address_save(*, user, data: dict, address_id: int | None = None, make_default: bool = False) -> Address:
    """Add (``address_id`` None) or change one of the customer's addresses; the first one is the default."""
    with transaction.atomic():
        addresses = _user_addresses(user)
        if address_id is None:
            address = Address(user=user)
        else:
            address = next((a for a in addresses if a.pk == address_id), None)
            if address is None:
                raise Address.DoesNotExist("No such address in this account.")
        for name, value in data.items():
            setattr(address, name, value)
        becomes_default = make_default or not any(a.is_default for a in addresses if a.pk != address.pk)
        if becomes_default:
            Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
        address.is_default = address.is_default or becomes_default
        address.save()
        return address


def address_make_default(*, user, address_id: int) -> Address:
    with transaction.atomic():
        addresses = _user_addresses(user)
        address = next((a for a in addresses if a.pk == address_id), None)
        if address is None:
            raise Address.DoesNotExist("No such address in this account.")
        Address.objects.filter(user=user, is_default=True).exclude(pk=address.pk).update(is_default=False)
        address.is_default = True
        address.save(update_fields=["is_default"])
        return address


def address_delete(*, user, address_id: int) -> None:
    """Remove one address; if it was the default, the oldest remaining one becomes the default."""
    with transaction.atomic():
        addresses = _user_addresses(user)
        address = next((a for a in addresses if a.pk == address_id), None)
        if address is None:
            raise Address.DoesNotExist("No such address in this account.")
        address.delete()
        rest = [a for a in addresses if a.pk != address_id]
        if address.is_default and rest:
            rest[0].is_default = True
            rest[0].save(update_fields=["is_default"])


def default_address(user) -> Address | None:
    if user is None or not user.is_authenticated:
        return None
    return (
        Address.objects.filter(user=user, is_default=True, region__in_territory=True).select_related("region").first()
    )
