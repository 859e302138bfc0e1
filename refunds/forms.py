"""The customer's claim form and the refund desk's staff forms (thin: validate, then one service)."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import PHOTO_MAX_BYTES, CaseRemedy, validate_photo_size

#: REF-*: at most this many photos per claim.
MAX_PHOTOS = 5


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.ImageField):
    """Several images; each is opened by Pillow (ImageField) and size-checked. Optional."""

    widget = MultipleImageInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("validators", [validate_photo_size])
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = "image/*"

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(
                ngettext("Attach at most %(n)d photo.", "Attach at most %(n)d photos.", MAX_PHOTOS) % {"n": MAX_PHOTOS}
            )
        return [super(PhotosField, self).clean(f, initial) for f in files]


class ClaimForm(forms.Form):
    """REF-DEFECT, REF-WRONG-ITEM, REF-SHORT-DELIVERY: which units, what remedy, the statement, photos."""

    remedy = forms.ChoiceField(widget=forms.RadioSelect)
    statement = forms.CharField(
        label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, required=True
    )
    photos = PhotosField(
        label=_("Photos"),
        help_text=format_lazy(
            _("Images only (JPEG, PNG, …), up to {photos}, at most {mb} MB each."),
            photos=MAX_PHOTOS,
            mb=PHOTO_MAX_BYTES // (1024 * 1024),
        ),
    )

    def __init__(self, *args, lines, remedies, kind, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_lines = lines
        self.fields["remedy"].choices = [(r, CaseRemedy(r).label) for r in remedies]
        for line, most in lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=line.product_name, min_value=0, max_value=most, initial=0, required=False
            )
        if kind == "wrong_item":
            self.fields["keeps_wrong_goods"] = forms.BooleanField(
                label=_("I keep the wrong goods (they are charged at the price on the site)"), required=False
            )

    def clean(self):
        data = super().clean()
        if not any(data.get(f"line_{line.pk}") for line, _ in self.order_lines):
            raise forms.ValidationError(_("Choose the items and how many."))
        return data

    @property
    def chosen_lines(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"]
            for line, _ in self.order_lines
            if self.cleaned_data.get(f"line_{line.pk}")
        }


class DeclineForm(forms.Form):
    reason = forms.CharField(label="Reason (sent to the customer)", widget=forms.Textarea(attrs={"rows": 3}))


class AcceptForm(forms.Form):
    remedy = forms.ChoiceField(choices=CaseRemedy.choices)


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount",
        max_digits=12,
        decimal_places=2,
        min_value=0.01,
        required=False,
        help_text="Empty: what is left of the case's value.",
    )
