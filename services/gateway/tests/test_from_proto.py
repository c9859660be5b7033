"""The generic converter gives exactly what the hand-written ``.of`` converters gave.

``FROZEN`` below are those converters as they were before ``gateway.from_proto``
replaced them, kept here only as the reference: for messages built field by field
(every enum value, unknown ones, unset and zero Timestamps, empty strings, nested
and repeated messages) both must give the same model, the same JSON and the same
set fields, or both must fail (a failure is a 500 either way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from fieldvault.customer_vault.v1 import customer_vault_pb2 as cv
from fieldvault.identity.v1 import identity_pb2 as idp
from fieldvault.notification.v1 import notification_pb2 as nt
from fieldvault.work_order.v1 import work_order_pb2 as wo
from fieldvault_platform.timestamps import from_timestamp
from gateway import customer_vault_models as cvm
from gateway import identity_models as idm
from gateway import notification_models as ntm
from gateway import work_order_models as wom
from gateway.from_proto import EnumValueUnknown, ProtoModel, from_proto, rest_names
from gateway.routes import instructions, keys, retention, rotation, shares, tenants

# --- the hand-written converters, frozen -----------------------------------------------

_SECRET_KIND = {
    cv.SECRET_KIND_DOOR_CODE: "door_code",
    cv.SECRET_KIND_ALARM_CODE: "alarm_code",
    cv.SECRET_KIND_KEY_SAFE_CODE: "key_safe_code",
}
_USER_STATUS = {
    idp.USER_STATUS_INVITED: "invited",
    idp.USER_STATUS_ACTIVE: "active",
    idp.USER_STATUS_DEACTIVATED: "deactivated",
}
_ORGANIZATION_KIND = {
    idp.ORGANIZATION_KIND_OWN: "own",
    idp.ORGANIZATION_KIND_SUBCONTRACTOR: "subcontractor",
}
_WORK_ORDER_STATUS = {
    wo.WORK_ORDER_STATUS_NEW: "new",
    wo.WORK_ORDER_STATUS_SCHEDULED: "scheduled",
    wo.WORK_ORDER_STATUS_ASSIGNED: "assigned",
    wo.WORK_ORDER_STATUS_IN_PROGRESS: "in_progress",
    wo.WORK_ORDER_STATUS_COMPLETED: "completed",
    wo.WORK_ORDER_STATUS_CANCELLED: "cancelled",
}
_PRIORITY = {
    wo.PRIORITY_LOW: "low",
    wo.PRIORITY_NORMAL: "normal",
    wo.PRIORITY_HIGH: "high",
    wo.PRIORITY_URGENT: "urgent",
}
_WEBHOOK_STATUS = {nt.WEBHOOK_STATUS_ACTIVE: "active", nt.WEBHOOK_STATUS_DISABLED: "disabled"}
_DELIVERY_STATUS = {
    nt.DELIVERY_STATUS_PENDING: "pending",
    nt.DELIVERY_STATUS_DELIVERED: "delivered",
    nt.DELIVERY_STATUS_FAILED: "failed",
}
_SHARE_KIND = {
    cv.SHARE_KIND_CONTRACT: "contract",
    cv.SHARE_KIND_DPA_DOCUMENT: "dpa_document",
    cv.SHARE_KIND_CREDENTIAL: "credential",
}
_SHARE_STATUS = {
    cv.SHARE_STATUS_ACTIVE: "active",
    cv.SHARE_STATUS_OPENED: "opened",
    cv.SHARE_STATUS_REVOKED: "revoked",
    cv.SHARE_STATUS_EXPIRED: "expired",
    cv.SHARE_STATUS_LOCKED: "locked",
}


def old_customer(customer: Any) -> cvm.Customer:
    return cvm.Customer(
        id=customer.id,
        tenant_id=customer.tenant_id,
        area_id=customer.area_id or None,
        name=customer.name,
        email=customer.email or None,
        phone=customer.phone or None,
        address=customer.address or None,
        notes=customer.notes or None,
        created_at=from_timestamp(customer, "create_time"),
        updated_at=from_timestamp(customer, "update_time"),
        etag=customer.etag,
    )


def old_site(site: Any) -> cvm.Site:
    return cvm.Site(
        id=site.id,
        tenant_id=site.tenant_id,
        customer_id=site.customer_id,
        area_id=site.area_id,
        name=site.name,
        address=site.address,
        access_instructions=site.access_instructions or None,
        created_at=from_timestamp(site, "create_time"),
        updated_at=from_timestamp(site, "update_time"),
        etag=site.etag,
    )


def old_secret_metadata(secret: Any) -> cvm.SecretMetadata:
    return cvm.SecretMetadata(
        kind=_SECRET_KIND[secret.kind],
        version=secret.version,
        updated_at=from_timestamp(secret, "update_time"),
        updated_by=secret.updated_by,
    )


def old_revealed_secret(revealed: Any) -> cvm.RevealedSecret:
    return cvm.RevealedSecret(
        kind=_SECRET_KIND[revealed.kind],
        value=revealed.value,
        audit_event_id=revealed.audit_event_id,
        hide_after_seconds=revealed.hide_after_seconds,
    )


def old_contract(contract: Any) -> cvm.Contract:
    return cvm.Contract(
        id=contract.id,
        customer_id=contract.customer_id,
        filename=contract.filename,
        content_type=contract.content_type,
        size=contract.size,
        sha256=contract.sha256,
        created_at=from_timestamp(contract, "create_time"),
        uploaded_by=contract.uploaded_by,
    )


def old_dpa_document(document: Any) -> cvm.DpaDocument:
    return cvm.DpaDocument(
        id=document.id,
        organization_id=document.organization_id,
        filename=document.filename,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        created_at=from_timestamp(document, "create_time"),
        uploaded_by=document.uploaded_by,
    )


def old_grant(grant: Any) -> cvm.Grant:
    return cvm.Grant(
        id=grant.id,
        tenant_id=grant.tenant_id,
        site_id=grant.site_id,
        user_id=grant.user_id or None,
        organization_id=grant.organization_id,
        subcontractor=grant.subcontractor,
        fields=list(grant.fields),
        work_order_id=grant.work_order_id,
        valid_from=from_timestamp(grant, "valid_from"),
        valid_until=from_timestamp(grant, "valid_until"),
        created_at=from_timestamp(grant, "create_time"),
        granted_by_service=grant.granted_by_service,
        granted_on_behalf_of=grant.granted_on_behalf_of or None,
        revoked_at=from_timestamp(grant, "revoke_time"),
        revoke_reason=grant.revoke_reason or None,
        active=grant.active,
    )


def old_audit_event(event: Any) -> cvm.AuditEvent:
    return cvm.AuditEvent(
        id=event.id,
        sequence=event.sequence,
        tenant_id=event.tenant_id,
        occurred_at=from_timestamp(event, "occur_time"),
        actor_kind=event.actor_kind,
        actor_id=event.actor_id,
        actor_organization_id=event.actor_organization_id or None,
        on_behalf_of=event.on_behalf_of or None,
        action=event.action,
        resource_type=event.resource_type,
        resource_id=event.resource_id,
        customer_id=event.customer_id or None,
        site_id=event.site_id or None,
        fields=list(event.fields),
        purpose=event.purpose or None,
        outcome=event.outcome,
        reason=event.reason or None,
        request_id=event.request_id or None,
        trace_id=event.trace_id or None,
        break_glass=event.break_glass,
        previous_hash=event.previous_hash,
        hash=event.hash,
    )


def old_audit_verification(result: Any) -> cvm.AuditVerification:
    return cvm.AuditVerification(
        ok=result.ok,
        checked=result.checked,
        first_broken_event_id=result.first_broken_event_id or None,
        problem=result.problem or None,
    )


def old_erased_customer(result: Any) -> cvm.ErasedCustomer:
    return cvm.ErasedCustomer(
        customer_id=result.customer_id, erased_at=from_timestamp(result, "erase_time")
    )


def old_user(user: Any) -> idm.User:
    return idm.User(
        id=user.id,
        tenant_id=user.tenant_id,
        email=user.email,
        name=user.name,
        roles=list(user.roles),
        organization_id=user.organization_id,
        area_ids=list(user.area_ids),
        status=_USER_STATUS.get(user.status, "invited"),
        mfa_enabled=user.mfa_enabled,
        created_at=from_timestamp(user, "create_time", required=True),
        updated_at=from_timestamp(user, "update_time", required=True),
        etag=user.etag,
    )


def old_organization(organization: Any) -> idm.Organization:
    return idm.Organization(
        id=organization.id,
        tenant_id=organization.tenant_id,
        name=organization.name,
        kind=_ORGANIZATION_KIND.get(organization.kind, "subcontractor"),
        dpa_signed_on=organization.dpa_signed_on or None,
        dpa_expires_on=organization.dpa_expires_on or None,
        dpa_active=organization.dpa_active,
        dpa_document_id=organization.dpa_document_id or None,
        created_at=from_timestamp(organization, "create_time", required=True),
        updated_at=from_timestamp(organization, "update_time", required=True),
        etag=organization.etag,
    )


def old_area(area: Any) -> idm.Area:
    return idm.Area(
        id=area.id, name=area.name, created_at=from_timestamp(area, "create_time", required=True)
    )


def old_tenant(tenant: Any) -> idm.Tenant:
    return idm.Tenant(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        mfa_required_roles=list(tenant.mfa_required_roles),
        break_glass_step_up_required=tenant.break_glass_step_up_required,
        created_at=from_timestamp(tenant, "create_time", required=True),
    )


def old_api_client(client: Any) -> idm.ApiClient:
    return idm.ApiClient(
        id=client.id,
        client_id=client.client_id,
        name=client.name,
        scopes=list(client.scopes),
        created_at=from_timestamp(client, "create_time", required=True),
    )


def old_work_order(order: Any) -> wom.WorkOrder:
    return wom.WorkOrder(
        id=order.id,
        tenant_id=order.tenant_id,
        reference=order.reference,
        site_id=order.site_id,
        area_id=order.area_id,
        title=order.title,
        description=order.description or None,
        priority=_PRIORITY[order.priority],
        status=_WORK_ORDER_STATUS[order.status],
        scheduled_start=from_timestamp(order, "scheduled_start"),
        scheduled_end=from_timestamp(order, "scheduled_end"),
        assignee_user_id=order.assignee_user_id or None,
        assignee_organization_id=order.assignee_organization_id or None,
        created_by=order.created_by,
        completion_notes=order.completion_notes or None,
        cancel_reason=order.cancel_reason or None,
        unable_notes=order.unable_notes or None,
        created_at=from_timestamp(order, "create_time"),
        updated_at=from_timestamp(order, "update_time"),
        etag=order.etag,
    )


def old_history_entry(entry: Any) -> wom.HistoryEntry:
    return wom.HistoryEntry(
        id=entry.id,
        occurred_at=from_timestamp(entry, "occur_time"),
        actor_id=entry.actor_id,
        action=entry.action,
        from_status=(
            None
            if entry.from_status == wo.WORK_ORDER_STATUS_UNSPECIFIED
            else _WORK_ORDER_STATUS[entry.from_status]
        ),
        to_status=_WORK_ORDER_STATUS[entry.to_status],
        fields=list(entry.fields),
        reason=entry.reason or None,
    )


def old_notification(notification: Any) -> ntm.Notification:
    return ntm.Notification(
        id=notification.id,
        type=notification.type,
        subject=notification.subject,
        body=notification.body,
        link=notification.link or None,
        work_order_id=notification.work_order_id or None,
        created_at=from_timestamp(notification, "create_time"),
        read_at=from_timestamp(notification, "read_time"),
    )


def old_preferences(preferences: Any) -> ntm.Preferences:
    return ntm.Preferences(
        email=preferences.email,
        sms=preferences.sms,
        sms_number=preferences.sms_number or None,
        muted_types=list(preferences.muted_types),
        language=preferences.language or "en",
        etag=preferences.etag,
    )


def old_webhook(webhook: Any) -> ntm.Webhook:
    return ntm.Webhook(
        id=webhook.id,
        url=webhook.url,
        events=list(webhook.events),
        status=_WEBHOOK_STATUS[webhook.status],
        owner=webhook.owner,
        created_at=from_timestamp(webhook, "create_time"),
        disabled_at=from_timestamp(webhook, "disable_time"),
    )


def old_webhook_delivery(delivery: Any) -> ntm.WebhookDelivery:
    return ntm.WebhookDelivery(
        id=delivery.id,
        webhook_id=delivery.webhook_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=_DELIVERY_STATUS[delivery.status],
        attempts=delivery.attempts,
        last_response_code=delivery.last_response_code or None,
        last_attempt_at=from_timestamp(delivery, "last_attempt_time"),
        next_attempt_at=from_timestamp(delivery, "next_attempt_time"),
        created_at=from_timestamp(delivery, "create_time"),
    )


def old_parked_event(event: Any) -> ntm.ParkedEvent:
    return ntm.ParkedEvent(
        consumer=event.consumer,
        event_id=event.event_id,
        subject=event.subject,
        delivery_count=event.delivery_count,
        error_type=event.error_type,
        parked_at=from_timestamp(event, "park_time"),
    )


def old_handling_instructions(message: Any) -> instructions.HandlingInstructions:
    return instructions.HandlingInstructions(
        version=message.version,
        markdown=message.markdown,
        published_at=from_timestamp(message, "publish_time", required=True),
        effective_from=from_timestamp(message, "effective_time", required=True),
        grace_days=message.grace_days,
        published_by=message.published_by,
    )


def old_reader(message: Any) -> instructions.Reader:
    return instructions.Reader(
        user_id=message.user_id,
        name=message.name,
        roles=list(message.roles),
        acknowledged_version=message.acknowledged_version,
        acknowledged_at=from_timestamp(message, "acknowledge_time"),
    )


def old_organization_report(status: Any) -> instructions.OrganizationReport:
    # Built inline in get_instructions_report before.
    return instructions.OrganizationReport(
        organization_id=status.organization_id,
        name=status.name,
        kind=_ORGANIZATION_KIND.get(status.kind, "subcontractor"),
        acknowledged=[old_reader(reader) for reader in status.acknowledged],
        pending=[old_reader(reader) for reader in status.pending],
    )


def old_physical_key(key: Any) -> keys.PhysicalKey:
    return keys.PhysicalKey(
        id=key.id,
        site_id=key.site_id,
        kind=key.kind,
        label=key.label or None,
        status=key.status,
        created_at=from_timestamp(key, "create_time"),
        holder_user_id=key.holder_user_id or None,
        work_order_id=key.work_order_id or None,
        checked_out_at=from_timestamp(key, "checked_out_time"),
        due_at=from_timestamp(key, "due_time"),
        overdue=key.overdue,
        lost_at=from_timestamp(key, "lost_time"),
    )


def old_retention_policy(policy: Any) -> retention.RetentionPolicy:
    return retention.RetentionPolicy(
        days=retention.RetentionDays(**dict(policy.days)),
        minimum_days=retention.RetentionDays(**dict(policy.minimum_days)),
        defaults=policy.defaults,
        updated_at=from_timestamp(policy, "update_time"),
        etag=policy.etag,
    )


def old_exposure_item(item: Any) -> rotation.ExposureItem:
    return rotation.ExposureItem(
        site_id=item.site_id,
        subject=item.subject,
        first_at=from_timestamp(item, "first_time"),
        last_at=from_timestamp(item, "last_time"),
        count=item.count,
        user_ids=list(item.user_ids),
        task_id=item.task_id or None,
        rotated_since=item.rotated_since,
        reference_id=item.reference_id or None,
        note=item.note or None,
    )


def old_exposure(report: Any) -> rotation.Exposure:
    return rotation.Exposure(
        id=report.id,
        subject_kind="organization" if report.subject_kind == "organization" else "user",
        subject_id=report.subject_id,
        trigger=report.trigger,
        window_start=from_timestamp(report, "window_start"),
        window_end=from_timestamp(report, "window_end"),
        computed_at=from_timestamp(report, "compute_time"),
        sections=[
            rotation.ExposureSection(name=s.name, items=[old_exposure_item(i) for i in s.items])
            for s in report.sections
        ],
    )


def old_rotation_task(task: Any) -> rotation.RotationTask:
    return rotation.RotationTask(
        id=task.id,
        site_id=task.site_id,
        area_id=task.area_id,
        subject=task.subject,
        reason=task.reason,
        since=from_timestamp(task, "since"),
        status="closed" if task.status == "closed" else "open",
        opened_at=from_timestamp(task, "open_time"),
        closed_at=from_timestamp(task, "close_time"),
        closed_how=task.closed_how or None,
        closed_by=task.closed_by or None,
        close_reason=task.close_reason or None,
        exposed_user_id=task.exposed_user_id or None,
        exposed_organization_id=task.exposed_organization_id or None,
        exposure_id=task.exposure_id or None,
    )


def old_overdue_secret(secret: Any) -> rotation.OverdueSecret:
    return rotation.OverdueSecret(
        site_id=secret.site_id,
        area_id=secret.area_id,
        kind=_SECRET_KIND[secret.kind],
        version=secret.version,
        written_at=from_timestamp(secret, "write_time"),
        max_age_days=secret.max_age_days,
        overdue_since=from_timestamp(secret, "overdue_since"),
    )


def old_share(share: Any) -> shares.Share:
    return shares.Share(
        id=share.id,
        kind=_SHARE_KIND[share.kind],
        document_id=share.document_id or None,
        status=_SHARE_STATUS[share.status],
        label=share.label,
        created_by=share.created_by,
        created_at=from_timestamp(share, "create_time"),
        expires_at=from_timestamp(share, "expire_time"),
        opened_at=from_timestamp(share, "opened_time"),
        failed_attempts=share.failed_attempts,
        max_attempts=share.max_attempts,
        email_sent=share.email_sent,
        sms_sent=share.sms_sent,
    )


def old_tenant_policy(tenant: Any) -> tenants.TenantPolicy:
    return tenants.TenantPolicy(
        mfa_required_roles=list(tenant.mfa_required_roles),
        break_glass_step_up_required=tenant.break_glass_step_up_required,
        etag=tenant.etag,
    )


#: (model, the message it is read from, the frozen hand-written converter)
FROZEN: list[tuple[type[ProtoModel], type[Message], Callable[[Any], BaseModel]]] = [
    (cvm.Customer, cv.Customer, old_customer),
    (cvm.Site, cv.Site, old_site),
    (cvm.SecretMetadata, cv.SecretMetadata, old_secret_metadata),
    (cvm.RevealedSecret, cv.RevealSecretResponse, old_revealed_secret),
    (cvm.Contract, cv.Contract, old_contract),
    (cvm.DpaDocument, cv.DpaDocument, old_dpa_document),
    (cvm.Grant, cv.Grant, old_grant),
    (cvm.AuditEvent, cv.AuditEvent, old_audit_event),
    (cvm.AuditVerification, cv.VerifyAuditTrailResponse, old_audit_verification),
    (cvm.ErasedCustomer, cv.EraseCustomerResponse, old_erased_customer),
    (idm.User, idp.User, old_user),
    (idm.Organization, idp.Organization, old_organization),
    (idm.Area, idp.Area, old_area),
    (idm.Tenant, idp.Tenant, old_tenant),
    (idm.ApiClient, idp.ApiClient, old_api_client),
    (wom.WorkOrder, wo.WorkOrder, old_work_order),
    (wom.HistoryEntry, wo.HistoryEntry, old_history_entry),
    (ntm.Notification, nt.Notification, old_notification),
    (ntm.Preferences, nt.Preferences, old_preferences),
    (ntm.Webhook, nt.Webhook, old_webhook),
    (ntm.WebhookDelivery, nt.WebhookDelivery, old_webhook_delivery),
    (ntm.ParkedEvent, nt.ParkedEvent, old_parked_event),
    (instructions.HandlingInstructions, idp.HandlingInstructions, old_handling_instructions),
    (instructions.Reader, idp.InstructionsReader, old_reader),
    (
        instructions.OrganizationReport,
        idp.OrganizationInstructionsStatus,
        old_organization_report,
    ),
    (keys.PhysicalKey, cv.PhysicalKey, old_physical_key),
    (retention.RetentionPolicy, idp.RetentionPolicy, old_retention_policy),
    (rotation.ExposureItem, cv.ExposureItem, old_exposure_item),
    (rotation.Exposure, cv.Exposure, old_exposure),
    (rotation.RotationTask, cv.RotationTask, old_rotation_task),
    (rotation.OverdueSecret, cv.OverdueSecret, old_overdue_secret),
    (shares.Share, cv.Share, old_share),
    (tenants.TenantPolicy, idp.Tenant, old_tenant_policy),
]
CASES = [pytest.param(model, message, old, id=model.__name__) for model, message, old in FROZEN]

# --- messages, field by field ----------------------------------------------------------
#
# Each field is usually set to a value the services send (a defined enum value, a valid
# Timestamp, one of a Literal's texts) and one time in ten to an edge: left unset, the
# epoch, beyond the year 9999, UNSPECIFIED, an unknown enum number, empty or odd text.


def _literal_strings(annotation: Any) -> set[str]:
    if get_origin(annotation) is Literal:
        return {arg for arg in get_args(annotation) if isinstance(arg, str)}
    return {text for arg in get_args(annotation) for text in _literal_strings(arg)}


def _texts_by_field() -> dict[tuple[str, str], list[str]]:
    """(message, field) -> the texts a model accepts there, for the text fields a model
    reads into a ``Literal``."""
    texts = {}
    for model, message_class, _ in FROZEN:
        for name, info in model.model_fields.items():
            allowed = _literal_strings(info.annotation)
            proto_name = model.proto_names.get(name, name)
            if allowed and proto_name in message_class.DESCRIPTOR.fields_by_name:
                texts[message_class.DESCRIPTOR.full_name, proto_name] = sorted(allowed)
    return texts


TEXTS_BY_FIELD = _texts_by_field()
ODD_TEXTS = ["", "x", "en", "fi", "closed", "organization", "unknown"]
#: An enum number no enum here defines (proto3 enums are open: it arrives as is).
UNKNOWN_ENUM_NUMBER = 99
UNSET = object()

_INTEGER_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _mostly(usual: st.SearchStrategy[Any], edge: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.integers(0, 9).flatmap(lambda roll: edge if roll == 0 else usual)


def _single(
    field: FieldDescriptor, depth: int
) -> tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]:
    """The usual values of one (non-repeated) field and its edge values."""
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            valid = st.builds(
                Timestamp,
                seconds=st.integers(-62_135_596_800, 253_402_300_799),
                nanos=st.integers(0, 999_999_999),
            )
            # The epoch reads as unset; 10**13 s is beyond the year 9999.
            return valid, st.sampled_from([Timestamp(), Timestamp(seconds=10**13)])
        nested = messages(field.message_type, depth + 1)
        return nested, nested
    if field.enum_type is not None:
        numbers = [value.number for value in field.enum_type.values]
        return st.sampled_from(numbers[1:]), st.sampled_from([0, UNKNOWN_ENUM_NUMBER])
    if field.type == FieldDescriptor.TYPE_STRING:
        known = TEXTS_BY_FIELD.get((field.containing_type.full_name, field.name))
        odd = st.sampled_from(ODD_TEXTS) | st.text(max_size=8)
        return (st.sampled_from(known) if known else st.text(min_size=1, max_size=12)), odd
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans(), st.just(False)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(min_size=1, max_size=8), st.just(b"")
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32, allow_nan=False), st.just(0.0)
    low, high = _INTEGER_RANGES[field.type]
    return st.integers(low, high), st.sampled_from([0, 1, low, high])


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    """A value for ``field``, or ``UNSET``."""
    entry = field.message_type
    if entry is not None and entry.GetOptions().map_entry:
        key, value = entry.fields_by_name["key"], entry.fields_by_name["value"]
        values = st.one_of(*_single(value, depth))
        # The one map here (retention days) is read into a model: its keys are the fields.
        usual = st.fixed_dictionaries(dict.fromkeys(retention.RetentionDays.model_fields, values))
        edge = st.dictionaries(st.one_of(*_single(key, depth)), values, max_size=6)
        return _mostly(usual, edge | st.just(UNSET))
    usual, edge = _single(field, depth)
    if field.is_repeated:
        return _mostly(st.lists(usual, max_size=3), st.lists(edge, max_size=3) | st.just(UNSET))
    return _mostly(usual, edge | st.just(UNSET))


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of ``descriptor``, each field set or not (nesting bounded)."""
    message_class = GetMessageClass(descriptor)
    if depth > 2:
        return st.just(message_class())
    fields = {field.name: _value(field, depth) for field in descriptor.fields}
    return st.fixed_dictionaries(fields).map(
        lambda values: message_class(
            **{name: value for name, value in values.items() if value is not UNSET}
        )
    )


