"""Set-based writes on PostgreSQL: COPY rows into a table, INSERT … SELECT into a model's table.

For writes of tens of thousands of rows, where building a model instance per row and
preparing each value costs more than the database's own work. Values are written as given:
a caller that fills an encrypted or hashed column computes it in Python first.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone

__all__ = ["copy_rows", "insert_select", "sequence_of"]

_NULL = "\\N"


def copy_rows(
    cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY rows (tuples of str, int, Decimal, date, bool or None) into a table; return the count.

    The rows travel as CSV, where an unquoted \\N is NULL and anything else, the empty string
    too, is the value itself; the string "\\N" itself cannot be written (ValueError).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    count = 0
    for row in rows:
        writer.writerow(
            [_NULL if v is None else _not_null_marker(v) if v == _NULL else v for v in row]
        )
        count += 1
    if count:
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '{_NULL}')",
            buffer,
        )
    return count


def _not_null_marker(value: Any) -> Any:
    raise ValueError(f"cannot COPY the string {_NULL!r}: it stands for NULL")


def sequence_of(model: type[models.Model]) -> str:
    """The quoted name of the sequence behind a model's primary key, for nextval()."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
        (name,) = cursor.fetchone()
    return name


def insert_select(
    cursor: Any,
    model: type[models.Model],
    values: Mapping[str, str],
    source: str,
    params: Mapping[str, Any] | None = None,
) -> int:
    """INSERT INTO the model's table SELECT `values` (column -> SQL expression) FROM `source`.

    Every column not in `values` gets its field's default, prepared as Model() and bulk_create
    would (auto_now fields: now), so a field added later with a default needs no change here.
    Expressions use named parameters only (%(name)s), taken from `params`. Returns the row count.
    """
    now = timezone.now()
    columns, expressions = [], []
    arguments: dict[str, Any] = dict(params or {})
    unknown = set(values) - {f.column for f in model._meta.concrete_fields}
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    for field in model._meta.concrete_fields:
        if field.column in values:
            expression = values[field.column]
        elif field.primary_key:
            continue
        else:
            name = f"default_{field.column}"
            arguments[name] = field.get_db_prep_save(_default(field, now), connection)
            expression = f"%({name})s"
        columns.append(connection.ops.quote_name(field.column))
        expressions.append(expression)
    table = connection.ops.quote_name(model._meta.db_table)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source}",
        arguments,
    )
    return cursor.rowcount


def _default(field: models.Field, now: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()
