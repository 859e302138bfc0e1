"""Staff forms of fulfilment: they validate input and call one service; the service's refusals go next to the field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import Order
from shop.models import DeliveryMethod

from .errors import ShipmentError
from .models import FailureCause, IdDocumentType, RecipientKind, Shipment
from .services.delivery import ADDRESS_CHANGE, REDELIVERY

_NOTE = {"required": False, "max_length": 300, "widget": forms.TextInput(attrs={"size": 60})}


def _when() -> forms.DateTimeField:
    return forms.DateTimeField(
        label=_("When"), required=False, help_text=_("Leave empty for now. Shop time, e.g. 2026-06-05 14:30.")
    )


class HandoverForm(forms.Form):
    """DLV-HANDOVER, DLV-INSPECT, DLV-ID-CHECK; one "refused" field per order line in the parcel."""

    recipient_kind = forms.ChoiceField(label=_("Received by"), choices=RecipientKind.choices)
    recipient_name = forms.CharField(
        label=_("Recipient's name"),
        required=False,
        max_length=200,
        help_text=_(
            "Required unless the customer received it. For a person with the order number: the name they gave."
        ),
    )
    id_document_type = forms.ChoiceField(
        label=_("Identity document"), choices=[("", "—"), *IdDocumentType.choices], required=False
    )
    id_document_number = forms.CharField(
        label=_("Document number"),
        required=False,
        max_length=64,
        help_text=_("Prepaid orders only (DLV-ID-CHECK). Stored encrypted; shown masked."),
    )
    id_document_checked = forms.BooleanField(
        label=_("Identity document checked (card paid at the door)"), required=False
    )
    card_unnamed = forms.BooleanField(label=_("The card paid at the door carries no name"), required=False)
    at = _when()
    note = forms.CharField(**_NOTE)

    def __init__(self, *args, shipment: Shipment, **kwargs):
        super().__init__(*args, **kwargs)
        self.parcel_lines = list(shipment.lines.select_related("order_line"))
        for parcel_line in self.parcel_lines:
            line = parcel_line.order_line
            self.fields[f"refused_{line.pk}"] = forms.IntegerField(
                label=f"Refused: {line.product_name}",
                min_value=0,
                max_value=parcel_line.quantity,
                initial=0,
                required=False,
                help_text=f"{parcel_line.quantity} in the parcel, {line.unit_price} each (DLV-INSPECT).",
            )

    def refused(self) -> dict[int, int]:
        return {pl.order_line_id: self.cleaned_data.get(f"refused_{pl.order_line_id}") or 0 for pl in self.parcel_lines}


class FailureForm(forms.Form):
    """DLV-FAILED."""

    cause = forms.ChoiceField(choices=[("", "—"), *FailureCause.choices])
    at = _when()
    note = forms.CharField(**_NOTE)


class AwaitingCollectionForm(forms.Form):
    """DLV-ACCEPT-14D: the moment it arrived starts the collection window."""

    at = forms.DateTimeField(label=_("Arrived"), required=False, help_text=_("Leave empty for now."))
    pickup_point = forms.CharField(label=_("Pick-up point"), required=False, max_length=300)
    note = forms.CharField(**_NOTE)


class RedeliveryForm(forms.Form):
    """SHIP-ADDRESS-CHANGE: the Policy's fee is added to what the customer owes."""

    kind = forms.ChoiceField(
        choices=[(REDELIVERY, "Re-delivery after a failed attempt"), (ADDRESS_CHANGE, "Address change")]
    )
    address = forms.CharField(required=False, max_length=300, help_text=_("Address change only."))
    city = forms.CharField(required=False, max_length=120)
    postcode = forms.CharField(required=False, max_length=20)


class ShipmentCreateForm(forms.Form):
    """SHIP-METHODS: method, tracking number and a quantity per line, pre-filled with what is left on the shelf."""

    method = forms.ModelChoiceField(queryset=DeliveryMethod.objects.filter(is_active=True), empty_label=None)
    tracking_number = forms.CharField(
        required=False,
        max_length=60,
        help_text=_("Required for express couriers; checked against the carrier's format."),
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
