"""What the servicer needs, built once in the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.db import Database
from notification.settings import Settings
from notification.webhooks.secret_box import SecretBox


@dataclass(frozen=True)
class Components:
    settings: Settings
    database: Database
    callers: Callers
    box: SecretBox
    sms_available: bool
