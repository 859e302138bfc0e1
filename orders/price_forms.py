"""Forms for ORD-PRICE-ERROR: the customer's answer and the staff correction of unit prices."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _

from .pricing import order_total_with


class PriceAnswerForm(forms.Form):
    """The customer's answer: two buttons named ``answer`` (accept / cancel)."""

    ACCEPT, CANCEL = "accept", "cancel"
    answer = forms.ChoiceField(choices=[(ACCEPT, "Accept new price"), (CANCEL, "Cancel order")])


class PriceCorrectionForm(forms.Form):
    """One optional field per order line: the corrected unit price (empty = the price is right).

    On a paid order a corrected total above the paid one is refused next to the form (asking a
    paid customer for more money is not supported; staff cancel the order instead).
    """

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.lines = list(order.lines.all())
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                label=f"{line.product_name} ({line.sku}) × {line.quantity}",
                help_text=f"Now {line.unit_price} per unit",
                required=False,
                min_value=Decimal("0"),
                max_digits=12,
                decimal_places=2,
            )

    def line_fields(self):
        return [(line, self[f"line_{line.pk}"]) for line in self.lines]

    def clean(self):
        cleaned = super().clean()
        corrections: dict[int, Decimal] = {}
        for line in self.lines:
            name = f"line_{line.pk}"
            value = cleaned.get(name)
            if value is None:
                continue
            if value == line.unit_price.amount:
                self.add_error(name, _("This is the current price; leave it empty if it is right."))
                continue
            corrections[line.pk] = value
        if not corrections and not self.errors:
            raise forms.ValidationError("Enter the corrected unit price of at least one line.")
        if corrections and self.order.paid_at is not None:
            new_total = order_total_with(self.order, corrections)
            if new_total > self.order.total:
                raise forms.ValidationError(
                    f"This order is already paid ({self.order.total}); a corrected price may only lower the total "
                    f"(it would be {new_total}). To charge more, cancel the order instead."
                )
        cleaned["corrections"] = corrections
        return cleaned
