"""Staff pages of fulfilment. Thin: every change is a call to one service in ``shipping.services``."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F, Prefetch
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from orders import services as order_services
from orders.admin import OrderAdmin
from orders.lifecycle import TransitionNotAllowed
from orders.models import Order
from refunds.models import Case, CaseKind, CaseStatus
from shop.admin_tools import QuickActionCheckboxMixin, ReadOnlyAdminMixin, run_for_each
from shop.errors import ServiceError

from .claim_forms import ActForm, ActScanForm, LossForm, SettleForm
from .errors import ShipmentError
from .forms import AwaitingCollectionForm, FailureForm, HandoverForm, RedeliveryForm, ShipmentCreateForm
from .lifecycle import SHIPMENT_LIFECYCLE
from .models import (
    ActOfDiscrepancy,
    DeliveryAttempt,
    DeliveryOutcome,
    FulfilmentPartner,
    PartnerNotice,
    PartnerNoticeAttempt,
    ShipByAlert,
    ShipByState,
    Shipment,
    ShortDeliveryClaim,
    StockoutVia,
    StockShortage,
    WorkQueueOrder,
)
from .services import acts, delivery, packing, parcels, partners, queue, shipments, stockout
from .services.stockout import StockoutError
from .stockout_forms import StockoutDateForm, StockoutPhoneForm, StockoutReportForm


@admin.register(FulfilmentPartner)
class FulfilmentPartnerAdmin(admin.ModelAdmin):
    """SHIP-SUBCONTRACTOR: who is told about each ready order; one is the default."""

    list_display = ["name", "email", "endpoint", "is_default", "is_active"]
    list_filter = ["is_default", "is_active"]
    search_fields = ["name", "email"]
    # An address typed without a scheme is taken as https:// (the only scheme production accepts).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


# --- SHIP-STOCKOUT: shortages on the order page, and the staff forms -------------------------------
class StockShortageInline(ReadOnlyAdminMixin, admin.TabularInline):
    """On the order page: each short line, the customer's choice, how it came, the promised date;
    above the table the staff forms (report missing items, a choice by phone, the date, goods arrived)."""

    model = StockShortage
    extra = 0
    can_delete = False
    fields = [
        "created_at",
        "order_line",
        "quantity_missing",
        "due",
        "choice",
        "via",
        "new_date",
        "decided_at",
        "decided_by",
    ]
    readonly_fields = fields
    verbose_name_plural = "unavailable items"  # SHIP-STOCKOUT
    # Drawn as a read-only table on the order page (shop.admin_tools.ReadOnlyTablesMixin, issue #14).
    table_template = "admin/shipping/stockshortage/order_inline.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line", "hold", "decided_by")

    @admin.display(description=_("choice due by"))
    def due(self, obj: StockShortage):
        return obj.hold.due_at


# The lifecycle engineer's OrderAdmin keeps its inlines a plain list for exactly this.
OrderAdmin.inlines = [*OrderAdmin.inlines, StockShortageInline]


@admin.register(StockShortage)
class StockShortageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """SHIP-STOCKOUT: every shortage line; the order's forms live at ``order/<id>/…`` below."""

    list_display = ["created_at", "order_link", "order_line", "quantity_missing", "choice", "via", "new_date", "due"]
    list_filter = ["choice", "via", "created_at"]
    search_fields = ["order__number", "order_line__product_name", "order_line__sku"]
    list_select_related = ["order", "order_line", "hold"]
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("orders.view_order")

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, obj: StockShortage):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description=_("choice due by"), ordering="hold__due_at")
    def due(self, obj: StockShortage):
        return obj.hold.due_at

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("order/<int:order_id>/report/", view(self.report_view), name="shipping_stockout_report"),
            path("order/<int:order_id>/phone/", view(self.phone_view), name="shipping_stockout_phone"),
            path("order/<int:order_id>/date/", view(self.date_view), name="shipping_stockout_date"),
            path("order/<int:order_id>/arrived/", view(self.arrived_view), name="shipping_stockout_arrived"),
            *super().get_urls(),
        ]

    def _order(self, request, order_id) -> Order:
        if not request.user.has_perm("orders.change_order"):
            raise PermissionDenied
        return get_object_or_404(Order, pk=order_id)

    def _page(self, request, order, form, *, title, submit):
        """The order admin's own page for a form on one order (breadcrumbs, summary, submit)."""
        order_admin = self.admin_site._registry[Order]
        return order_admin._object_page(request, order, form, title=title, submit=submit)

    def _run(self, request, order, form, call, done: str):
        """Validate, call the service; its refusal goes next to the form, success back to the order."""
        if request.method == "POST" and form.is_valid():
            try:
                call(form.cleaned_data)
            except StockoutError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        return None

    def report_view(self, request, order_id):
        """Staff at packing: units reserved for the order are not on the shelf."""
        order = self._order(request, order_id)
        form = StockoutReportForm(request.POST if request.method == "POST" else None, order=order)
        call = lambda data: stockout.stockout_report(order_id=order.pk, missing=data["missing"], actor=request.user)  # noqa: E731
        done = _("Order %(number)s: the customer was asked to choose.") % {"number": order.number}
        return self._run(request, order, form, call, done) or self._page(
            request,
            order,
            form,
            title=_("Report missing items of order %(number)s") % {"number": order.number},
            submit=_("Ask the customer"),
        )

    def phone_view(self, request, order_id):
        """A choice the customer made by phone."""
        order = self._order(request, order_id)
        form = StockoutPhoneForm(request.POST if request.method == "POST" else None)

        def call(data):
            staff = request.user
            stockout.stockout_choose(order_id=order.pk, choice=data["choice"], via=StockoutVia.PHONE, actor=staff)
            if data["note"]:
                order_services.order_note_add(order_id=order.pk, text=f"Stock-out call: {data['note']}", actor=staff)

        done = _("Order %(number)s: the customer's choice is recorded.") % {"number": order.number}
        return self._run(request, order, form, call, done) or self._page(
            request,
            order,
            form,
            title=_("Record a choice by phone for order %(number)s") % {"number": order.number},
            submit=_("Record the choice"),
        )

    def date_view(self, request, order_id):
        """The date the missing part ships by (split)."""
        order = self._order(request, order_id)
        form = StockoutDateForm(request.POST if request.method == "POST" else None)
        call = lambda data: stockout.stockout_set_date(order_id=order.pk, new_date=data["new_date"], actor=request.user)  # noqa: E731
        done = _("Order %(number)s: the date is set.") % {"number": order.number}
        return self._run(request, order, form, call, done) or self._page(
            request,
            order,
            form,
            title=_("Date for the missing part of order %(number)s") % {"number": order.number},
            submit=_("Set the date"),
        )

    def arrived_view(self, request, order_id):
        """Goods arrived for a split order: reserve them (POST only)."""
        order = self._order(request, order_id)
        if request.method == "POST":
            try:
                stockout.stockout_missing_reserve(order_id=order.pk, actor=request.user)
            except StockoutError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Order %(number)s: the arrived items are reserved.") % {"number": order.number},
                    messages.SUCCESS,
                )
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))


