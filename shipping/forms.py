"""Staff forms of fulfilment: they validate input and call one service; the service's refusals go next to the field."""

from __future__ import annotations

from django import forms

from orders.models import Order
from shop.models import DeliveryMethod

from .errors import ShipmentError


class ShipmentCreateForm(forms.Form):
    """SHIP-METHODS: method, tracking number and a quantity per line, pre-filled with what is left on the shelf."""

    method = forms.ModelChoiceField(queryset=DeliveryMethod.objects.filter(is_active=True), empty_label=None)
    tracking_number = forms.CharField(
        required=False,
        max_length=60,
        help_text="Required for express couriers; checked against the carrier's format.",
    )

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.fields["method"].initial = order.delivery_method_id
        self.open_lines = [line for line in order.lines.all() if line.quantity_open > 0]
        for line in self.open_lines:
            self.fields[self.line_field(line.pk)] = forms.IntegerField(
                label=f"{line.product_name} ({line.sku})",
                min_value=0,
                initial=line.quantity_on_shelf,
                help_text=f"Left to ship: {line.quantity_open} of {line.quantity}"
                + (f"; {line.quantity_short} missing, to follow (SHIP-STOCKOUT)." if line.quantity_short else "."),
            )

    @staticmethod
    def line_field(line_id: int) -> str:
        return f"line_{line_id}"

    def lines(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[self.line_field(line.pk)] for line in self.open_lines}

    def add_service_error(self, exc: ShipmentError) -> None:
        """The service's message next to the field it is about (a line's quantity, the tracking number…)."""
        field = self.line_field(exc.line_id) if exc.line_id else exc.field
        self.add_error(field if field in self.fields else None, str(exc))
