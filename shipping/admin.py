"""Staff pages of fulfilment. Thin: every change is a call to one service in ``shipping.services``."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from orders import services as order_services
from orders.admin import OrderAdmin
from orders.models import Order
from shop.admin_tools import ReadOnlyAdminMixin

from .errors import ShipmentError
from .forms import ShipmentCreateForm
from .models import FulfilmentPartner, Shipment, StockoutVia, StockShortage
from .services import shipments, stockout
from .services.stockout import StockoutError
from .stockout_forms import StockoutDateForm, StockoutPhoneForm, StockoutReportForm


@admin.register(FulfilmentPartner)
class FulfilmentPartnerAdmin(admin.ModelAdmin):
    """SHIP-SUBCONTRACTOR: who is told about each ready order; one is the default."""

    list_display = ["name", "email", "endpoint", "is_default", "is_active"]
    list_filter = ["is_default", "is_active"]
    search_fields = ["name", "email"]


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
    verbose_name_plural = "unavailable items (SHIP-STOCKOUT)"
    template = "admin/shipping/stockshortage/order_inline.html"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line", "hold", "decided_by")

    @admin.display(description="choice due by")
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

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj: StockShortage):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description="choice due by", ordering="hold__due_at")
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
        done = f"Order {order.number}: the customer was asked to choose."
        return self._run(request, order, form, call, done) or self._page(
            request, order, form, title=f"Report missing items of order {order.number}", submit="Ask the customer"
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

        done = f"Order {order.number}: the customer's choice is recorded."
        return self._run(request, order, form, call, done) or self._page(
            request, order, form, title=f"Record a choice by phone for order {order.number}", submit="Record the choice"
        )

    def date_view(self, request, order_id):
        """The date the missing part ships by (split)."""
        order = self._order(request, order_id)
        form = StockoutDateForm(request.POST if request.method == "POST" else None)
        call = lambda data: stockout.stockout_set_date(order_id=order.pk, new_date=data["new_date"], actor=request.user)  # noqa: E731
        done = f"Order {order.number}: the date is set."
        return self._run(request, order, form, call, done) or self._page(
            request, order, form, title=f"Date for the missing part of order {order.number}", submit="Set the date"
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
                self.message_user(request, f"Order {order.number}: the arrived items are reserved.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))


# --- SHIP-METHODS, SHIP-NOTICES: parcels on the order page, and Create shipment ----------------------
class _ShipmentColumns:
    """The tracking link and the parcel's contents, for the inline on the order and the shipment pages."""

    @admin.display(description="tracking number")
    def tracking(self, obj: Shipment):
        if obj.tracking_url:
            return format_html('<a href="{}" rel="noopener">{}</a>', obj.tracking_url, obj.tracking_number)
        return obj.tracking_number or "—"

    @admin.display(description="in the parcel")
    def contents(self, obj: Shipment):
        return format_html_join(", ", "{} × {}", ((i.quantity, i.order_line.product_name) for i in obj.lines.all()))


class ShipmentInline(_ShipmentColumns, ReadOnlyAdminMixin, admin.TabularInline):
    """SHIP-NOTICES: the order's parcels: when, how, tracking, expected window and contents."""

    model = Shipment
    extra = 0
    fields = ["shipped_at", "method", "carrier", "tracking", "expected_from", "expected_to", "status", "contents"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("method").prefetch_related("lines__order_line")


OrderAdmin.inlines = [*OrderAdmin.inlines, ShipmentInline]


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
        own = [
            path(
                "create/<int:order_id>/",
                self.admin_site.admin_view(self.create_view),
                name="shipping_shipment_create",
            )
        ]
        return own + super().get_urls()

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
                    request, f"Parcel {shipment.pk} of order {order.number} shipped; the customer was e-mailed."
                )
                return HttpResponseRedirect(order_url)
        return self.admin_site._registry[Order]._object_page(
            request, order, form, title=f"Create shipment for order {order.number}", submit="Ship"
        )
