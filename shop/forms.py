"""Storefront and admin forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import PaymentMethod, Product


class RegisterForm(UserCreationForm):
    """Username, e-mail and password. The e-mail is required and unique (password reset finds users by it).

    The form checks only what it can say without telling who has an account: whether the username
    or e-mail is taken is answered by e-mail to the address given (``shop.accounts.customer_register``).
    """

    email = forms.EmailField(label=_("E-mail"), help_text=_("Order confirmations and password resets are sent here."))

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_username(self) -> str:
        return self.cleaned_data["username"]  # no "already exists": that would tell who has an account

    def validate_unique(self) -> None:
        """Nothing: uniqueness is the service's business and its answer goes by e-mail."""

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()


class ProductAdminForm(forms.ModelForm):
    """PAY-METHODS-PER-PRODUCT: staff tick the payment methods a product may be paid with (at least one)."""

    payment_methods = forms.MultipleChoiceField(
        choices=PaymentMethod.choices,
        widget=forms.CheckboxSelectMultiple,
        required=True,
        error_messages={"required": _("Tick at least one payment method: a product must be payable somehow.")},
        help_text=_("Checkout offers only the methods that every product in the cart allows."),
    )

    class Meta:
        model = Product
        fields = [
            "category",
            "name",
            "slug",
            "sku",
            "description",
            "price",
            "stock",
            "is_active",
            "warranty_months",
            "payment_methods",
        ]

    def clean_payment_methods(self) -> list[str]:
        chosen = set(self.cleaned_data["payment_methods"])
        # Stored in the enum's order so the same choice is always the same list.
        return [value for value in PaymentMethod.values if value in chosen]
