"""work-order under test: in-process, with its real peers — a real identity process (the
session's), a real customer-vault in-process — and real OpenBao, NATS and databases."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

pytest_plugins = ["work_order_fixtures"]