# ===============================================================================
# Delivery attempts (DLV-HANDOVER, DLV-INSPECT, DLV-ID-CHECK, DLV-FAILED, DLV-ACCEPT-14D, SHIP-ADDRESS-CHANGE)
# =============================================================================================
ID_PERMISSION = "shipping.view_id_document"


def _can_record(request) -> bool:
    return request.user.has_perm("shipping.add_deliveryattempt")


def _id_document_fields(request) -> list[str]:
    """DLV-ID-CHECK: the full number only for staff with shipping.view_id_document, else the mask."""
    return ["id_document_type", "id_document_full" if request.user.has_perm(ID_PERMISSION) else "id_document_masked"]


class _IdDocumentColumns:
    @admin.display(description=_("document number"))
    def id_document_masked(self, obj: DeliveryAttempt) -> str:
        return obj.id_document_masked

    @admin.display(description=_("document number"))
    def id_document_full(self, obj: DeliveryAttempt) -> str:
        return obj.id_document_number

    @admin.display(description=_("refused"))
    def refused(self, obj: DeliveryAttempt) -> str:
        # prefetched (refused_items__order_line): no query per row
        return ", ".join(f"{r.quantity} × {r.order_line.product_name} ({r.value})" for r in obj.refused_items.all())


class DeliveryAttemptInline(_IdDocumentColumns, ReadOnlyAdminMixin, admin.TabularInline):
    """Attempts on the order's page (DLV-*), with the document number masked unless permitted."""

    model = DeliveryAttempt
    fk_name = "order"
    extra = 0
    can_delete = False
    verbose_name_plural = "Delivery attempts"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recorded_by").prefetch_related("refused_items__order_line")

    def get_fields(self, request, obj=None):
        return [
            "at",
            "shipment",
            "outcome",
            "source",
            "cause",
            "beyond_shop_control",
            "recipient_kind",
            "recipient_name",
            *_id_document_fields(request),
            "refused",
            "pickup_point",
            "recorded_by",
            "note",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)


# --- SHIP-METHODS, SHIP-NOTICES: parcels on the order page, and Create shipment ----------------------
class _ShipmentColumns:
    """The tracking link and the parcel's contents, for the inline on the order and the shipment pages."""

    @admin.display(description=_("tracking number"))
    def tracking(self, obj: Shipment):
        if obj.tracking_url:
            return format_html('<a href="{}" rel="noopener">{}</a>', obj.tracking_url, obj.tracking_number)
        return obj.tracking_number or "—"

    @admin.display(description=_("in the parcel"))
    def contents(self, obj: Shipment):
        return format_html_join(", ", "{} × {}", ((i.quantity, i.order_line.product_name) for i in obj.lines.all()))


