"""Forms: the customer's bank account for a refund, and the staff forms of the admin."""

import re
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_SWIFT = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def _compact(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def iban_valid(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, remainder mod 97 is 1."""
    if not _IBAN.match(iban):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


class RefundAccountForm(forms.Form):
    """PAY-REFUND-SAME-WAY: where a cash-on-delivery or bank-transfer refund is sent.

    A Russian account is 20 digits with a 9-digit BIC; an account abroad is an IBAN with a SWIFT code.
    """

    account_holder = forms.CharField(
        label=_("Account holder"), max_length=200, help_text=_("The name on the account, as the bank has it.")
    )
    account_number = forms.CharField(
        label=_("Account number or IBAN"), max_length=50, help_text=_("20 digits for a Russian bank, or an IBAN.")
    )
    bank_bic = forms.CharField(
        label=_("BIC / SWIFT"), max_length=20, help_text=_("9 digits for a Russian bank, or the SWIFT code.")
    )

    def clean_account_holder(self):
        holder = " ".join(self.cleaned_data["account_holder"].split())
        if len(holder) < 3 or not re.search(r"[^\W\d_]", holder):
            raise forms.ValidationError(_("Enter the account holder's full name."))
        return holder

    def clean_account_number(self):
        number = _compact(self.cleaned_data["account_number"])
        if number.isdigit():
            if len(number) != 20:
                raise forms.ValidationError(f"A Russian account number has 20 digits; this one has {len(number)}.")
            return number
        if not iban_valid(number):
            raise forms.ValidationError(_("Enter 20 digits (Russian account) or a valid IBAN."))
        return number

    def clean_bank_bic(self):
        return _compact(self.cleaned_data["bank_bic"])

    def clean(self):
        data = super().clean()
        number, bic = data.get("account_number"), data.get("bank_bic")
        if number and bic is not None:
            if number.isdigit() and not re.fullmatch(r"\d{9}", bic):
                self.add_error("bank_bic", _("A Russian bank's BIC has 9 digits."))
            elif not number.isdigit() and not _SWIFT.match(bic):
                self.add_error("bank_bic", _("Enter the bank's SWIFT code (8 or 11 letters and digits)."))
        return data


class BankTransferForm(forms.Form):
    """PAY-PREPAID-FIRST: staff record the funds credited for a bank-transfer order."""

    amount = forms.DecimalField(label=_("Amount credited"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    credited_on = forms.DateField(label=_("Date credited"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Transfer reference"), max_length=100)

    def clean_credited_on(self):
        day = self.cleaned_data["credited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("The funds cannot be credited in the future."))
        return day


class RefundSentForm(forms.Form):
    """Staff made the refund transfer (or card refund at the terminal) and record its reference."""

    reference = forms.CharField(label=_("Transfer reference"), max_length=100)


class RefundIssueForm(forms.Form):
    """Staff refund part or all of what was paid (PAY-REFUND-SAME-WAY decides how)."""

    amount = forms.DecimalField(label=_("Amount"), max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("Reason"), max_length=300)
