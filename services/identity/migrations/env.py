"""Alembic environment for identity; run through ``python -m identity migrate``."""

from fieldvault_platform.migrations import run_env
from identity.models import MIGRATED_METADATA

run_env(MIGRATED_METADATA)
