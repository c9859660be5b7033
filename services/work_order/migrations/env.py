"""Alembic environment for work_order; run through ``python -m work_order migrate``."""

from fieldvault_platform.migrations import run_env
from work_order.models import MIGRATED_METADATA

run_env(MIGRATED_METADATA)
