"""Full-text search over the name and description in both languages (``shop.search.SEARCH_FIELDS``).

The GIN index of 0007 covered the untranslated columns only, so a Russian name found nothing on
PostgreSQL; this one covers exactly the document ``shop.search.product_search_vector`` builds.
Other databases get no index (as in 0007).
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

OLD = GinIndex(SearchVector("name", "sku", "description", config="simple"), name="shop_product_search")
NEW = GinIndex(
    SearchVector("name_ru", "name_en", "sku", "description_ru", "description_en", config="simple"),
    name="shop_product_search",
)


def _swap(remove, add):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            product = apps.get_model("shop", "Product")
            schema_editor.remove_index(product, remove)
            schema_editor.add_index(product, add)

    return run


class Migration(migrations.Migration):
    dependencies = [("shop", "0015_catalogue_translation_indexes")]

    operations = [migrations.RunPython(_swap(OLD, NEW), _swap(NEW, OLD))]
