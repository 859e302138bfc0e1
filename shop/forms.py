"""Storefront and admin forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from .models import Address, PaymentMethod, Product, Region

PHONE_HELP = _("With the country code, or a Russian number such as 8 916 123-45-67.")


def phone_field(*, required: bool = True, label: str = _("Phone")) -> PhoneNumberField:
    """ORD-FIELDS: the one phone field of every form (django-phonenumber-field, numbers without a country
    code read as PHONENUMBER_DEFAULT_REGION); the cleaned value is a PhoneNumber (``.as_e164``)."""
    return PhoneNumberField(
        label=label,
        required=required,
        help_text=PHONE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        error_messages={
            "required": _("Please enter a phone number the courier can call."),
            "invalid": _("This does not look like a phone number. Please check the digits and the country code."),
        },
    )


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    phone = phone_field(required=False)


class AddressForm(forms.ModelForm):
    """An address-book entry: the same rules as checkout's contact step (ORD-FIELDS, ORD-TERRITORY)."""

    phone = phone_field()
    region = forms.ModelChoiceField(
        label=_("Region"),
        # ORD-TERRITORY: only the delivery territory can be chosen.
        queryset=Region.objects.filter(in_territory=True).order_by("name"),
        empty_label=_("Choose a region"),
        error_messages={
            "required": _("Please choose the region to deliver to."),
            "invalid_choice": _("We do not deliver to that region. Please choose one from the list."),
        },
    )
    make_default = forms.BooleanField(label=_("Use as my default address"), required=False)

    class Meta:
        model = Address
        fields = ["full_name", "phone", "address", "city", "postcode", "region"]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "full_name": _("Full name of the recipient"),
            "address": _("Street address"),
            "city": _("City"),
            "postcode": _("Postcode"),
        }
        error_messages = {
            "full_name": {"required": _("Please enter the recipient's full name.")},
            "address": {"required": _("Please enter the street, house and flat.")},
            "city": {"required": _("Please enter the city or town.")},
            "postcode": {"required": _("Please enter the postcode.")},
        }

    def address_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


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
