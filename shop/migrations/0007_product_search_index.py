"""Full-text search of the catalogue on PostgreSQL: a GIN index over the document that
``shop.search.product_search_vector`` searches (name, SKU, description; ``simple`` configuration).

Other databases (SQLite in development) search with a plain match and get no index; the state of the
models does not change, so ``makemigrations`` stays clean on every database.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX = GinIndex(SearchVector("name", "sku", "description", config="simple"), name="shop_product_search")


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("shop", "Product"), INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("shop", "Product"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("shop", "0006_product_pictures")]

    operations = [migrations.RunPython(create_index, drop_index)]