class ParcelInline(_ShipmentColumns, ReadOnlyAdminMixin, admin.TabularInline):
    """SHIP-NOTICES, DLV-*: the order's parcels (when, how, tracking, expected window, contents) with a
    link to record what happened to each (SHIP-ADDRESS-CHANGE too)."""

    model = Shipment
    extra = 0
    can_delete = False
    verbose_name_plural = "Parcels: tracking, contents, record a delivery"
    fields = [
        "shipped_at",
        "method",
        "carrier",
        "tracking",
        "expected_from",
        "expected_to",
        "contents",
        "status",
        "collect_by",
        "record",
    ]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        handovers = DeliveryAttempt.objects.filter(outcome=DeliveryOutcome.DELIVERED).select_related("discrepancy_act")
        open_cases = Case.objects.filter(
            kind__in=(CaseKind.LATE_PARCEL, CaseKind.LOST_PARCEL),
            status__in=(CaseStatus.REQUESTED, CaseStatus.ACCEPTED),
        )
        return (
            super()
            .get_queryset(request)
            .select_related("method")
            .prefetch_related(
                "lines__order_line",
                Prefetch("attempts", queryset=handovers, to_attr="handovers"),
                Prefetch("cases", queryset=open_cases.order_by("pk"), to_attr="open_parcel_cases"),
            )
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or _can_record(request)

    @admin.display(description=_("record"))
    def record(self, obj: Shipment):
        links = [
            (reverse("admin:shipping_deliveryattempt_record", args=[obj.pk, outcome]), label)
            for outcome, label in _RECORD_LABELS.items()
            if any(SHIPMENT_LIFECYCLE.can_move(obj, t) for t in _RECORD_TARGETS[outcome])
        ]
        if obj.status in (Shipment.Status.SHIPPED, Shipment.Status.FAILED):
            links.append(
                (reverse("admin:shipping_deliveryattempt_redelivery", args=[obj.pk]), _("Re-delivery / address"))
            )
        links.extend(_claim_links(obj))
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "—"


def _claim_links(obj: Shipment) -> list[tuple[str, str]]:
    """REF-SHORT-DELIVERY, DLV-LATE, DLV-LOST: the parcel's claim actions on the order page."""
    links = []
    for attempt in getattr(obj, "handovers", ()):
        act = getattr(attempt, "discrepancy_act", None)
        if act is None:
            links.append(
                (reverse("admin:shipping_actofdiscrepancy_draw_up", args=[attempt.pk]), _("Act of Discrepancy"))
            )
        else:
            links.append(
                (
                    reverse("admin:shipping_actofdiscrepancy_change", args=[act.pk]),
                    _("Act %(number)s") % {"number": act.number},
                )
            )
    if obj.status != Shipment.Status.LOST and SHIPMENT_LIFECYCLE.can_move(obj, Shipment.Status.LOST):
        links.append((reverse("admin:shipping_shipment_lost", args=[obj.pk]), _("Carrier confirmed loss")))
    for case in getattr(obj, "open_parcel_cases", ()):
        text = (
            _("Close the investigation (case %(case)s)")
            if case.kind == CaseKind.LATE_PARCEL
            else _("Record the customer's choice (case %(case)s)")
        )
        links.append((reverse("admin:shipping_shipment_settle", args=[case.pk]), text % {"case": case.pk}))
    return links


_RECORD_LABELS = {
    DeliveryOutcome.DELIVERED: _("Handed over"),
    DeliveryOutcome.FAILED: _("Failed"),
    DeliveryOutcome.AWAITING_COLLECTION: _("At a pick-up point"),
}
_RECORD_TARGETS = {
    DeliveryOutcome.DELIVERED: (Shipment.Status.DELIVERED, Shipment.Status.REFUSED),
    DeliveryOutcome.FAILED: (Shipment.Status.FAILED,),
    DeliveryOutcome.AWAITING_COLLECTION: (Shipment.Status.AWAITING_COLLECTION,),
}
_FORMS = {
    DeliveryOutcome.DELIVERED: HandoverForm,
    DeliveryOutcome.FAILED: FailureForm,
    DeliveryOutcome.AWAITING_COLLECTION: AwaitingCollectionForm,
}

# The orders app's OrderAdmin keeps its inlines a plain list for exactly this (see payments/admin.py).
OrderAdmin.inlines = [*OrderAdmin.inlines, ParcelInline, DeliveryAttemptInline]


def _record(form, shipment: Shipment, outcome: str, actor):
    data = form.cleaned_data
    common = {"shipment_id": shipment.pk, "at": data.get("at"), "note": data.get("note", ""), "actor": actor}
    if outcome == DeliveryOutcome.FAILED:
        return delivery.delivery_record_failure(cause=data["cause"], **common)
    if outcome == DeliveryOutcome.AWAITING_COLLECTION:
        return delivery.delivery_record_awaiting_collection(pickup_point=data["pickup_point"], **common)
    return delivery.delivery_record_handover(
        recipient_kind=data["recipient_kind"],
        recipient_name=data["recipient_name"],
        refused=form.refused(),
        id_document_type=data["id_document_type"],
        id_document_number=data["id_document_number"],
        id_document_checked=data["id_document_checked"],
        card_unnamed=data["card_unnamed"],
        **common,
    )


def _show_error(form, exc: delivery.DeliveryError) -> None:
    """The service's message next to the field it concerns, or at the top."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(_IdDocumentColumns, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every delivery attempt; recorded from the order's page (Parcels), never edited."""

    list_filter = ["outcome", "source", "cause", "beyond_shop_control"]
    search_fields = ["order__number", "order__email", "shipment__tracking_number", "recipient_name"]
    date_hierarchy = "at"
    list_select_related = ["order", "shipment", "recorded_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("refused_items__order_line")

    def get_list_display(self, request):
        return [
            "at",
            "order",
            "shipment",
            "outcome",
            "source",
            "cause",
            "recipient_name",
            *_id_document_fields(request),
        ]

    def get_fields(self, request, obj=None):
        return [
            "order",
            "shipment",
            "outcome",
            "at",
            "source",
            "partner",
            "recorded_by",
            "cause",
            "beyond_shop_control",
            "recipient_kind",
            "recipient_name",
            *_id_document_fields(request),
            "refused",
            "pickup_point",
            "note",
            "created_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or _can_record(request)

    def get_urls(self):
        own = [
            path(
                "record/<int:shipment_id>/<str:outcome>/",
                self.admin_site.admin_view(self.record_view),
                name="shipping_deliveryattempt_record",
            ),
            path(
                "redelivery/<int:shipment_id>/",
                self.admin_site.admin_view(self.redelivery_view),
                name="shipping_deliveryattempt_redelivery",
            ),
        ]
        return own + super().get_urls()

    def _shipment_or_denied(self, request, shipment_id) -> Shipment:
        if not _can_record(request):
            raise PermissionDenied
        return get_object_or_404(Shipment.objects.select_related("order"), pk=shipment_id)

    def _page(self, request, shipment: Shipment, form, *, title: str, submit: str):
        order = shipment.order
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "order": order,
            "form": form,
            "submit": submit,
            "opts": Order._meta,
            "original": order,
            "change_url": reverse("admin:orders_order_change", args=[order.pk]),
        }
        return TemplateResponse(request, "admin/orders/order/object_form.html", context)

    def record_view(self, request, shipment_id: int, outcome: str):
        shipment = self._shipment_or_denied(request, shipment_id)
        if outcome not in _FORMS:
            raise Http404("Unknown outcome")
        form_class = _FORMS[outcome]
        extra = {"shipment": shipment} if form_class is HandoverForm else {}
        form = form_class(request.POST or None, **extra)
        if request.method == "POST" and form.is_valid():
            try:
                _record(form, shipment, outcome, request.user)
            except delivery.DeliveryError as exc:
                _show_error(form, exc)
            else:
                self.message_user(
                    request,
                    _("Parcel %(parcel)s: %(outcome)s recorded.")
                    % {"parcel": shipment.pk, "outcome": str(DeliveryOutcome(outcome).label).lower()},
                )
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[shipment.order_id]))
        label = _RECORD_LABELS[outcome]
        return self._page(
            request,
            shipment,
            form,
            title=_("Parcel %(parcel)s of %(number)s: %(what)s")
            % {"parcel": shipment.pk, "number": shipment.order.number, "what": label},
            submit=_("Record"),
        )

    def redelivery_view(self, request, shipment_id: int):
        """SHIP-ADDRESS-CHANGE: the Policy's fee is charged and the customer e-mailed the amount."""
        shipment = self._shipment_or_denied(request, shipment_id)
        form = RedeliveryForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                delivery.delivery_arrange_redelivery(shipment_id=shipment.pk, actor=request.user, **form.cleaned_data)
            except delivery.DeliveryError as exc:
                _show_error(form, exc)
            else:
                self.message_user(
                    request,
                    _("Parcel %(parcel)s: arranged; the customer was e-mailed the fee.") % {"parcel": shipment.pk},
                )
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[shipment.order_id]))
        return self._page(
            request,
            shipment,
            form,
            title=_("Parcel %(parcel)s of %(number)s: re-delivery or address change")
            % {"parcel": shipment.pk, "number": shipment.order.number},
            submit=_("Arrange and charge the fee"),
        )


