"""Big tables for EXPLAIN tests on PostgreSQL (not a test module): copies of one row, made by the database."""

from __future__ import annotations

from django.db import connection


def clone_rows(model, template_pk: int, count: int, overrides: dict[str, str]) -> None:
    """``count`` copies of the row ``template_pk`` in one INSERT … SELECT over ``generate_series(1, count) g``.

    ``overrides`` maps a column to an SQL expression of ``g`` (unique columns need one), then ANALYZE.
    """
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    names = ", ".join(f'"{column}"' for column in columns)
    values = ", ".join(overrides.get(column, f't."{column}"') for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} t, generate_series(1, {count}) g "
            "WHERE t.id = %s",
            [template_pk],
        )
        cursor.execute(f"ANALYZE {table}")
