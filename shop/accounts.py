"""Customer accounts: the write side (views validate with forms and call these)."""

from django.contrib.auth import get_user_model
from django.db import transaction


@transaction.atomic
def customer_register(*, username: str, email: str, password: str):
    """Create a customer account. The form has already checked the username, the e-mail's
    uniqueness (case-insensitive) and the password validators."""
    return get_user_model().objects.create_user(username=username, email=email.strip(), password=password)