# --- The work queue (SHIP-BUSINESS-HOURS, SHIP-WITHIN-2BD): packing and packing slips -----------
_STATE_COLOURS = {
    ShipByState.OVERDUE: "#b00",
    ShipByState.AT_RISK: "#b60",
    ShipByState.DUE_TODAY: "#06c",
    ShipByState.ON_TRACK: "#666",
}


def _queue_clock(request) -> queue.QueueClock:
    """One reading of the clock and calendar per request, shared by the notice and every row."""
    if not hasattr(request, "_work_queue_clock"):
        request._work_queue_clock = queue.QueueClock.current()
    return request._work_queue_clock


class WorkQueueChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        clock = _queue_clock(request)
        for order in self.result_list:
            order.ship_by_state = clock.state_of(order.ship_by)
            order.ship_by_local = clock.calendar.local(order.ship_by) if order.ship_by else None


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@admin.register(WorkQueueOrder)
class WorkQueueAdmin(QuickActionCheckboxMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """SHIP-BUSINESS-HOURS: where the warehouse lives all day. Orders to pack and ship, soonest ship-by first,
    each marked due today / at risk / overdue (SHIP-WITHIN-2BD), with the hold that blocks it."""

    list_display = [
        "order_link",
        "ship_by_display",
        "state_display",
        "status",
        "hold_display",
        "full_name",
        "delivery_method",
        "inserts_display",
        "slip_link",
    ]
    list_display_links = None
    list_filter = ["status"]
    search_fields = ["number", "full_name", "email"]
    ordering = [F("ship_by").asc(nulls_last=True), "pk"]
    list_per_page = 100
    show_full_result_count = False
    actions = ["mark_packed", "print_packing_slips"]
    change_list_template = "admin/shipping/workqueueorder/change_list.html"

    def get_queryset(self, request):
        return queue.work_queue_orders()

    def get_changelist(self, request, **kwargs):
        return WorkQueueChangeList

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("orders.view_order") or request.user.has_perm("orders.change_order")

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order")

    def changelist_view(self, request, extra_context=None):
        clock = _queue_clock(request)
        extra_context = {**(extra_context or {}), "reopens_at": clock.reopens_at}
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("order"), ordering="number")
    def order_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.pk]), obj.number)

    @admin.display(description=_("ship by"), ordering="ship_by")
    def ship_by_display(self, obj):
        return f"{obj.ship_by_local:%a %d %b %H:%M}" if obj.ship_by_local else "—"

    @admin.display(description=_("deadline"))
    def state_display(self, obj):
        state = obj.ship_by_state
        if state == ShipByState.ON_TRACK:
            return ""
        return format_html('<strong style="color:{}">{}</strong>', _STATE_COLOURS[state], state.label)

    @admin.display(description=_("blocked by"))
    def hold_display(self, obj):
        return ", ".join(hold.get_kind_display() for hold in obj.open_holds)

    @admin.display(description=_("inserts"))
    def inserts_display(self, obj):
        # ORD-INSERTS: the packer sees the opt-out in the list too.
        return format_html('<strong style="color:#b00">{}</strong>', "none") if obj.no_marketing_inserts else ""

    @admin.display(description="")
    def slip_link(self, obj):
        return format_html(
            '<a href="{}">Packing slip</a>', reverse("admin:shipping_workqueueorder_slip", args=[obj.pk])
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/packing-slip/",
                self.admin_site.admin_view(self.slip_view),
                name="shipping_workqueueorder_slip",
            ),
            *super().get_urls(),
        ]

    def slip_view(self, request, object_id):
        """One order's packing slip as a PDF (printable from the queue or the order's page)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order, pk=object_id)
        return _pdf_response(packing.packing_slips_pdf(order_ids=[order.pk]), f"packing-slip-{order.number}.pdf")

    @admin.action(description=_("Mark packed (the customer is e-mailed)"), permissions=["manage"])
    def mark_packed(self, request, queryset):
        run_for_each(
            self, request, queryset, packing.order_mark_packed, "Marked packed", errors=(TransitionNotAllowed,)
        )

    @admin.action(description=_("Print packing slips (one PDF)"))
    def print_packing_slips(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        return _pdf_response(packing.packing_slips_pdf(order_ids=ids), f"packing-slips-{len(ids)}.pdf")


@admin.register(ShipByAlert)
class ShipByAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """SHIP-WITHIN-2BD: what the staff digest announced (each order once per state) and in which e-mail."""

    list_display = ["sent_at", "order", "state", "ship_by", "email"]
    list_filter = ["state", "sent_at"]
    search_fields = ["order__number"]
    list_select_related = ["order", "email"]


# --- SHIP-SUBCONTRACTOR: the notices to partners' endpoints and every try ---------------------------
def _attempts_table(notice: PartnerNotice):
    """Every try of a notice, oldest first (``attempt_log`` prefetched by the caller)."""
    rows = [
        (
            f"{attempt.at:%Y-%m-%d %H:%M:%S}",
            attempt.http_status or "—",
            f"{attempt.duration_ms} ms",
            attempt.error or "OK",
        )
        for attempt in notice.attempt_log.all()
    ]
    if not rows:
        return "Not tried yet."
    return format_html(
        "<table><tr><th>at</th><th>HTTP</th><th>took</th><th>result</th></tr>{}</table>",
        format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
    )


def _can_view(request) -> bool:
    return request.user.has_perm("shipping.view_partnernotice") or request.user.has_perm("orders.view_order")


class PartnerNoticeInline(ReadOnlyAdminMixin, admin.TabularInline):
    """On the order's page: was the partner's endpoint told, and every try with its answer."""

    model = PartnerNotice
    extra = 0
    can_delete = False
    fields = ["partner", "status", "attempts", "created_at", "delivered_at", "attempts_made", "notice_link"]
    readonly_fields = fields
    verbose_name_plural = "fulfilment partner notices"  # SHIP-SUBCONTRACTOR

    def has_view_permission(self, request, obj=None) -> bool:
        return _can_view(request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("partner").prefetch_related("attempt_log")

    @admin.display(description=_("tries"))
    def attempts_made(self, obj: PartnerNotice):
        return _attempts_table(obj)

    @admin.display(description="")
    def notice_link(self, obj: PartnerNotice):
        return format_html('<a href="{}">Details</a>', reverse("admin:shipping_partnernotice_change", args=[obj.pk]))


# The lifecycle engineer's OrderAdmin keeps its inlines a plain list for exactly this.
OrderAdmin.inlines = [*OrderAdmin.inlines, PartnerNoticeInline]


class PartnerNoticeAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PartnerNoticeAttempt
    extra = 0
    can_delete = False
    fields = ["at", "http_status", "duration_ms", "error"]
    readonly_fields = fields
    verbose_name_plural = "tries"

    def has_view_permission(self, request, obj=None) -> bool:
        return _can_view(request)


@admin.register(PartnerNotice)
class PartnerNoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every notice owed to a partner's endpoint: pending ones are retried until the partner answers 2xx."""

    list_display = [
        "created_at",
        "order_link",
        "partner",
        "status",
        "attempts",
        "last_attempt_at",
        "last_error_short",
        "delivered_at",
    ]
    list_filter = ["status", "partner", "created_at"]
    search_fields = ["order__number", "idempotency_key"]
    list_select_related = ["order", "partner"]
    date_hierarchy = "created_at"
    actions = ["send_again_now"]
    inlines = [PartnerNoticeAttemptInline]
    fields = [
        "order_link",
        "partner",
        "idempotency_key",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
        "payload_pretty",
    ]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None) -> bool:
        return _can_view(request)

    def has_module_permission(self, request) -> bool:
        return _can_view(request)

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("shipping.change_partnernotice") or request.user.has_perm("orders.change_order")

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, obj: PartnerNotice):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description=_("last error"))
    def last_error_short(self, obj: PartnerNotice):
        return obj.last_error[:120]

    @admin.display(description=_("payload (the JSON body sent)"))
    def payload_pretty(self, obj: PartnerNotice):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.action(description=_("Send again now"), permissions=["resend"])
    def send_again_now(self, request, queryset):
        queued = skipped = 0
        for notice_id in queryset.order_by("pk").values_list("pk", flat=True):
            if partners.partner_notice_send_now(notice_id=notice_id, actor=request.user):
                queued += 1
            else:
                skipped += 1
        if queued:
            self.message_user(
                request,
                ngettext("%(count)d notice queued to be sent now.", "%(count)d notices queued to be sent now.", queued)
                % {"count": queued},
                messages.SUCCESS,
            )
        if skipped:
            text = ngettext(
                "%(count)d notice already delivered: a delivered notice is never sent again.",
                "%(count)d notices already delivered: a delivered notice is never sent again.",
                skipped,
            ) % {"count": skipped}
            self.message_user(request, text, messages.INFO)


