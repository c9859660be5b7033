"""Alembic environment for notification; run through ``python -m notification migrate``."""

from fieldvault_platform.migrations import run_env
from notification.models import MIGRATED_METADATA

run_env(MIGRATED_METADATA)
