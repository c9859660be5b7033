"""Grants: who may reveal which secrets of a site, for which work order, until when.

Grants are created and revoked by work_order as jobs are assigned and closed;
here they are only read.
"""

from __future__ import annotations

from fastapi import APIRouter

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from gateway.customer_vault_models import Grant
from gateway.for_caller import CustomerVaultForCaller
from gateway.rest import Page, PageSize

router = APIRouter(tags=["grants"])


class GrantList(Page):
    items: list[Grant]


@router.get("/v1/grants", summary="List grants")
async def list_grants(
    vault: CustomerVaultForCaller,
    site_id: str = "",
    user_id: str = "",
    active: bool = False,
    work_order_id: str = "",
    page_size: PageSize = 50,
    page_token: str = "",
) -> GrantList:
    """``active=true``: only grants that are not revoked and are inside their window now."""
    result = await vault.call(
        vault.stub.ListGrants,
        pb.ListGrantsRequest(
            page_size=page_size,
            page_token=page_token,
            site_id=site_id,
            user_id=user_id,
            active_only=active,
            work_order_id=work_order_id,
        ),
    )
    return GrantList(
        items=[Grant.of(grant) for grant in result.grants], next_page_token=result.next_page_token
    )
