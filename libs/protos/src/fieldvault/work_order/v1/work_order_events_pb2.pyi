import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkOrderEvent(_message.Message):
    __slots__ = ("event_id", "tenant_id", "type", "work_order_id", "site_id", "area_id", "status", "priority", "scheduled_start", "scheduled_end", "assignee_user_id", "assignee_organization_id", "actor_id", "occurred_at", "reference", "created_by")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_START_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_END_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    tenant_id: str
    type: str
    work_order_id: str
    site_id: str
    area_id: str
    status: str
    priority: str
    scheduled_start: _timestamp_pb2.Timestamp
    scheduled_end: _timestamp_pb2.Timestamp
    assignee_user_id: str
    assignee_organization_id: str
    actor_id: str
    occurred_at: _timestamp_pb2.Timestamp
    reference: str
    created_by: str
    def __init__(self, event_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., type: _Optional[str] = ..., work_order_id: _Optional[str] = ..., site_id: _Optional[str] = ..., area_id: _Optional[str] = ..., status: _Optional[str] = ..., priority: _Optional[str] = ..., scheduled_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignee_user_id: _Optional[str] = ..., assignee_organization_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reference: _Optional[str] = ..., created_by: _Optional[str] = ...) -> None: ...

class WorkOrderReturned(_message.Message):
    __slots__ = ("event_id", "tenant_id", "work_order_id", "site_id", "area_id", "status", "previous_assignee_user_id", "previous_assignee_organization_id", "reason", "occurred_at", "reference", "created_by")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ASSIGNEE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_ASSIGNEE_ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    tenant_id: str
    work_order_id: str
    site_id: str
    area_id: str
    status: str
    previous_assignee_user_id: str
    previous_assignee_organization_id: str
    reason: str
    occurred_at: _timestamp_pb2.Timestamp
    reference: str
    created_by: str
    def __init__(self, event_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., work_order_id: _Optional[str] = ..., site_id: _Optional[str] = ..., area_id: _Optional[str] = ..., status: _Optional[str] = ..., previous_assignee_user_id: _Optional[str] = ..., previous_assignee_organization_id: _Optional[str] = ..., reason: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reference: _Optional[str] = ..., created_by: _Optional[str] = ...) -> None: ...
