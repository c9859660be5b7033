"""Sites of customers, and the access secrets kept for them (door, alarm, key safe)."""

from __future__ import annotations

from typing import Self

from fastapi import APIRouter, Response
from pydantic import ConfigDict, Field, SecretStr, model_validator

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault.identity.v1 import identity_pb2 as identity_pb
from fieldvault_platform import limits
from gateway.auth import Auth, CurrentCaller
from gateway.client_address import SourceAddress
from gateway.customer_vault_models import (
    RevealedSecret,
    SecretKindName,
    SecretMetadata,
    Site,
    secret_kind,
)
from gateway.dependencies import AllPeers, IfMatch, RequestId
from gateway.etags import with_etag
from gateway.for_caller import IDENTITY, CustomerVaultForCaller
from gateway.idempotency import RESPONSES as CREATE_RESPONSES
from gateway.idempotency import replayed_by_reading
from gateway.identity_models import NAME, Name
from gateway.rest import NO_STORE, Page, PageSize, RequestBody

router = APIRouter(tags=["sites"])

ADDRESS = Field(min_length=1, max_length=limits.ADDRESS)
ACCESS_INSTRUCTIONS = Field(default=None, max_length=limits.ACCESS_INSTRUCTIONS)
ID = Field(min_length=1, max_length=64)

#: Members of a site that must keep a value.
_REQUIRED = ("name", "address", "area_id")


class SiteCreate(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "cus_01HZX3",
                    "area_id": "are_01HZX1",
                    "name": "Harbour Bakery, back door",
                    "address": "12 Quay Street, Bristol",
                    "access_instructions": "Ring at the loading bay; key safe left of the door",
                }
            ]
        }
    )

    customer_id: str = ID
    #: Omitted: the creator's only area (as for a customer); whoever reaches several
    #: areas names one (400 ``area_required``).
    area_id: str | None = Field(default=None, min_length=1, max_length=64)
    name: str = NAME
    address: str = ADDRESS
    access_instructions: str | None = ACCESS_INSTRUCTIONS


class SitePatch(RequestBody):
    """Only the members present change; ``access_instructions`` set to ``null`` or ``""``
    is cleared; ``name``, ``address`` and ``area_id`` cannot be null. Any other member
    (e.g. ``id`` or ``etag`` of a copy read earlier) is refused (422)."""

    name: Name | None = None
    address: str | None = Field(default=None, min_length=1, max_length=limits.ADDRESS)
    access_instructions: str | None = ACCESS_INSTRUCTIONS
    area_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _a_known_change(self) -> Self:
        for name in _REQUIRED:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: give name, address, access_instructions or area_id"
            )
        return self

    def changes(self) -> dict[str, str]:
        """The members present, as the optional fields of ``UpdateSiteRequest``."""
        return {field: getattr(self, field) or "" for field in sorted(self.model_fields_set)}


class SiteList(Page):
    items: list[Site]


class SecretValue(RequestBody):
    #: 1-128 printable characters; masked in any ``repr``.
    value: SecretStr = Field(min_length=1, max_length=128)


class SecretList(Page):
    """A site's secrets without values (not paged: there are at most a few)."""

    items: list[SecretMetadata]


class RevealRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Alarm fault call, customer on site"}]}
    )

    #: Why; required with ``break_glass`` (and recorded in the audit trail).
    reason: str | None = Field(default=None, max_length=limits.AUDIT_REASON)
    #: A dispatcher's emergency access without a grant: flagged and alerted.
    break_glass: bool = False
    #: With ``break_glass``: the current code of the dispatcher's authenticator
    #: app, where the tenant's policy asks for one (the default). Masked in any
    #: ``repr``; passed to identity only.
    otp: SecretStr | None = Field(default=None, max_length=16)


@router.get("/v1/sites", summary="List sites")
async def list_sites(
    vault: CustomerVaultForCaller,
    customer_id: str = "",
    area_id: str = "",
    page_size: PageSize = 50,
    page_token: str = "",
) -> SiteList:
    result = await vault.call(
        vault.stub.ListSites,
        pb.ListSitesRequest(
            page_size=page_size, page_token=page_token, customer_id=customer_id, area_id=area_id
        ),
    )
    return SiteList(
        items=[Site.of(site) for site in result.sites], next_page_token=result.next_page_token
    )


