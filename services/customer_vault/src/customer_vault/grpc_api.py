"""gRPC servicer for fieldvault.customer_vault.v1.CustomerVaultService: proto ⇄ domain only.

The RPCs live in parts by sub-domain — records (customers, sites, secrets,
contracts), access (reveal, grants, audit, GDPR, keys), shares (two-channel
secure sharing), reports (Art. 30 record, access report, breach query), the
physical key register and rotation tasks — joined here.
"""

from __future__ import annotations

from customer_vault.components import Components
from customer_vault.grpc_access import AccessRpcs
from customer_vault.grpc_keys import KeyRpcs
from customer_vault.grpc_records import RecordRpcs
from customer_vault.grpc_reports import ReportRpcs
from customer_vault.grpc_rotation import RotationRpcs
from customer_vault.grpc_shares import ShareRpcs
from fieldvault.customer_vault.v1 import customer_vault_pb2, customer_vault_pb2_grpc

SERVICE_NAME: str = customer_vault_pb2.DESCRIPTOR.services_by_name["CustomerVaultService"].full_name


class CustomerVaultServicer(
    RecordRpcs,
    AccessRpcs,
    ShareRpcs,
    ReportRpcs,
    KeyRpcs,
    RotationRpcs,
    customer_vault_pb2_grpc.CustomerVaultServiceServicer,
):
    def __init__(self, components: Components) -> None:
        self._components = components
