"""Checkout step forms. Every field is validated here, server-side, with its message next to it."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from shop.delivery import DeliveryOption
from shop.forms import phone_field
from shop.models import Region

from .checkout import PaymentChoices

_POSTCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{1,9}$")


class TerritoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


class ContactForm(forms.Form):
    """ORD-FIELDS: name, e-mail, phone and an address inside the territory (ORD-TERRITORY)."""

    full_name = forms.CharField(
        label=_("Full name of the recipient"),
        max_length=200,
        error_messages={"required": _("Please enter the recipient's full name.")},
    )
    email = forms.EmailField(
        label=_("E-mail"),
        error_messages={
            "required": _("Please enter your e-mail address."),
            "invalid": _("Please enter a valid e-mail address, such as anna@example.com."),
        },
    )
    phone = phone_field()
    address = forms.CharField(
        label=_("Street address"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Please enter the street, house and flat.")},
    )
    city = forms.CharField(
        label=_("City"), max_length=120, error_messages={"required": _("Please enter the city or town.")}
    )
    postcode = forms.CharField(
        label=_("Postcode"), max_length=20, error_messages={"required": _("Please enter the postcode.")}
    )
    region = TerritoryChoiceField(
        label=_("Region"),
        # ORD-TERRITORY: only regions staff list as the delivery territory can be chosen; a
        # tampered id of any other region fails with the message below.
        queryset=Region.objects.filter(in_territory=True).order_by("name"),
        empty_label=_("Choose a region"),
        error_messages={
            "required": _("Please choose the region to deliver to."),
            "invalid_choice": _("We do not deliver to that region. Please choose one from the list."),
        },
    )

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise forms.ValidationError(_("Please enter the recipient's full name."))
        return name

    def clean_phone(self) -> str:
        """Stored normalised as E.164 (+79161234567), whatever way it was typed (django-phonenumber-field)."""
        return self.cleaned_data["phone"].as_e164

    def clean_address(self) -> str:
        address = self.cleaned_data["address"].strip()
        if not address:
            raise forms.ValidationError(_("Please enter the street, house and flat."))
        return address

    def clean_city(self) -> str:
        city = " ".join(self.cleaned_data["city"].split())
        if not city:
            raise forms.ValidationError(_("Please enter the city or town."))
        return city

    def clean_postcode(self) -> str:
        postcode = self.cleaned_data["postcode"].strip().upper()
        if not _POSTCODE.match(postcode):
            raise forms.ValidationError(_("Please enter a valid postcode, such as 101000."))
        return postcode

    def session_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["region"] = data["region"].pk
        return data


class DeliveryForm(forms.Form):
    """SHIP-METHODS: the methods delivering to the chosen region, air mail preselected."""

    delivery_method = forms.TypedChoiceField(
        label=_("Delivery method"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose a delivery method."),
            "invalid_choice": _(
                "That delivery method is not available for your region. Please choose one of the list."
            ),
        },
    )

    def __init__(self, *args, options: list[DeliveryOption], **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        self.fields["delivery_method"].choices = [(o.method.pk, o.method.name) for o in options]
        if "delivery_method" not in self.initial:
            default = next((o for o in options if o.method.is_default), options[0] if options else None)
            if default is not None:
                self.initial["delivery_method"] = default.method.pk


class PaymentForm(forms.Form):
    """PAY-METHODS-PER-PRODUCT, PAY-PREPAY-THRESHOLD, PAY-COD-RESTRICT: only offered methods validate."""

    payment_method = forms.ChoiceField(
        label=_("Payment method"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose how you will pay."),
            "invalid_choice": _("That payment method is not available for this order."),
        },
    )
    # ORD-INSERTS
    no_marketing_inserts = forms.BooleanField(label=_("Don't put marketing inserts in my parcel"), required=False)
    # PAY-DISCOUNTS: a code and bonus points; ``check`` says what is wrong with them, next to the field.
    discount_code = forms.CharField(label=_("Discount code"), max_length=40, required=False)
    points = forms.IntegerField(
        label=_("Bonus points to spend"),
        required=False,
        min_value=0,
        error_messages={"min_value": _("Points cannot be negative."), "invalid": _("Enter a whole number of points.")},
    )

    def __init__(self, *args, payment: PaymentChoices, check=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.payment = payment
        self.check = check
        # Every method is a valid *choice*, so a method that is not offered for this order fails in
        # clean_payment_method with the one-line reason why, rather than a generic "invalid choice".
        self.fields["payment_method"].choices = [(c.method, c.label) for c in payment.choices]
        offered = payment.offered
        if "payment_method" not in self.initial and len(offered) == 1:
            self.initial["payment_method"] = offered[0].method

    def clean_payment_method(self) -> str:
        method = self.cleaned_data["payment_method"]
        if not self.payment.is_offered(method):
            raise forms.ValidationError(self.payment.reason_for(method))
        return method

    def clean_discount_code(self) -> str:
        return self.cleaned_data["discount_code"].strip().upper()

    def clean(self):
        if self.payment.blocked_reason:
            raise forms.ValidationError(self.payment.blocked_reason)
        data = super().clean()
        data["points"] = data.get("points") or 0
        if self.check is not None and data.get("payment_method") and not self.errors:
            for name, message in self.check(
                data["payment_method"], data.get("discount_code", ""), data["points"]
            ).items():
                self.add_error(name, message)
        return data
