"""What customer-vault's use cases and servicers work with, built once in ``main.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from customer_vault.audit import AuditTrail
from customer_vault.blind_index import BlindIndex
from customer_vault.dpa import DpaStatus
from customer_vault.keys import TenantKeys
from customer_vault.records.instructions import InstructionsGate
from customer_vault.settings import Settings
from fieldvault_platform.auth.callers import Callers
from fieldvault_platform.db import Database
from fieldvault_platform.vault import VaultClient


@dataclass(frozen=True)
class Components:
    settings: Settings
    database: Database
    vault: VaultClient
    keys: TenantKeys
    blind_index: BlindIndex
    callers: Callers
    dpa: DpaStatus
    audit: AuditTrail
    #: Refuses people customer data until they acknowledged the handling instructions.
    instructions: InstructionsGate
    #: Nudges the outbox relay after a commit that added alert events.
    wake_relay: Callable[[], None]
