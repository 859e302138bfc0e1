"""Staff pages of fulfilment. Thin: every change is a call to one service in ``shipping.services``."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from orders import services as order_services
from orders.admin import OrderAdmin
from orders.models import Order
from shop.admin_tools import ReadOnlyAdminMixin

from .models import FulfilmentPartner, PartnerNotice, PartnerNoticeAttempt, StockoutVia, StockShortage
from .services import partners, stockout
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
    verbose_name_plural = "fulfilment partner notices (SHIP-SUBCONTRACTOR)"

    def has_view_permission(self, request, obj=None) -> bool:
        return _can_view(request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("partner").prefetch_related("attempt_log")

    @admin.display(description="tries")
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

    @admin.display(description="order", ordering="order__number")
    def order_link(self, obj: PartnerNotice):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.number
        )

    @admin.display(description="last error")
    def last_error_short(self, obj: PartnerNotice):
        return obj.last_error[:120]

    @admin.display(description="payload (the JSON body sent)")
    def payload_pretty(self, obj: PartnerNotice):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True))

    @admin.action(description="Send again now", permissions=["resend"])
    def send_again_now(self, request, queryset):
        queued = skipped = 0
        for notice_id in queryset.order_by("pk").values_list("pk", flat=True):
            if partners.partner_notice_send_now(notice_id=notice_id, actor=request.user):
                queued += 1
            else:
                skipped += 1
        if queued:
            self.message_user(request, f"{queued} notice(s) queued to be sent now.", messages.SUCCESS)
        if skipped:
            text = f"{skipped} notice(s) already delivered: a delivered notice is never sent again."
            self.message_user(request, text, messages.INFO)
