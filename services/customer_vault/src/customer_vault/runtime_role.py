"""Least privilege for the running service when migrations run as the database owner.

With ``RUNTIME_DATABASE_ROLE`` set, ``python -m customer_vault migrate`` (run
with the owner's URL) ends by granting that role what serving needs and no
more (PostgreSQL only): SELECT, INSERT, UPDATE, DELETE on the service's
tables, except the audit records, which get only SELECT and INSERT; the
trigger that refuses UPDATE and DELETE then guards a table the runtime role
could not change anyway, and only the owner can drop it. The chain heads
change on every append, so the runtime role may update them (never delete
them): their integrity comes from the Vault MAC, not from privileges (see
:mod:`customer_vault.audit`). Re-run on every migrate, so tables added later
are covered; idempotent (each table's grants are reset first).
"""

from __future__ import annotations

import re

from sqlalchemy import text

from customer_vault.models import MIGRATED_METADATA
from fieldvault_platform.db import create_engine

#: Append-only: the runtime role reads and adds, never changes or removes.
AUDIT_TABLES = frozenset({"audit_records"})
#: Changed on every append, never removed.
HEAD_TABLES = frozenset({"audit_chain_heads"})
#: Written only by the owner's retention purge; the service just reads them.
READ_ONLY_TABLES = frozenset({"audit_checkpoints"})
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def privileges(table: str) -> str:
    if table in AUDIT_TABLES:
        return "SELECT, INSERT"
    if table in HEAD_TABLES:
        return "SELECT, INSERT, UPDATE"
    if table in READ_ONLY_TABLES:
        return "SELECT"
    return "SELECT, INSERT, UPDATE, DELETE"


def service_tables() -> list[str]:
    return sorted({table for metadata in MIGRATED_METADATA for table in metadata.tables})


async def grant_runtime_privileges(database_url: str, role: str) -> list[str]:
    """Grant ``role`` the runtime privileges; returns the statements run (no secrets)."""
    if not _ROLE.fullmatch(role):
        raise ValueError("the runtime database role must be a plain lower-case identifier")
    engine = create_engine(database_url)
    statements: list[str] = []
    try:
        if engine.dialect.name != "postgresql":
            return statements  # SQLite has no roles: one file, one owner
        async with engine.begin() as connection:
            owner = await connection.scalar(text("SELECT current_user"))
            if owner == role:
                raise ValueError(
                    "the runtime database role must not be the role that runs migrations"
                )
            statements.append(f'GRANT USAGE ON SCHEMA public TO "{role}"')
            for table in service_tables():
                statements.append(f'REVOKE ALL ON TABLE "{table}" FROM "{role}"')
                statements.append(f'GRANT {privileges(table)} ON TABLE "{table}" TO "{role}"')
            statements.append(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
            for statement in statements:
                # The role name is checked above; table names come from the models.
                await connection.execute(text(statement))
    finally:
        await engine.dispose()
    return statements
