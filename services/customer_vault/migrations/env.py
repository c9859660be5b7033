"""Alembic environment for customer_vault; run through ``python -m customer_vault migrate``."""

from customer_vault.models import MIGRATED_METADATA
from fieldvault_platform.migrations import run_env

run_env(MIGRATED_METADATA)
