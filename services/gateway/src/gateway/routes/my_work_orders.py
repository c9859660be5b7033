"""A technician's own jobs, each with where it is: work_order's list joined with the
sites' names, addresses, access instructions and the kinds of code kept (names only),
read from customer_vault with the caller's own authority."""

from __future__ import annotations

import asyncio
import logging

import grpc
from fastapi import APIRouter

from fieldvault.customer_vault.v1 import customer_vault_pb2 as vault_pb
from fieldvault.work_order.v1 import work_order_pb2 as pb
from gateway.customer_vault_models import secret_kind_name
from gateway.for_caller import CustomerVaultAsCaller, CustomerVaultForCaller, WorkOrderForCaller
from gateway.peers import PeerRpcError
from gateway.rest import Page, PageSize
from gateway.work_order_models import MyWorkOrder, SiteSummary

log = logging.getLogger(__name__)

router = APIRouter(tags=["me", "work-orders"])

#: A site the caller may not see (yet), or whose customer was erased: no site, quietly.
_SITE_HIDDEN = {
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION,
}


class MyWorkOrderList(Page):
    items: list[MyWorkOrder]


async def _site_summary(vault: CustomerVaultAsCaller, site_id: str) -> SiteSummary | None:
    """Where a job is, read with the caller's own authority, or None when it cannot be.

    One unreadable site must not cost the technician the whole job list, so every
    failure degrades to None; the unexpected ones (customer_vault down) are logged.
    The secrets' kinds come from their metadata: no value is ever read here. Both
    reads use the caller's token, so customer_vault shows a technician only the
    sites of jobs they are assigned to.
    """
    if not site_id:
        return None
    try:
        result, secrets = await asyncio.gather(
            vault.call(vault.stub.GetSite, vault_pb.GetSiteRequest(id=site_id)),
            vault.call(vault.stub.ListSecrets, vault_pb.ListSecretsRequest(site_id=site_id)),
        )
    except PeerRpcError as exc:
        if exc.error.code() not in _SITE_HIDDEN:
            log.warning(
                "site of a job could not be read",
                extra={"site_id": site_id, "grpc_status": exc.error.code().name},
            )
        return None
    return SiteSummary(
        id=result.site.id,
        name=result.site.name,
        address=result.site.address,
        access_instructions=result.site.access_instructions or None,
        code_kinds=[secret_kind_name(secret.kind) for secret in secrets.secrets],
    )


@router.get(
    "/v1/me/work-orders",
    summary="My active and upcoming jobs, with each site's address, access instructions "
    "and kinds of code kept (never a secret's value)",
)
async def my_work_orders(
    work_orders: WorkOrderForCaller,
    vault: CustomerVaultForCaller,
    page_size: PageSize = 50,
    page_token: str = "",
) -> MyWorkOrderList:
    """``site`` is null for a job whose site the caller may not see (yet) or that could not
    be read."""
    result = await work_orders.call(
        work_orders.stub.ListMyWorkOrders,
        pb.ListMyWorkOrdersRequest(page_size=page_size, page_token=page_token),
    )
    # One read per site, all at once: a technician's day often has several jobs at one site.
    site_ids = list(dict.fromkeys(order.site_id for order in result.work_orders))
    summaries = await asyncio.gather(*(_site_summary(vault, site_id) for site_id in site_ids))
    sites = dict(zip(site_ids, summaries, strict=True))
    return MyWorkOrderList(
        items=[MyWorkOrder.joined(order, sites[order.site_id]) for order in result.work_orders],
        next_page_token=result.next_page_token,
    )
