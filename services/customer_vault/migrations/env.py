"""Alembic environment for customer_vault; run through ``python -m customer_vault migrate``."""

from fieldvault_platform.migrations import run_env

from customer_vault.models import Base

run_env(Base.metadata)
