"""gRPC servicer for fieldvault.identity.v1.IdentityService.

The RPCs live in two halves by sub-domain — :mod:`identity.grpc_auth`
(signing in, tokens, the caller) and :mod:`identity.grpc_directory` (tenants,
people, organisations, clients) — joined here into the one servicer.
"""

from __future__ import annotations

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from identity.components import Components
from identity.grpc_auth import AuthRpcs
from identity.grpc_directory import DirectoryRpcs
from identity.grpc_instructions import InstructionsRpcs

SERVICE_NAME: str = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name


class IdentityServicer(
    AuthRpcs, DirectoryRpcs, InstructionsRpcs, identity_pb2_grpc.IdentityServiceServicer
):
    def __init__(self, components: Components) -> None:
        self._components = components