@router.post(
    "/v1/sites",
    status_code=201,
    summary="Create a site of a customer",
    dependencies=[replayed_by_reading("/v1/sites/{id}")],
    responses=CREATE_RESPONSES,
)
async def create_site(body: SiteCreate, vault: CustomerVaultForCaller, response: Response) -> Site:
    result = await vault.call(
        vault.stub.CreateSite,
        pb.CreateSiteRequest(
            customer_id=body.customer_id,
            area_id=body.area_id or "",
            name=body.name,
            address=body.address,
            access_instructions=body.access_instructions or "",
        ),
    )
    return with_etag(response, Site.of(result.site))


@router.get("/v1/sites/{site_id}", summary="One site")
async def get_site(site_id: str, vault: CustomerVaultForCaller, response: Response) -> Site:
    result = await vault.call(vault.stub.GetSite, pb.GetSiteRequest(id=site_id))
    return with_etag(response, Site.of(result.site))


@router.patch(
    "/v1/sites/{site_id}",
    summary="Change a site (null or empty clears the access instructions)",
    responses={412: {"description": "If-Match is stale (precondition_failed)"}},
)
async def update_site(
    site_id: str,
    body: SitePatch,
    vault: CustomerVaultForCaller,
    response: Response,
    etag: IfMatch,
) -> Site:
    result = await vault.call(
        vault.stub.UpdateSite, pb.UpdateSiteRequest(id=site_id, etag=etag, **body.changes())
    )
    return with_etag(response, Site.of(result.site))


# --- secrets -----------------------------------------------------------------------


@router.put(
    "/v1/sites/{site_id}/secrets/{kind}",
    status_code=204,
    tags=["secrets"],
    summary="Write a new version of a site's secret (needs no read access)",
)
async def put_secret(
    site_id: str, kind: SecretKindName, body: SecretValue, vault: CustomerVaultForCaller
) -> Response:
    await vault.call(
        vault.stub.PutSecret,
        pb.PutSecretRequest(
            site_id=site_id, kind=secret_kind(kind), value=body.value.get_secret_value()
        ),
    )
    return Response(status_code=204)


@router.get(
    "/v1/sites/{site_id}/secrets",
    tags=["secrets"],
    summary="Which secrets a site has, when and by whom they were written — never values",
)
async def list_secrets(site_id: str, vault: CustomerVaultForCaller) -> SecretList:
    result = await vault.call(vault.stub.ListSecrets, pb.ListSecretsRequest(site_id=site_id))
    return SecretList(items=[SecretMetadata.of(secret) for secret in result.secrets])


@router.post(
    "/v1/sites/{site_id}/secrets/{kind}/reveal",
    tags=["secrets"],
    summary="Reveal a secret: with an active grant, or break-glass with a reason; audited",
    responses={
        403: {
            "description": (
                "No active grant for this site and secret (no_active_grant); break-glass "
                "without the current one-time code the tenant's policy asks for "
                "(step_up_required), with a wrong or reused one (invalid_otp), or by someone "
                "without a second factor to give one (mfa_not_enrolled); the caller has not "
                "acknowledged the tenant's data-handling instructions in force "
                "(instructions_not_acknowledged, with instructions_version to read)"
            )
        },
        410: {"description": "The customer was erased (erased)"},
        429: {"description": "Too many reveals or one-time code attempts; see Retry-After"},
    },
)
async def reveal_secret(
    site_id: str,
    kind: SecretKindName,
    vault: CustomerVaultForCaller,
    caller: CurrentCaller,
    auth: Auth,
    peers: AllPeers,
    source_address: SourceAddress,
    request_id: RequestId,
    response: Response,
    body: RevealRequest | None = None,
) -> RevealedSecret:
    body = body or RevealRequest()
    step_up_token = ""
    if body.break_glass:
        # Identity applies the tenant's step-up policy and checks the code; the
        # vault accepts a break-glass only with identity's token for it.
        identity = await IDENTITY.bind(caller=caller, auth=auth, peers=peers, request_id=request_id)
        step_up = await identity.call(
            identity.stub.IssueStepUpToken,
            identity_pb.IssueStepUpTokenRequest(
                purpose="break_glass",
                otp=body.otp.get_secret_value() if body.otp is not None else "",
                site_id=site_id,
                secret_kind=kind,
                source_address=source_address,
            ),
        )
        step_up_token = step_up.step_up_token
    result = await vault.call(
        vault.stub.RevealSecret,
        pb.RevealSecretRequest(
            site_id=site_id,
            kind=secret_kind(kind),
            break_glass=body.break_glass,
            reason=body.reason or "",
            # The audit record names the request the caller (and our logs) know.
            request_id=request_id,
            step_up_token=step_up_token,
        ),
    )
    response.headers.update(NO_STORE)
    return RevealedSecret.of(result)
