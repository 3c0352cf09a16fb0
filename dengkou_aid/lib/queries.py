"""Settings of PostgreSQL's planner for the few large reads (dashboard counts, nightly checks).

Domain-free, below every app: `supervision.selectors` and `supervision.summary` both use it,
so neither imports the other back for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def no_jit() -> Iterator[None]:
    """PostgreSQL's JIT spends a few hundred ms compiling each large aggregate for no gain."""
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")