def _create_shipment_link(request, order: Order):
    if order.status in shipments.SHIPPABLE and request.user.has_perm("shipping.add_shipment"):
        return "Create shipment", reverse("admin:shipping_shipment_create", args=[order.pk])
    return None


OrderAdmin.tool_links = [*OrderAdmin.tool_links, _create_shipment_link]


@admin.register(Shipment)
class ShipmentAdmin(_ShipmentColumns, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Parcels (read-only); one is created from its order's page ("Create shipment") through the service."""

    list_display = ["pk", "order", "shipped_at", "method", "tracking", "expected_from", "expected_to", "status"]
    list_filter = ["status", "method"]
    search_fields = ["order__number", "tracking_number"]
    list_select_related = ["order", "method"]
    fields = [
        "order",
        "method",
        "carrier",
        "tracking",
        "status",
        "shipped_at",
        "expected_from",
        "expected_to",
        "contents",
        "created_by",
    ]
    readonly_fields = fields

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path(
                "create/<int:order_id>/",
                self.admin_site.admin_view(self.create_view),
                name="shipping_shipment_create",
            ),
            path("lost/<int:shipment_id>/", view(self.lost_view), name="shipping_shipment_lost"),
            path("settle/<int:case_id>/", view(self.settle_view), name="shipping_shipment_settle"),
        ]
        return own + super().get_urls()

    def _order_page(self, request, order, form, *, title, submit):
        return self.admin_site._registry[Order]._object_page(request, order, form, title=title, submit=submit)

    def lost_view(self, request, shipment_id: int):
        """DLV-LOST: staff record the carrier's confirmation; the customer is e-mailed the choice."""
        if not _can_record(request):
            raise PermissionDenied
        shipment = get_object_or_404(Shipment.objects.select_related("order"), pk=shipment_id)
        form = LossForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                case = parcels.parcel_confirm_lost(
                    shipment_id=shipment.pk, reference=form.cleaned_data["reference"], actor=request.user
                )
            except parcels.ParcelClaimError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Parcel %(parcel)s lost (case %(case)s); the customer was e-mailed to choose.")
                    % {"parcel": shipment.pk, "case": case.pk},
                )
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[shipment.order_id]))
        title = _("Parcel %(parcel)s of %(number)s: the carrier confirmed the loss") % {
            "parcel": shipment.pk,
            "number": shipment.order.number,
        }
        return self._order_page(request, shipment.order, form, title=title, submit=_("Record the loss"))

    def settle_view(self, request, case_id: int):
        """DLV-LATE: re-ship at no charge or refund in full; DLV-LOST: the customer's choice, as staff record it."""
        if not request.user.has_perm("refunds.change_case"):
            raise PermissionDenied
        case = get_object_or_404(Case.objects.select_related("order"), pk=case_id)
        form = SettleForm(request.POST or None, kind=case.kind)
        if request.method == "POST" and form.is_valid():
            try:
                parcels.parcel_claim_settle(case_id=case.pk, remedy=form.cleaned_data["remedy"], actor=request.user)
            except (parcels.ParcelClaimError, ServiceError) as exc:
                form.add_error("remedy" if getattr(exc, "field", None) == "remedy" else None, str(exc))
            else:
                self.message_user(request, _("Case %(case)s closed; the customer was e-mailed.") % {"case": case.pk})
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[case.order_id]))
        what = _("late parcel") if case.kind == CaseKind.LATE_PARCEL else _("lost parcel")
        title = _("Case %(case)s (%(what)s, parcel %(parcel)s) of %(number)s") % {
            "case": case.pk,
            "what": what,
            "parcel": case.shipment_id,
            "number": case.order.number,
        }
        return self._order_page(request, case.order, form, title=title, submit=_("Close the case"))

    def create_view(self, request, order_id: int):
        """SHIP-METHODS: a parcel leaves with the quantities given; refusals appear next to their field."""
        if not request.user.has_perm("shipping.add_shipment"):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("delivery_method"), pk=order_id)
        order_url = reverse("admin:orders_order_change", args=[order.pk])
        form = ShipmentCreateForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                shipment = shipments.shipment_create(
                    order_id=order.pk,
                    method_id=form.cleaned_data["method"].pk,
                    tracking_number=form.cleaned_data["tracking_number"],
                    lines=form.lines(),
                    actor=request.user,
                )
            except ShipmentError as exc:
                form.add_service_error(exc)
            else:
                self.message_user(
                    request,
                    _("Parcel %(parcel)s of order %(number)s shipped; the customer was e-mailed.")
                    % {"parcel": shipment.pk, "number": order.number},
                )
                return HttpResponseRedirect(order_url)
        return self.admin_site._registry[Order]._object_page(
            request,
            order,
            form,
            title=_("Create shipment for order %(number)s") % {"number": order.number},
            submit=_("Ship"),
        )


