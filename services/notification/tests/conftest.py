"""notification tests: real identity process, nats-server and database; a real SMTP
server (aiosmtpd) and a real HTTP receiver for webhooks and the SMS gateway."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The fixtures live in a module of a unique name (test helpers of every service share
# one import namespace); importing them here makes them this directory's fixtures.
from notification_fixtures import notification, receiver, smtp  # noqa: F401
