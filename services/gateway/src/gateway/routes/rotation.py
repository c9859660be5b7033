"""After someone leaves: exposure reports, rotation tasks, overdue codes and the tenant's
secret-age policy (customer_vault decides who may: ``exposure:read``,
``rotation_tasks:read``, ``rotation_tasks:close``, ``tenant:manage``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from gateway.customer_vault_models import SecretKindName, secret_kind, secret_kind_name
from gateway.for_caller import CustomerVaultForCaller
from gateway.from_proto import ProtoModel
from gateway.rest import Page, PageSize, RequestBody

router = APIRouter(tags=["rotation"])

ID_FILTER = Query(default="", max_length=64)


class ExposureItem(ProtoModel):
    site_id: str
    #: A code kind (``door_code`` ...) or ``lock``.
    subject: str
    first_at: datetime | None
    last_at: datetime | None
    #: How many times it was seen in the window.
    count: int
    #: Who saw it (for an organisation: each of its people).
    user_ids: list[str]
    #: The rotation task opened for it; null when none was needed.
    task_id: str | None
    #: The code got a new value after it was last seen (no task needed).
    rotated_since: bool
    #: For things rather than codes (e.g. a key's id), and a code qualifying it.
    reference_id: str | None
    note: str | None

    proto_names = {"first_at": "first_time", "last_at": "last_time"}


class ExposureSection(ProtoModel):
    #: ``revealed`` (under a grant), ``break_glass``, ...
    name: str
    items: list[ExposureItem]


class Exposure(ProtoModel):
    """What a person or an organisation was exposed to, computed when they left."""

    id: str
    subject_kind: Literal["user", "organization"]
    subject_id: str
    #: ``user_deactivated``, ``organization_changed``, ``areas_removed`` or ``dpa_lapsed``.
    trigger: str
    window_start: datetime | None
    window_end: datetime | None
    computed_at: datetime | None
    sections: list[ExposureSection]

    proto_names = {"computed_at": "compute_time"}
    fallbacks = {"subject_kind": "user"}


class RotationTask(ProtoModel):
    id: str
    site_id: str
    #: The site's area now (its dispatchers do the task).
    area_id: str
    #: ``door_code``, ``alarm_code``, ``key_safe_code`` or ``lock``.
    subject: str
    #: ``revealed_by_leaver``, ``revealed_by_organization``, ``break_glass``, ``overdue``, ...
    reason: str
    #: Since when the value has been exposed (``overdue``: when it was stored).
    since: datetime | None
    status: Literal["open", "closed"]
    opened_at: datetime | None
    closed_at: datetime | None
    #: ``new_value`` (closed by storing one) or ``by_hand``.
    closed_how: str | None
    closed_by: str | None
    close_reason: str | None
    exposed_user_id: str | None
    exposed_organization_id: str | None
    exposure_id: str | None

    proto_names = {"opened_at": "open_time", "closed_at": "close_time"}
    fallbacks = {"status": "open"}


class RotationTaskList(Page):
    items: list[RotationTask]


class RotationTaskClose(RequestBody):
    #: Why no new value is needed ("code is per visit"); kept in customer_vault only.
    reason: str = Field(min_length=3, max_length=500)


class OverdueSecret(ProtoModel):
    site_id: str
    area_id: str
    kind: SecretKindName
    version: int
    written_at: datetime | None
    max_age_days: int
    overdue_since: datetime | None

    proto_names = {"written_at": "write_time"}


class OverdueSecretList(BaseModel):
    items: list[OverdueSecret]


class SecretAgePolicy(BaseModel):
    """The longest a code of each kind may go unchanged, in days; a kind left out has no limit."""

    max_age_days: dict[SecretKindName, int]

    # Not a ProtoModel: the limits, a repeated message, become a dict keyed by their kind.
    @classmethod
    def of(cls, limits: list[pb.SecretAgeLimit]) -> SecretAgePolicy:
        return cls(
            max_age_days={secret_kind_name(limit.kind): limit.max_age_days for limit in limits}
        )


class SecretAgePolicyChange(RequestBody):
    #: The whole policy (it replaces the one before): e.g. ``{"door_code": 365}``.
    max_age_days: dict[SecretKindName, Annotated[int, Field(ge=1, le=3650)]] = Field(max_length=3)


@router.get("/v1/users/{user_id}/exposure", summary="What a user who left was exposed to")
async def get_user_exposure(user_id: str, vault: CustomerVaultForCaller) -> Exposure:
    result = await vault.call(
        vault.stub.GetExposure, pb.GetExposureRequest(subject_kind="user", subject_id=user_id)
    )
    return Exposure.of(result.exposure)


@router.get(
    "/v1/organizations/{organization_id}/exposure",
    summary="What an organisation whose DPA lapsed was exposed to",
)
async def get_organization_exposure(
    organization_id: str, vault: CustomerVaultForCaller
) -> Exposure:
    result = await vault.call(
        vault.stub.GetExposure,
        pb.GetExposureRequest(subject_kind="organization", subject_id=organization_id),
    )
    return Exposure.of(result.exposure)


@router.get("/v1/rotation-tasks", summary="List rotation tasks (codes and locks to change)")
async def list_rotation_tasks(
    vault: CustomerVaultForCaller,
    area_id: str = ID_FILTER,
    status: Literal["open", "closed", ""] = "",
    site_id: str = ID_FILTER,
    page_size: PageSize = 50,
    page_token: str = "",
) -> RotationTaskList:
    """A dispatcher sees the tasks of their own areas; admins and auditors every task."""
    result = await vault.call(
        vault.stub.ListRotationTasks,
        pb.ListRotationTasksRequest(
            page_size=page_size,
            page_token=page_token,
            area_id=area_id,
            status=status,
            site_id=site_id,
        ),
    )
    return RotationTaskList(
        items=[RotationTask.of(task) for task in result.tasks],
        next_page_token=result.next_page_token,
    )


@router.post(
    "/v1/rotation-tasks/{task_id}/close",
    summary="Close a rotation task by hand, saying why",
    responses={409: {"description": "The task is closed already (task_closed)"}},
)
async def close_rotation_task(
    task_id: str, body: RotationTaskClose, vault: CustomerVaultForCaller
) -> RotationTask:
    result = await vault.call(
        vault.stub.CloseRotationTask, pb.CloseRotationTaskRequest(id=task_id, reason=body.reason)
    )
    return RotationTask.of(result.task)


@router.get("/v1/secrets/overdue", summary="Codes older than the tenant's secret-age policy allows")
async def list_overdue_secrets(
    vault: CustomerVaultForCaller, area_id: str = ID_FILTER, site_id: str = ID_FILTER
) -> OverdueSecretList:
    result = await vault.call(
        vault.stub.ListOverdueSecrets,
        pb.ListOverdueSecretsRequest(area_id=area_id, site_id=site_id),
    )
    return OverdueSecretList(items=[OverdueSecret.of(s) for s in result.secrets])


@router.get("/v1/tenant/secret-age-policy", summary="The tenant's secret-age policy")
async def get_secret_age_policy(vault: CustomerVaultForCaller) -> SecretAgePolicy:
    result = await vault.call(vault.stub.GetSecretAgePolicy, pb.GetSecretAgePolicyRequest())
    return SecretAgePolicy.of(list(result.limits))


@router.put("/v1/tenant/secret-age-policy", summary="Set the tenant's secret-age policy")
async def put_secret_age_policy(
    body: SecretAgePolicyChange, vault: CustomerVaultForCaller
) -> SecretAgePolicy:
    result = await vault.call(
        vault.stub.UpdateSecretAgePolicy,
        pb.UpdateSecretAgePolicyRequest(
            limits=[
                pb.SecretAgeLimit(kind=secret_kind(kind), max_age_days=days)
                for kind, days in body.max_age_days.items()
            ]
        ),
    )
    return SecretAgePolicy.of(list(result.limits))
