"""Small pieces every app's admin shares.

Staff read orders, payments, refunds and the outbox in the admin, but every change goes through
a service function (an admin action or form calls it): those admins are read-only by permission.
"""

from django.contrib import messages


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
