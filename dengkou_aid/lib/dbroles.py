"""The application's runtime database role: rows only, never the schema.

Production runs with two PostgreSQL roles. The owner owns the tables, runs the migrations and
so also owns the triggers that keep signed records immutable. The runtime role, the one
gunicorn and Celery sign in as, may SELECT, INSERT, UPDATE and DELETE rows and draw from the
sequences, and nothing else: no TRUNCATE, no TRIGGER, no REFERENCES, no ALTER or DROP (which
only an owner can do), so it cannot switch the triggers off or empty a table around them.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

ROW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


class RoleRefused(Exception):
    """The named role cannot serve as the runtime role."""


@dataclass(frozen=True)
class Granted:
    role: str
    owner: str
    schema: str
    tables: int
    sequences: int


def grant_runtime_role(role: str) -> Granted:
    """Give `role` row privileges on every table and sequence of the schema, now and later.

    Run as the owner (the role that runs the migrations): the default privileges apply to
    tables the owner creates later, so a new migration needs no new grant.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
        _refuse_unfit(cursor, role, owner)
        q = connection.ops.quote_name
        r, s, o = q(role), q(schema), q(owner)
        for statement in (
            f"REVOKE ALL ON SCHEMA {s} FROM {r}",
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"GRANT {ROW_PRIVILEGES} ON ALL TABLES IN SCHEMA {s} TO {r}",
            f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} REVOKE ALL ON TABLES FROM {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} "
            f"GRANT {ROW_PRIVILEGES} ON TABLES TO {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} REVOKE ALL ON SEQUENCES FROM {r}",
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE ON SEQUENCES TO {r}",
        ):
            cursor.execute(statement)
        cursor.execute(
            "SELECT count(*) FILTER (WHERE relkind IN ('r', 'p', 'v', 'm')),"
            " count(*) FILTER (WHERE relkind = 'S')"
            " FROM pg_class WHERE relnamespace = %s::regnamespace",
            [schema],
        )
        tables, sequences = cursor.fetchone()
    return Granted(role=role, owner=owner, schema=schema, tables=tables, sequences=sequences)


def _refuse_unfit(cursor, role: str, owner: str) -> None:
    cursor.execute(
        "SELECT rolsuper OR rolbypassrls, pg_has_role(rolname, %s, 'USAGE'),"
        " EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace"
        "         AND pg_has_role(r.rolname, c.relowner, 'USAGE'))"
        " FROM pg_roles r WHERE rolname = %s",
        [owner, role],
    )
    row = cursor.fetchone()
    if row is None:
        raise RoleRefused(f"role {role!r} does not exist; create it first (CREATE ROLE … LOGIN)")
    superuser, member_of_owner, owns_tables = row
    if superuser:
        raise RoleRefused(f"role {role!r} is a superuser: it would bypass every privilege")
    if member_of_owner or owns_tables:
        raise RoleRefused(f"role {role!r} owns tables here: it could alter or drop them")


@contextmanager
def triggers_suspended(*tables: str):
    """Switch the tables' own triggers off for the current transaction (the owner only).

    For the benchmark commands, which fabricate or remove their own synthetic history on a
    database of their own; the runtime role cannot do this, and the application never does.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("suspend triggers inside transaction.atomic() only")
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {q(table)} DISABLE TRIGGER USER")
        yield
        # Re-enabling waits for no queued foreign-key check: run the deferred ones now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f"ALTER TABLE {q(table)} ENABLE TRIGGER USER")
