"""Issue #8: the old hold bookkeeping on the order is gone (0004 moved it to OrderHold rows)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_move_rows_to_three_part_state")]

    operations = [
        migrations.RemoveField(model_name="order", name="price_answer_by"),
        migrations.RemoveField(model_name="order", name="status_before_price_check"),
    ]