# ===============================================================================
# REF-SHORT-DELIVERY: Acts of Discrepancy and short-delivery claims without one
# =============================================================================================
@admin.register(ActOfDiscrepancy)
class ActOfDiscrepancyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Acts are drawn up from a handover on the order's page (Parcels: "Act of Discrepancy"), never edited;
    here they are printed and their signed scan uploaded."""

    list_display = ["number", "order", "shipment", "created_at", "place", "signed"]
    list_select_related = ["order", "shipment"]
    search_fields = ["order__number", "shipment__tracking_number"]
    fields = ["number", "order", "shipment", "attempt", "place", "note", "lines_table", "created_at", "created_by"]
    readonly_fields = fields
    change_form_template = "admin/shipping/actofdiscrepancy/change_form.html"

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or _can_record(request)

    @admin.display(description=_("signed scan"), boolean=True)
    def signed(self, obj: ActOfDiscrepancy) -> bool:
        return bool(obj.scan)

    @admin.display(description=_("ordered vs handed over"))
    def lines_table(self, obj: ActOfDiscrepancy):
        rows = (
            (r.order_line.product_name, r.quantity_expected, r.quantity_handed_over, r.quantity_missing)
            for r in obj.lines.select_related("order_line")
        )
        return format_html_join(
            "", "<div>{}: {} in the parcel, {} handed over, <strong>{} missing</strong></div>", rows
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        own = [
            path("draw-up/<int:attempt_id>/", view(self.draw_up_view), name="shipping_actofdiscrepancy_draw_up"),
            path("<int:act_id>/pdf/", view(self.pdf_view), name="shipping_actofdiscrepancy_pdf"),
            path("<int:act_id>/scan/", view(self.scan_view), name="shipping_actofdiscrepancy_scan"),
            path("<int:act_id>/scan/file/", view(self.scan_file_view), name="shipping_actofdiscrepancy_scan_file"),
        ]
        return own + super().get_urls()

    def _act(self, request, act_id) -> ActOfDiscrepancy:
        if not _can_record(request):
            raise PermissionDenied
        return get_object_or_404(ActOfDiscrepancy.objects.select_related("order", "shipment", "attempt"), pk=act_id)

    def _order_page(self, request, order, form, *, title, submit):
        return self.admin_site._registry[Order]._object_page(request, order, form, title=title, submit=submit)

    def draw_up_view(self, request, attempt_id: int):
        if not _can_record(request):
            raise PermissionDenied
        attempt = get_object_or_404(
            DeliveryAttempt.objects.select_related("order", "shipment"),
            pk=attempt_id,
            outcome=DeliveryOutcome.DELIVERED,
        )
        form = ActForm(request.POST or None, attempt=attempt)
        if request.method == "POST" and form.is_valid():
            try:
                act = acts.act_draw_up(
                    attempt_id=attempt.pk,
                    handed_over=form.handed_over(),
                    place=form.cleaned_data["place"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except acts.ActError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                self.message_user(
                    request,
                    _("%(act)s drawn up and e-mailed. Print it, have it signed, upload the scan.")
                    % {"act": act.number},
                )
                return HttpResponseRedirect(reverse("admin:shipping_actofdiscrepancy_change", args=[act.pk]))
        title = _("Act of Discrepancy for parcel %(parcel)s of %(number)s") % {
            "parcel": attempt.shipment_id,
            "number": attempt.order.number,
        }
        return self._order_page(request, attempt.order, form, title=title, submit=_("Draw up the act"))

    def pdf_view(self, request, act_id: int):
        act = self._act(request, act_id)
        return _pdf_response(acts.act_pdf(act), f"act-of-discrepancy-{act.number}.pdf")

    def scan_view(self, request, act_id: int):
        act = self._act(request, act_id)
        form = ActScanForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                acts.act_attach_scan(act_id=act.pk, scan=form.cleaned_data["scan"], actor=request.user)
            except acts.ActError as exc:
                form.add_error("scan", str(exc))
            else:
                self.message_user(request, _("%(act)s: the signed scan is stored.") % {"act": act.number})
                return HttpResponseRedirect(reverse("admin:shipping_actofdiscrepancy_change", args=[act.pk]))
        title = _("%(act)s: upload the signed scan") % {"act": act.number}
        return self._order_page(request, act.order, form, title=title, submit=_("Upload"))

    def scan_file_view(self, request, act_id: int):
        """The signed scan, to staff only (media is never served publicly)."""
        act = self._act(request, act_id)
        if not act.scan:
            raise Http404("No scan uploaded yet.")
        return FileResponse(act.scan.open("rb"), as_attachment=False, filename=act.scan.name.rsplit("/", 1)[-1])


@admin.register(ShortDeliveryClaim)
class ShortDeliveryClaimAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """REF-SHORT-DELIVERY: short-delivery cases; one without an Act of Discrepancy is flagged and may be declined."""

    list_display = ["pk", "order", "shipment", "status", "created_at", "act_flag"]
    list_filter = ["status"]
    list_select_related = ["order"]
    search_fields = ["order__number"]
    actions = ["send_replacement", "decline_without_act"]
    fields = ["order", "shipment", "status", "statement", "created_at", "decline_reason"]
    readonly_fields = fields

    def get_queryset(self, request):
        acts_of_order = ActOfDiscrepancy.objects.filter(order_id=models.OuterRef("order_id"))
        return (
            super()
            .get_queryset(request)
            .filter(kind=CaseKind.SHORT_DELIVERY)
            .annotate(has_act=models.Exists(acts_of_order))
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("refunds.view_case")

    def has_module_permission(self, request) -> bool:
        return request.user.has_perm("refunds.view_case")

    def has_decline_permission(self, request) -> bool:
        return request.user.has_perm("refunds.change_case")

    @admin.display(description=_("Act of Discrepancy"), ordering="has_act")
    def act_flag(self, obj):
        if obj.has_act:
            return format_html('<span class="act-ok">{}</span>', "✔ act drawn up")
        return format_html('<strong class="act-missing" style="color:#b00">{}</strong>', "⚠ no act: may be declined")

    @admin.action(description=_("Send the missing items in a replacement order (no charge)"), permissions=["decline"])
    def send_replacement(self, request, queryset):
        for case_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                replacement = parcels.short_delivery_replace(case_id=case_id, actor=request.user)
            except ServiceError as exc:
                self.message_user(request, f"Case {case_id}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Case %(case)s: replacement order %(number)s is in the work queue.")
                    % {"case": case_id, "number": replacement.number},
                )

    @admin.action(description=_("Decline: no Act of Discrepancy (the customer is e-mailed)"), permissions=["decline"])
    def decline_without_act(self, request, queryset):
        declined = 0
        for case_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                parcels.short_delivery_decline_without_act(case_id=case_id, actor=request.user)
                declined += 1
            except ServiceError as exc:  # an act exists, or the case is no longer open: said, nothing changed
                self.message_user(request, f"Case {case_id}: {exc}", messages.ERROR)
        if declined:
            self.message_user(request, f"Declined for lack of an act: {declined} case(s); the customers were e-mailed.")
