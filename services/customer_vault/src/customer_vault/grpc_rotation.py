"""CustomerVaultService RPCs for exposure reports, rotation tasks and secret age.

Proto ⇄ domain only, like :mod:`customer_vault.grpc_records`; the rules are in
:mod:`customer_vault.access.office_work`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from customer_vault.access import office_work
from customer_vault.access.secret_age import OverdueSecret
from customer_vault.components import Components
from customer_vault.grpc_records import Context
from customer_vault.messages import SECRET_KINDS, kind_name
from customer_vault.models import Exposure, RotationTask
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_platform.errors import InvalidArgument
from fieldvault_platform.timestamps import to_timestamp


def _now() -> datetime:
    return datetime.now(UTC)


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def exposure_message(report: Exposure) -> pb.Exposure:
    sections = []
    for name, items in report.sections.items():
        sections.append(
            pb.ExposureSection(
                name=name,
                items=[
                    pb.ExposureItem(
                        site_id=str(item["site_id"]),
                        subject=str(item["subject"]),
                        first_time=to_timestamp(_moment(item.get("first_at"))),
                        last_time=to_timestamp(_moment(item.get("last_at"))),
                        count=int(item.get("count") or 0),  # type: ignore[call-overload]
                        user_ids=[str(u) for u in item.get("user_ids") or []],  # type: ignore[attr-defined]
                        task_id=str(item.get("task_id") or ""),
                        rotated_since=bool(item.get("rotated_since")),
                        reference_id=str(item.get("reference_id") or ""),
                        note=str(item.get("note") or ""),
                    )
                    for item in items
                ],
            )
        )
    return pb.Exposure(
        id=report.id,
        subject_kind=report.subject_kind,
        subject_id=report.subject_id,
        trigger=report.trigger,
        window_start=to_timestamp(report.window_start),
        window_end=to_timestamp(report.window_end),
        compute_time=to_timestamp(report.computed_at),
        sections=sections,
    )


def rotation_task_message(task: RotationTask) -> pb.RotationTask:
    return pb.RotationTask(
        id=task.id,
        site_id=task.site_id,
        area_id=task.area_id,
        subject=task.subject,
        reason=task.reason,
        since=to_timestamp(task.since),
        status=task.status,
        open_time=to_timestamp(task.opened_at),
        close_time=to_timestamp(task.closed_at),
        closed_how=task.closed_how or "",
        closed_by=task.closed_by or "",
        close_reason=task.close_reason or "",
        exposed_user_id=task.exposed_user_id or "",
        exposed_organization_id=task.exposed_organization_id or "",
        exposure_id=task.exposure_id or "",
    )


def overdue_message(secret: OverdueSecret) -> pb.OverdueSecret:
    return pb.OverdueSecret(
        site_id=secret.site_id,
        area_id=secret.area_id,
        kind=SECRET_KINDS[secret.kind],
        version=secret.version,
        write_time=to_timestamp(secret.written_at),
        max_age_days=secret.max_age_days,
        overdue_since=to_timestamp(secret.overdue_since),
    )


def _limits(policy: dict[str, int]) -> list[pb.SecretAgeLimit]:
    return [
        pb.SecretAgeLimit(kind=SECRET_KINDS[kind], max_age_days=days)
        for kind, days in sorted(policy.items(), key=lambda pair: SECRET_KINDS[pair[0]])
    ]


class RotationRpcs:
    _components: Components

    async def GetExposure(
        self, request: pb.GetExposureRequest, context: Context
    ) -> pb.GetExposureResponse:
        principal = await self._components.callers.principal(context)
        report = await office_work.get_exposure(
            self._components,
            principal,
            subject_kind=request.subject_kind,
            subject_id=request.subject_id,
        )
        return pb.GetExposureResponse(exposure=exposure_message(report))

    async def ListRotationTasks(
        self, request: pb.ListRotationTasksRequest, context: Context
    ) -> pb.ListRotationTasksResponse:
        principal = await self._components.callers.principal(context)
        tasks, token = await office_work.list_tasks(
            self._components,
            principal,
            area_id=request.area_id,
            status=request.status,
            site_id=request.site_id,
            requested_size=request.page_size,
            page_token=request.page_token,
        )
        return pb.ListRotationTasksResponse(
            tasks=[rotation_task_message(task) for task in tasks], next_page_token=token
        )

    async def CloseRotationTask(
        self, request: pb.CloseRotationTaskRequest, context: Context
    ) -> pb.CloseRotationTaskResponse:
        principal = await self._components.callers.principal(context)
        task = await office_work.close_task(
            self._components, principal, task_id=request.id, reason=request.reason, now=_now()
        )
        return pb.CloseRotationTaskResponse(task=rotation_task_message(task))

    async def ListOverdueSecrets(
        self, request: pb.ListOverdueSecretsRequest, context: Context
    ) -> pb.ListOverdueSecretsResponse:
        principal = await self._components.callers.principal(context)
        found = await office_work.list_overdue(
            self._components,
            principal,
            area_id=request.area_id,
            site_id=request.site_id,
            now=_now(),
        )
        return pb.ListOverdueSecretsResponse(secrets=[overdue_message(s) for s in found])

    async def GetSecretAgePolicy(
        self, request: pb.GetSecretAgePolicyRequest, context: Context
    ) -> pb.GetSecretAgePolicyResponse:
        principal = await self._components.callers.principal(context)
        policy = await office_work.get_policy(self._components, principal)
        return pb.GetSecretAgePolicyResponse(limits=_limits(policy))

    async def UpdateSecretAgePolicy(
        self, request: pb.UpdateSecretAgePolicyRequest, context: Context
    ) -> pb.UpdateSecretAgePolicyResponse:
        principal = await self._components.callers.principal(context)
        limits: dict[str, int] = {}
        for limit in request.limits:
            kind = kind_name(limit.kind)
            if kind in limits:
                raise InvalidArgument(f"{kind} is listed twice")
            limits[kind] = limit.max_age_days
        policy = await office_work.set_policy(self._components, principal, limits, now=_now())
        return pb.UpdateSecretAgePolicyResponse(limits=_limits(policy))
