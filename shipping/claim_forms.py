"""Staff forms of parcel claims (REF-SHORT-DELIVERY acts, DLV-LATE, DLV-LOST). They validate input and call
one service; the service's refusals go next to the field they concern."""

from __future__ import annotations

from django import forms

from refunds.models import CaseKind, CaseRemedy

from .models import DeliveryAttempt
from .services.acts import act_defaults


class ActForm(forms.Form):
    """REF-SHORT-DELIVERY: per line of the parcel, the units handed over; the place; remarks."""

    place = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}))
    note = forms.CharField(
        label="Remarks",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="What came instead of a wrong item, the state of the packaging, …",
    )

    def __init__(self, *args, attempt: DeliveryAttempt, **kwargs):
        super().__init__(*args, **kwargs)
        place, handed = act_defaults(attempt)
        self.fields["place"].initial = place
        self._line_ids = []
        for parcel_line in attempt.shipment.lines.select_related("order_line").order_by("order_line_id"):
            line = parcel_line.order_line
            self._line_ids.append(line.pk)
            self.fields[f"handed_{line.pk}"] = forms.IntegerField(
                label=f"{line.product_name}: handed over",
                min_value=0,
                max_value=parcel_line.quantity,
                initial=handed.get(line.pk, parcel_line.quantity),
                help_text=f"{parcel_line.quantity} in the parcel. A wrong item counts as not handed over.",
            )

    def handed_over(self) -> dict[int, int]:
        return {pk: self.cleaned_data[f"handed_{pk}"] for pk in self._line_ids}


class ActScanForm(forms.Form):
    """REF-SHORT-DELIVERY: the act signed by the recipient and the courier, scanned."""

    scan = forms.FileField(
        label="Signed scan", help_text="PDF, PNG or JPEG, at most 10 MB.", widget=forms.ClearableFileInput
    )


class LossForm(forms.Form):
    """DLV-LOST: the carrier's confirmation of the loss."""

    reference = forms.CharField(
        label="Carrier's confirmation",
        max_length=200,
        widget=forms.TextInput(attrs={"size": 40}),
        help_text="The claim or letter number in which the carrier confirms the loss.",
    )


_LABELS = {
    CaseRemedy.RESHIP: "Re-ship at no charge",
    CaseRemedy.REPLACEMENT: "Send a replacement at no charge",
    CaseRemedy.REFUND: "Refund in full (goods and delivery)",
}


class SettleForm(forms.Form):
    """DLV-LATE: staff close an investigation; DLV-LOST: staff record the customer's choice."""

    remedy = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        remedies = (
            (CaseRemedy.RESHIP, CaseRemedy.REFUND)
            if kind == CaseKind.LATE_PARCEL
            else (CaseRemedy.REPLACEMENT, CaseRemedy.REFUND)
        )
        self.fields["remedy"].choices = [(r.value, _LABELS[r]) for r in remedies]
        self.fields["remedy"].label = "Close with" if kind == CaseKind.LATE_PARCEL else "The customer chose"
