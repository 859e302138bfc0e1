"""Issue #8: status is the fulfilment life only; payment status and holds are their own (schema part).

0004 moves existing rows to the new shape; 0005 drops the columns it read."""

import django.db.models.deletion
import django.db.models.expressions
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_pricecorrection"),
        ("shop", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderHold",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("price_confirmation", "Waiting for your answer on a corrected price"),
                            ("fraud_review", "Card payment being checked"),
                            ("stock_decision", "Waiting for your choice: an item is unavailable"),
                            ("claim", "Return or claim in progress"),
                        ],
                        max_length=30,
                    ),
                ),
                ("opened_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("due_at", models.DateTimeField(blank=True, null=True)),
                ("note", models.CharField(blank=True, max_length=300)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("resolution", models.CharField(blank=True, max_length=300)),
            ],
            options={
                "ordering": ["opened_at", "pk"],
            },
        ),
        migrations.AddField(
            model_name="order",
            name="payment_status",
            field=models.CharField(
                choices=[
                    ("unpaid", "Not paid"),
                    ("partially_paid", "Partly paid"),
                    ("paid", "Paid"),
                    ("overpaid", "Paid more than the total"),
                    ("partially_refunded", "Partly refunded"),
                    ("refunded", "Refunded"),
                ],
                db_index=True,
                default="unpaid",
                editable=False,
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_cancelled",
            field=models.PositiveIntegerField(default=0, verbose_name="cancelled"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_delivered",
            field=models.PositiveIntegerField(default=0, verbose_name="delivered"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_refused",
            field=models.PositiveIntegerField(default=0, verbose_name="refused"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_returned",
            field=models.PositiveIntegerField(default=0, verbose_name="returned"),
        ),
        migrations.AddField(
            model_name="orderline",
            name="quantity_shipped",
            field=models.PositiveIntegerField(default=0, verbose_name="shipped"),
        ),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("awaiting_payment", "Awaiting payment"),
                    ("processing", "Processing"),
                    ("packed", "Packed"),
                    ("partially_shipped", "Partially shipped"),
                    ("shipped", "Shipped"),
                    ("delivered", "Arrived, awaiting collection"),
                    ("completed", "Completed"),
                    ("cancelled", "Cancelled"),
                    ("refused", "Refused at delivery"),
                ],
                db_index=True,
                max_length=30,
            ),
        ),
        migrations.AlterField(
            model_name="orderevent",
            name="type",
            field=models.CharField(
                choices=[
                    ("placed", "Order placed"),
                    ("status_changed", "Status changed"),
                    ("cancelled", "Cancelled"),
                    ("paid", "Payment confirmed"),
                    ("payment_status_changed", "Payment status changed"),
                    ("hold_opened", "Hold opened"),
                    ("hold_released", "Hold released"),
                    ("stock_taken", "Stock reserved"),
                    ("stock_released", "Stock returned"),
                    ("stock_short", "Stock short"),
                    ("price_error_marked", "Price corrected"),
                    ("price_error_accepted", "Corrected price accepted"),
                    ("price_error_declined", "Corrected price declined"),
                    ("price_error_timed_out", "Corrected price not answered in time"),
                    ("fraud_review_approved", "Card payment approved"),
                    ("fraud_review_rejected", "Card payment rejected"),
                    ("email_queued", "E-mail queued"),
                    ("payment_started", "Payment started"),
                    ("payment_moved", "Payment status"),
                    ("payment_confirmed", "Paid at the door"),
                    ("payment_failed", "Payment failed"),
                    ("payment_review", "Payment held for review"),
                    ("refund_requested", "Refund started"),
                    ("refund_moved", "Refund status"),
                    ("refund_sent", "Refund sent"),
                    ("refund_failed", "Refund failed"),
                    ("refund_bank_details", "Refund bank account received"),
                    ("items_refused", "Items refused at delivery"),
                    ("delivery_failed", "Delivery failed"),
                ],
                db_index=True,
                max_length=40,
            ),
        ),
        migrations.AlterField(
            model_name="orderline",
            name="quantity",
            field=models.PositiveIntegerField(verbose_name="ordered"),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity_cancelled__lte", models.F("quantity"))),
                name="orderline_cancelled_le_ordered",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "quantity_shipped__lte",
                        django.db.models.expressions.CombinedExpression(
                            models.F("quantity"), "-", models.F("quantity_cancelled")
                        ),
                    )
                ),
                name="orderline_shipped_le_open",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "quantity_delivered__lte",
                        django.db.models.expressions.CombinedExpression(
                            models.F("quantity_shipped"), "-", models.F("quantity_refused")
                        ),
                    )
                ),
                name="orderline_outcomes_le_shipped",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderline",
            constraint=models.CheckConstraint(
                condition=models.Q(("quantity_returned__lte", models.F("quantity_delivered"))),
                name="orderline_returned_le_delivered",
            ),
        ),
        migrations.AddField(
            model_name="orderhold",
            name="opened_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="orderhold",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="holds", to="orders.order"
            ),
        ),
        migrations.AddField(
            model_name="orderhold",
            name="released_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="orderhold",
            index=models.Index(
                condition=models.Q(("released_at__isnull", True)),
                fields=["kind", "due_at"],
                name="orderhold_open_due_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="orderhold",
            constraint=models.UniqueConstraint(
                condition=models.Q(("released_at__isnull", True)),
                fields=("order", "kind"),
                name="orderhold_one_open_per_kind",
            ),
        ),
    ]
