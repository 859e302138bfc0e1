"""Small pieces every app's admin shares.

Staff read orders, payments, refunds and the outbox in the admin, but every change goes through
a service function (an admin action or form calls it): those admins are read-only by permission.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections, router
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext


class ReadOnlyAdminMixin:
    """No add, change or delete through the admin's own forms (ModelAdmin and inlines alike)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def run_for_each(modeladmin, request, queryset, service, label: str, *, errors: tuple = ()) -> int:
    """Call ``service(order_id=…, actor=staff)`` for each selected row, in pk order.

    A refusal listed in ``errors`` is shown to staff as an error message and the loop goes on with
    the next row (each service call is its own transaction). Returns how many succeeded.
    """
    done = 0
    for pk in queryset.order_by("pk").values_list("pk", flat=True):
        try:
            service(order_id=pk, actor=request.user)
            done += 1
        except errors as exc:
            modeladmin.message_user(request, str(exc), messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done} order(s).", messages.SUCCESS)
    return done


class EstimatedCountPaginator(Paginator):
    """A changelist paginator whose count of a whole large table is PostgreSQL's own estimate.

    Issue #14: an exact ``COUNT(*)`` reads every row (about 15 ms at 100,000 orders, growing with
    the table). When the list is neither filtered nor searched and the planner's figure
    (``pg_class.reltuples``, kept by autovacuum's ANALYZE) is at least ``ESTIMATE_FROM`` rows, that
    figure is the count: the page links stay right to within the estimate's drift, and the last page
    is still reachable (a page beyond the end shows the last one). A filtered list, a small table,
    a table never analysed and SQLite are counted exactly.
    """

    ESTIMATE_FROM = 20_000

    @cached_property
    def count(self) -> int:
        estimate = self._estimate()
        return estimate if estimate is not None else super().count

    def _estimate(self) -> int | None:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet) or queryset.query.where or queryset.query.distinct:
            return None
        db = router.db_for_read(queryset.model)
        if connections[db].vendor != "postgresql":
            return None
        with connections[db].cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table])
            row = cursor.fetchone()
        estimate = int(row[0]) if row else -1
        return estimate if estimate >= self.ESTIMATE_FROM else None


class InUseRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """``RelatedOnlyFieldListFilter`` without the scan: the related rows some listed row points at.

    Django's filter reads ``SELECT DISTINCT fk FROM <every listed row>`` on each page (80 ms at
    100,000 orders). Here each related row (regions: a handful) is probed with ``EXISTS`` through
    the foreign key's index: the same choices, in the same order, at a cost that does not grow.
    """

    def field_choices(self, field, request, model_admin):
        used = model_admin.get_queryset(request).filter(**{self.field_path: OuterRef("pk")})
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(include_blank=False, limit_choices_to=Q(Exists(used)), ordering=ordering)


class QuickActionCheckboxMixin:
    """The changelist's row checkbox as one ``format_html`` instead of a widget template per row.

    Django renders ``action_checkbox`` through the form renderer (two templates a row): about a third
    of a 50-row order list. The markup is the same, attribute for attribute.
    """

    def action_checkbox(self, obj):
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )
