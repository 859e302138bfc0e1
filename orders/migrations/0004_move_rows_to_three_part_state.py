"""Issue #8: existing orders move to the three-part state (status, payment status, holds).

- Old hold-like statuses become a fulfilment status plus an open ``OrderHold``: ``fraud_check`` →
  processing + fraud review; ``stock_decision`` → processing + stock decision; ``price_confirmation``
  → the status it came from (``status_before_price_check``) + price confirmation due at
  ``price_answer_by``; ``claim_open`` → completed + claim. ``paid`` → processing; ``refunded`` →
  refused if the order was refused, else completed (the refund is in the payment status now).
- ``payment_status`` is derived from the payments and refunds rows (``derive_payment_status``).
- A cancelled order's lines are cancelled in full.
- Event types written twice under one name get their own: ``price_error_answered`` → accepted /
  declined; ``fraud_check`` → approved / rejected.
"""

from decimal import Decimal

from django.db import migrations
from django.db.models import F
from django.utils import timezone

from orders.models import derive_payment_status

_HOLD_STATUSES = {"fraud_check": "fraud_review", "stock_decision": "stock_decision", "claim_open": "claim"}
_PLAIN = {"paid": "processing", "fraud_check": "processing", "stock_decision": "processing", "claim_open": "completed"}
_CAPTURED = ("completed", "partially_refunded", "refunded", "review")


def _amount(value) -> Decimal:
    return Decimal(str(getattr(value, "amount", value) or 0))


def _move_statuses(Order, OrderHold, OrderEvent, now):
    old = ["paid", "fraud_check", "stock_decision", "claim_open", "refunded", "price_confirmation"]
    for order in Order.objects.filter(status__in=old).order_by("pk"):
        status = order.status
        holds = []
        if status == "price_confirmation":
            holds.append(("price_confirmation", order.price_answer_by))
            status = order.status_before_price_check or "awaiting_payment"
        if status in _HOLD_STATUSES:
            holds.append((_HOLD_STATUSES[status], None))
        if status == "refunded":
            refused = OrderEvent.objects.filter(
                order=order, type="status_changed", parameters__target="refused"
            ).exists()
            status = "refused" if refused else "completed"
        order.status = _PLAIN.get(status, status)
        order.save(update_fields=["status"])
        for kind, due_at in holds:
            OrderHold.objects.create(
                order=order, kind=kind, due_at=due_at, opened_at=now, note="Moved from the old status."
            )


def _split_event_types(OrderEvent):
    for event in OrderEvent.objects.filter(type__in=["price_error_answered", "fraud_check"]).order_by("pk"):
        yes = bool((event.parameters or {}).get("accepted" if event.type == "price_error_answered" else "approved"))
        if event.type == "price_error_answered":
            event.type = "price_error_accepted" if yes else "price_error_declined"
        else:
            event.type = "fraud_review_approved" if yes else "fraud_review_rejected"
        event.save(update_fields=["type"])


def _payment_statuses(Order, Payment, Refund):
    for order_id in Payment.objects.values_list("order_id", flat=True).distinct():
        order = Order.objects.get(pk=order_id)
        captured = sum(
            (_amount(p.captured_amount) for p in Payment.objects.filter(order_id=order_id, status__in=_CAPTURED)),
            Decimal("0"),
        )
        refunded = sum(
            (_amount(r.amount) for r in Refund.objects.filter(order_id=order_id, status="sent")), Decimal("0")
        )
        order.payment_status = derive_payment_status(total=_amount(order.total), captured=captured, refunded=refunded)
        order.save(update_fields=["payment_status"])


def forwards(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    OrderHold = apps.get_model("orders", "OrderHold")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    OrderLine = apps.get_model("orders", "OrderLine")
    _move_statuses(Order, OrderHold, OrderEvent, timezone.now())
    _split_event_types(OrderEvent)
    OrderLine.objects.filter(order__status="cancelled").update(quantity_cancelled=F("quantity"))
    _payment_statuses(Order, apps.get_model("payments", "Payment"), apps.get_model("payments", "Refund"))


class Migration(migrations.Migration):
    dependencies = [("orders", "0003_three_part_state"), ("payments", "0001_initial")]

    # Forward only: the old single status cannot hold two holds at once, so there is no faithful way back.
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
