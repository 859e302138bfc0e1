"""Forms of SHIP-STOCKOUT: the customer's choice, and the staff forms (missing units, a choice by phone, the date)."""

from __future__ import annotations

from django import forms

from .models import StockoutChoice


class StockoutChoiceForm(forms.Form):
    """The customer's choice: three buttons named ``choice``; staff pick the same from a list."""

    choice = forms.ChoiceField(choices=StockoutChoice.choices, widget=forms.RadioSelect)


class StockoutPhoneForm(StockoutChoiceForm):
    """Staff record a choice the customer made by phone."""

    note = forms.CharField(
        required=False,
        max_length=200,
        help_text="Optional: who called and when (kept as a staff note).",
        widget=forms.TextInput(attrs={"size": 60}),
    )


class StockoutDateForm(forms.Form):
    new_date = forms.DateField(
        label="Missing part ships by",
        help_text="The date promised to the customer for the unavailable items (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class StockoutReportForm(forms.Form):
    """One field per order line: how many of its units reserved on the shelf are not there."""

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(order.lines.all())
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=f"{line.product_name} ({line.sku})",
                help_text=f"{line.quantity_on_shelf} reserved on the shelf for this order",
                required=False,
                min_value=0,
                max_value=line.quantity_on_shelf,
            )

    def clean(self):
        cleaned = super().clean()
        missing = {line.pk: cleaned.get(f"line_{line.pk}") or 0 for line in self.lines}
        missing = {pk: units for pk, units in missing.items() if units}
        if not missing and not self.errors:
            raise forms.ValidationError("Enter how many units are missing of at least one line.")
        cleaned["missing"] = missing
        return cleaned
