import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkOrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORK_ORDER_STATUS_UNSPECIFIED: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_NEW: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_SCHEDULED: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_ASSIGNED: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_IN_PROGRESS: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_COMPLETED: _ClassVar[WorkOrderStatus]
    WORK_ORDER_STATUS_CANCELLED: _ClassVar[WorkOrderStatus]

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]
    PRIORITY_NORMAL: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]
    PRIORITY_URGENT: _ClassVar[Priority]
WORK_ORDER_STATUS_UNSPECIFIED: WorkOrderStatus
WORK_ORDER_STATUS_NEW: WorkOrderStatus
WORK_ORDER_STATUS_SCHEDULED: WorkOrderStatus
WORK_ORDER_STATUS_ASSIGNED: WorkOrderStatus
WORK_ORDER_STATUS_IN_PROGRESS: WorkOrderStatus
WORK_ORDER_STATUS_COMPLETED: WorkOrderStatus
WORK_ORDER_STATUS_CANCELLED: WorkOrderStatus
PRIORITY_UNSPECIFIED: Priority
PRIORITY_LOW: Priority
PRIORITY_NORMAL: Priority
PRIORITY_HIGH: Priority
PRIORITY_URGENT: Priority

class WorkOrder(_message.Message):
    __slots__ = ("id", "tenant_id", "site_id", "area_id", "title", "description", "priority", "status", "scheduled_start", "scheduled_end", "assignee_user_id", "assignee_organization_id", "created_by", "create_time", "update_time", "etag", "completion_notes", "cancel_reason", "reference", "unable_notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_START_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_END_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_NOTES_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    UNABLE_NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    site_id: str
    area_id: str
    title: str
    description: str
    priority: Priority
    status: WorkOrderStatus
    scheduled_start: _timestamp_pb2.Timestamp
    scheduled_end: _timestamp_pb2.Timestamp
    assignee_user_id: str
    assignee_organization_id: str
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    completion_notes: str
    cancel_reason: str
    reference: str
    unable_notes: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., site_id: _Optional[str] = ..., area_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., status: _Optional[_Union[WorkOrderStatus, str]] = ..., scheduled_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignee_user_id: _Optional[str] = ..., assignee_organization_id: _Optional[str] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., completion_notes: _Optional[str] = ..., cancel_reason: _Optional[str] = ..., reference: _Optional[str] = ..., unable_notes: _Optional[str] = ...) -> None: ...

class CreateWorkOrderRequest(_message.Message):
    __slots__ = ("site_id", "title", "description", "priority", "scheduled_start", "scheduled_end")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_START_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_END_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    title: str
    description: str
    priority: Priority
    scheduled_start: _timestamp_pb2.Timestamp
    scheduled_end: _timestamp_pb2.Timestamp
    def __init__(self, site_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., scheduled_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class GetWorkOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class ListWorkOrdersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "area_id", "assignee_id", "site_id", "scheduled_from", "scheduled_until", "reference")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_FROM_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: WorkOrderStatus
    area_id: str
    assignee_id: str
    site_id: str
    scheduled_from: _timestamp_pb2.Timestamp
    scheduled_until: _timestamp_pb2.Timestamp
    reference: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[WorkOrderStatus, str]] = ..., area_id: _Optional[str] = ..., assignee_id: _Optional[str] = ..., site_id: _Optional[str] = ..., scheduled_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reference: _Optional[str] = ...) -> None: ...

class ListWorkOrdersResponse(_message.Message):
    __slots__ = ("work_orders", "next_page_token")
    WORK_ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    work_orders: _containers.RepeatedCompositeFieldContainer[WorkOrder]
    next_page_token: str
    def __init__(self, work_orders: _Optional[_Iterable[_Union[WorkOrder, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateWorkOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "title", "description", "priority", "scheduled_start", "scheduled_end")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_START_FIELD_NUMBER: _ClassVar[int]
    SCHEDULED_END_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    title: str
    description: str
    priority: Priority
    scheduled_start: _timestamp_pb2.Timestamp
    scheduled_end: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., scheduled_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scheduled_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UpdateWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class AssignWorkOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "assignee_user_id", "organization_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    assignee_user_id: str
    organization_id: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., assignee_user_id: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class AssignWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class StartWorkOrderRequest(_message.Message):
    __slots__ = ("id", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class StartWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class CompleteWorkOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    notes: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class CompleteWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class CancelWorkOrderRequest(_message.Message):
    __slots__ = ("id", "etag", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CancelWorkOrderResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class ReportWorkOrderUnableRequest(_message.Message):
    __slots__ = ("id", "etag", "reason", "notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    reason: str
    notes: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., reason: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class ReportWorkOrderUnableResponse(_message.Message):
    __slots__ = ("work_order",)
    WORK_ORDER_FIELD_NUMBER: _ClassVar[int]
    work_order: WorkOrder
    def __init__(self, work_order: _Optional[_Union[WorkOrder, _Mapping]] = ...) -> None: ...

class ListMyWorkOrdersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMyWorkOrdersResponse(_message.Message):
    __slots__ = ("work_orders", "next_page_token")
    WORK_ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    work_orders: _containers.RepeatedCompositeFieldContainer[WorkOrder]
    next_page_token: str
    def __init__(self, work_orders: _Optional[_Iterable[_Union[WorkOrder, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("id", "occur_time", "actor_id", "action", "from_status", "to_status", "fields", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    FROM_STATUS_FIELD_NUMBER: _ClassVar[int]
    TO_STATUS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    occur_time: _timestamp_pb2.Timestamp
    actor_id: str
    action: str
    from_status: WorkOrderStatus
    to_status: WorkOrderStatus
    fields: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., from_status: _Optional[_Union[WorkOrderStatus, str]] = ..., to_status: _Optional[_Union[WorkOrderStatus, str]] = ..., fields: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListWorkOrderHistoryRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListWorkOrderHistoryResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[HistoryEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[HistoryEntry, _Mapping]]] = ...) -> None: ...

class RetentionCategoryReport(_message.Message):
    __slots__ = ("category", "last_run_time", "purged", "retention_days")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_TIME_FIELD_NUMBER: _ClassVar[int]
    PURGED_FIELD_NUMBER: _ClassVar[int]
    RETENTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    category: str
    last_run_time: _timestamp_pb2.Timestamp
    purged: int
    retention_days: int
    def __init__(self, category: _Optional[str] = ..., last_run_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., purged: _Optional[int] = ..., retention_days: _Optional[int] = ...) -> None: ...

class GetRetentionReportRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRetentionReportResponse(_message.Message):
    __slots__ = ("categories",)
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[RetentionCategoryReport]
    def __init__(self, categories: _Optional[_Iterable[_Union[RetentionCategoryReport, _Mapping]]] = ...) -> None: ...
