"""Areas of the caller's tenant."""

from __future__ import annotations

from fastapi import APIRouter

from fieldvault.identity.v1 import identity_pb2 as pb
from gateway.for_caller import IdentityForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.identity_models import NAME, Area
from gateway.rest import Page, PageSize, RequestBody

router = APIRouter(tags=["areas"])


class AreaCreate(RequestBody):
    name: str = NAME


class AreaList(Page):
    items: list[Area]


@router.get("/v1/areas", summary="List areas")
async def list_areas(
    identity: IdentityForCaller, page_size: PageSize = 50, page_token: str = ""
) -> AreaList:
    result = await identity.call(
        identity.stub.ListAreas, pb.ListAreasRequest(page_size=page_size, page_token=page_token)
    )
    return AreaList(
        items=[Area.of(area) for area in result.areas], next_page_token=result.next_page_token
    )


@router.post(
    "/v1/areas",
    status_code=201,
    summary="Create an area",
    dependencies=[replayed_by_reading("/v1/areas", listed=True)],
    responses=CREATE_RESPONSES,
)
async def create_area(body: AreaCreate, identity: IdentityForCaller) -> Area:
    result = await identity.call(identity.stub.CreateArea, pb.CreateAreaRequest(name=body.name))
    return Area.of(result.area)
