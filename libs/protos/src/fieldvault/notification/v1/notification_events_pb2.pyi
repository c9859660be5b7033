import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebhookDisabledReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_DISABLED_REASON_UNSPECIFIED: _ClassVar[WebhookDisabledReason]
    WEBHOOK_DISABLED_REASON_DELIVERY_FAILURES: _ClassVar[WebhookDisabledReason]
    WEBHOOK_DISABLED_REASON_API_CLIENT_REVOKED: _ClassVar[WebhookDisabledReason]
WEBHOOK_DISABLED_REASON_UNSPECIFIED: WebhookDisabledReason
WEBHOOK_DISABLED_REASON_DELIVERY_FAILURES: WebhookDisabledReason
WEBHOOK_DISABLED_REASON_API_CLIENT_REVOKED: WebhookDisabledReason

class WebhookDisabled(_message.Message):
    __slots__ = ("event_id", "tenant_id", "webhook_id", "consecutive_failures", "occurred_at", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    tenant_id: str
    webhook_id: str
    consecutive_failures: int
    occurred_at: _timestamp_pb2.Timestamp
    reason: WebhookDisabledReason
    def __init__(self, event_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., webhook_id: _Optional[str] = ..., consecutive_failures: _Optional[int] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[_Union[WebhookDisabledReason, str]] = ...) -> None: ...
