"""The demo tenant ``make run`` seeds, so a developer can sign in at once.

Created through identity's ``CreateTenant`` with the platform operator token,
like any tenant; identity returns the admin's invitation link once, and it is
kept in a 0600 file of the data folder (never printed or logged). A restart
finds the tenant there (ALREADY_EXISTS) and leaves everything as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import grpc

from fieldvault.identity.v1 import identity_pb2, identity_pb2_grpc
from fieldvault_devstack._process import write_secret_file
from fieldvault_devstack.service_process import StackError

DEMO_TENANT_SLUG = "demo"
DEMO_TENANT_NAME = "Demo Service Company"
DEMO_ADMIN_EMAIL = "admin@demo.example"
DEMO_ADMIN_NAME = "Demo Admin"
#: In the data folder: the admin's invitation link (0600).
INVITATION_URL_FILE = "demo-admin-invitation-url"

#: identity may answer UNAVAILABLE for a moment after reporting SERVING (its
#: first Vault call); retried this long.
SEED_RETRY_SECONDS = 20.0
CALL_TIMEOUT_SECONDS = 15.0


class DemoTenant(StrEnum):
    CREATED = "created"
    #: It was there already (a restart): nothing was changed.
    EXISTED = "existed"


@dataclass(frozen=True)
class DemoSeed:
    outcome: DemoTenant
    invitation_url_file: Path


def seed_demo_tenant(*, identity_addr: str, operator_token: str, data_dir: Path) -> DemoSeed:
    """Create the demo tenant unless it exists; write its admin's invitation link to a file."""
    invitation_url_file = data_dir / INVITATION_URL_FILE
    request = identity_pb2.CreateTenantRequest(
        slug=DEMO_TENANT_SLUG,
        name=DEMO_TENANT_NAME,
        admin_email=DEMO_ADMIN_EMAIL,
        admin_name=DEMO_ADMIN_NAME,
    )
    metadata = (("authorization", f"Bearer {operator_token}"),)
    deadline = time.monotonic() + SEED_RETRY_SECONDS
    with grpc.insecure_channel(identity_addr) as channel:
        # A blocking channel, though the stubs are typed for grpc.aio ones
        # (libs/protos/generate.py): the one synchronous client in the code.
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        while True:
            try:
                response = stub.CreateTenant(
                    request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS
                )
                break
            except grpc.RpcError as exc:
                code = exc.code()
                if code == grpc.StatusCode.ALREADY_EXISTS:
                    return DemoSeed(DemoTenant.EXISTED, invitation_url_file)
                retryable = code in (
                    grpc.StatusCode.UNAVAILABLE,
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                )
                if not retryable or time.monotonic() >= deadline:
                    details = exc.details()
                    raise StackError(
                        f"seeding the demo tenant failed: identity answered {code.name}: {details}"
                    ) from None
            time.sleep(0.5)
    write_secret_file(invitation_url_file, response.admin_invitation_url + "\n")
    return DemoSeed(DemoTenant.CREATED, invitation_url_file)
