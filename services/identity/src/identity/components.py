"""What identity's use cases and servicers work with, built once in ``main.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fieldvault_platform.db import Database
from fieldvault_platform.vault import VaultClient
from identity.callers import Callers
from identity.settings import Settings
from identity.signing import TokenSigner

#: Transit key of identity's keyed hashes (API-client secrets, invitation tokens).
HMAC_KEY = "fv-identity-hmac"
#: Transit key TOTP seeds are encrypted with.
TOTP_KEY = "fv-identity-totp"


@dataclass(frozen=True)
class Components:
    settings: Settings
    database: Database
    vault: VaultClient
    signer: TokenSigner
    callers: Callers
    #: Nudges the outbox relay after a commit that added events, so revocations
    #: reach NATS at once rather than at the relay's next poll.
    wake_relay: Callable[[], None]
