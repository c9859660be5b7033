"""gRPC servicer for fieldvault.identity.v1.IdentityService: proto ⇄ domain only."""

from __future__ import annotations

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc

SERVICE_NAME: str = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    """No RPCs yet: the identity issue defines them. Health is served beside it."""
