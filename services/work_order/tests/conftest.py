"""work-order under test: in-process, with its real peers — a real identity process (the
session's), a real customer-vault in-process — and real OpenBao, NATS and databases."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The fixtures live in a module of a unique name (test helpers of every service share
# one import namespace); importing them here makes them this directory's fixtures.
from work_order_fixtures import partner_token, stack, vault_only  # noqa: F401