# --- the comparison --------------------------------------------------------------------


def _outcome(convert: Callable[[Any], BaseModel], message: Message) -> object:
    """What the REST answer would be: the model's JSON, or a failure (a 500)."""
    try:
        model = convert(message)
    except Exception:
        return "fails"
    return type(model), model.model_dump_json(), model.model_fields_set


def _assert_same(model: type[ProtoModel], old: Callable[[Any], BaseModel], message: Message):
    expected = _outcome(old, message)
    assert _outcome(lambda m: from_proto(model, m), message) == expected
    assert _outcome(model.of, message) == expected


@pytest.mark.parametrize(("model", "message_class", "old"), CASES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_generic_converter_gives_what_the_hand_written_one_gave(
    model: type[ProtoModel],
    message_class: type[Message],
    old: Callable[[Any], BaseModel],
    data: st.DataObject,
) -> None:
    message = data.draw(messages(message_class.DESCRIPTOR))
    _assert_same(model, old, message)


def _filled(descriptor: Descriptor, depth: int = 0) -> Message:
    """A message with every field set to something non-empty (Timestamps valid)."""
    message = GetMessageClass(descriptor)()
    for field in descriptor.fields:
        target = field.message_type
        if target is not None and target.GetOptions().map_entry:
            key = target.fields_by_name["key"]
            keys_ = (
                list(retention.RetentionDays.model_fields) if key.type == key.TYPE_STRING else [1]
            )
            getattr(message, field.name).update({k: 7 for k in keys_})
        elif target is not None and target.full_name == "google.protobuf.Timestamp":
            getattr(message, field.name).CopyFrom(Timestamp(seconds=1_700_000_000, nanos=5))
        elif target is not None:
            if depth < 2:
                sub = _filled(target, depth + 1)
                if field.is_repeated:
                    getattr(message, field.name).extend([sub, sub])
                else:
                    getattr(message, field.name).CopyFrom(sub)
        elif field.enum_type is not None:
            setattr(message, field.name, field.enum_type.values[-1].number)
        elif field.is_repeated:
            getattr(message, field.name).extend(
                ["a", "b"] if field.type == field.TYPE_STRING else [1]
            )
        elif field.type == field.TYPE_STRING:
            setattr(message, field.name, field.name)
        elif field.type == field.TYPE_BOOL:
            setattr(message, field.name, True)
        else:
            setattr(message, field.name, 3)
    return message


def _enum_fields(descriptor: Descriptor) -> list[FieldDescriptor]:
    return [field for field in descriptor.fields if field.enum_type is not None]


@pytest.mark.parametrize(("model", "message_class", "old"), CASES)
def test_every_enum_value_reads_as_before(
    model: type[ProtoModel], message_class: type[Message], old: Callable[[Any], BaseModel]
) -> None:
    base = _filled(message_class.DESCRIPTOR)
    _assert_same(model, old, base)
    _assert_same(model, old, message_class())
    for field in _enum_fields(message_class.DESCRIPTOR):
        for number in [value.number for value in field.enum_type.values] + [UNKNOWN_ENUM_NUMBER]:
            message = message_class()
            message.CopyFrom(base)
            setattr(message, field.name, number)
            _assert_same(model, old, message)


def test_a_full_message_converts() -> None:
    """The filled messages are valid for every model but the ones whose text must be
    one of a few values; those read the usual ones."""
    order = from_proto(wom.WorkOrder, _filled(wo.WorkOrder.DESCRIPTOR))
    assert (order.priority, order.status) == ("urgent", "cancelled")
    assert order.created_at is not None and order.created_at.tzinfo is not None


# --- the rules on their own ------------------------------------------------------------


def test_an_enum_value_reads_as_its_name_without_the_prefix() -> None:
    assert rest_names(wo.WorkOrderStatus.DESCRIPTOR)[wo.WORK_ORDER_STATUS_IN_PROGRESS] == (
        "in_progress"
    )
    assert rest_names(cv.SecretKind.DESCRIPTOR)[cv.SECRET_KIND_KEY_SAFE_CODE] == "key_safe_code"
    assert 0 not in rest_names(wo.Priority.DESCRIPTOR)


def test_an_enum_value_the_gateway_does_not_know_is_an_error() -> None:
    with pytest.raises(EnumValueUnknown):
        from_proto(wom.WorkOrder, wo.WorkOrder(priority=1, status=UNKNOWN_ENUM_NUMBER))


def test_a_model_field_without_a_message_field_is_an_error() -> None:
    class Stray(ProtoModel):
        id: str
        colour: str

    with pytest.raises(TypeError, match=r"Stray\.colour: .*Area has no colour"):
        from_proto(Stray, idp.Area(id="a"))
