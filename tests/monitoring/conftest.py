"""The helpers in ``monitoring_sources`` are importable from the monitoring tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
