import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SecretKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SECRET_KIND_UNSPECIFIED: _ClassVar[SecretKind]
    SECRET_KIND_DOOR_CODE: _ClassVar[SecretKind]
    SECRET_KIND_ALARM_CODE: _ClassVar[SecretKind]
    SECRET_KIND_KEY_SAFE_CODE: _ClassVar[SecretKind]

class ShareKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARE_KIND_UNSPECIFIED: _ClassVar[ShareKind]
    SHARE_KIND_CONTRACT: _ClassVar[ShareKind]
    SHARE_KIND_DPA_DOCUMENT: _ClassVar[ShareKind]
    SHARE_KIND_CREDENTIAL: _ClassVar[ShareKind]

class ShareStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SHARE_STATUS_UNSPECIFIED: _ClassVar[ShareStatus]
    SHARE_STATUS_ACTIVE: _ClassVar[ShareStatus]
    SHARE_STATUS_OPENED: _ClassVar[ShareStatus]
    SHARE_STATUS_REVOKED: _ClassVar[ShareStatus]
    SHARE_STATUS_EXPIRED: _ClassVar[ShareStatus]
    SHARE_STATUS_LOCKED: _ClassVar[ShareStatus]
SECRET_KIND_UNSPECIFIED: SecretKind
SECRET_KIND_DOOR_CODE: SecretKind
SECRET_KIND_ALARM_CODE: SecretKind
SECRET_KIND_KEY_SAFE_CODE: SecretKind
SHARE_KIND_UNSPECIFIED: ShareKind
SHARE_KIND_CONTRACT: ShareKind
SHARE_KIND_DPA_DOCUMENT: ShareKind
SHARE_KIND_CREDENTIAL: ShareKind
SHARE_STATUS_UNSPECIFIED: ShareStatus
SHARE_STATUS_ACTIVE: ShareStatus
SHARE_STATUS_OPENED: ShareStatus
SHARE_STATUS_REVOKED: ShareStatus
SHARE_STATUS_EXPIRED: ShareStatus
SHARE_STATUS_LOCKED: ShareStatus

class EnsureTenantKeyRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class EnsureTenantKeyResponse(_message.Message):
    __slots__ = ("key_name", "latest_version", "created")
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    key_name: str
    latest_version: int
    created: bool
    def __init__(self, key_name: _Optional[str] = ..., latest_version: _Optional[int] = ..., created: _Optional[bool] = ...) -> None: ...

class RotateTenantKeyRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class RotateTenantKeyResponse(_message.Message):
    __slots__ = ("key_version", "rewrapped_count")
    KEY_VERSION_FIELD_NUMBER: _ClassVar[int]
    REWRAPPED_COUNT_FIELD_NUMBER: _ClassVar[int]
    key_version: int
    rewrapped_count: int
    def __init__(self, key_version: _Optional[int] = ..., rewrapped_count: _Optional[int] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "tenant_id", "area_id", "name", "email", "phone", "address", "notes", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    area_id: str
    name: str
    email: str
    phone: str
    address: str
    notes: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., area_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., address: _Optional[str] = ..., notes: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("area_id", "name", "email", "phone", "address", "notes")
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    area_id: str
    name: str
    email: str
    phone: str
    address: str
    notes: str
    def __init__(self, area_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., address: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "email", "phone", "area_id", "name")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    email: str
    phone: str
    area_id: str
    name: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., area_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("id", "etag", "name", "email", "phone", "address", "notes", "area_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    name: str
    email: str
    phone: str
    address: str
    notes: str
    area_id: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., address: _Optional[str] = ..., notes: _Optional[str] = ..., area_id: _Optional[str] = ...) -> None: ...

class UpdateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class Site(_message.Message):
    __slots__ = ("id", "tenant_id", "customer_id", "area_id", "name", "address", "access_instructions", "create_time", "update_time", "etag")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    customer_id: str
    area_id: str
    name: str
    address: str
    access_instructions: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., area_id: _Optional[str] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., access_instructions: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateSiteRequest(_message.Message):
    __slots__ = ("customer_id", "area_id", "name", "address", "access_instructions")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    area_id: str
    name: str
    address: str
    access_instructions: str
    def __init__(self, customer_id: _Optional[str] = ..., area_id: _Optional[str] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., access_instructions: _Optional[str] = ...) -> None: ...

class CreateSiteResponse(_message.Message):
    __slots__ = ("site",)
    SITE_FIELD_NUMBER: _ClassVar[int]
    site: Site
    def __init__(self, site: _Optional[_Union[Site, _Mapping]] = ...) -> None: ...

class GetSiteRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetSiteResponse(_message.Message):
    __slots__ = ("site",)
    SITE_FIELD_NUMBER: _ClassVar[int]
    site: Site
    def __init__(self, site: _Optional[_Union[Site, _Mapping]] = ...) -> None: ...

class ListSitesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "customer_id", "area_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    customer_id: str
    area_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ..., area_id: _Optional[str] = ...) -> None: ...

class ListSitesResponse(_message.Message):
    __slots__ = ("sites", "next_page_token")
    SITES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sites: _containers.RepeatedCompositeFieldContainer[Site]
    next_page_token: str
    def __init__(self, sites: _Optional[_Iterable[_Union[Site, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateSiteRequest(_message.Message):
    __slots__ = ("id", "etag", "name", "address", "access_instructions", "area_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACCESS_INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    etag: str
    name: str
    address: str
    access_instructions: str
    area_id: str
    def __init__(self, id: _Optional[str] = ..., etag: _Optional[str] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., access_instructions: _Optional[str] = ..., area_id: _Optional[str] = ...) -> None: ...

class UpdateSiteResponse(_message.Message):
    __slots__ = ("site",)
    SITE_FIELD_NUMBER: _ClassVar[int]
    site: Site
    def __init__(self, site: _Optional[_Union[Site, _Mapping]] = ...) -> None: ...

class LocateSiteRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class LocateSiteResponse(_message.Message):
    __slots__ = ("site_id", "customer_id", "area_id", "erased")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    ERASED_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    customer_id: str
    area_id: str
    erased: bool
    def __init__(self, site_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., area_id: _Optional[str] = ..., erased: _Optional[bool] = ...) -> None: ...

class SecretMetadata(_message.Message):
    __slots__ = ("kind", "version", "update_time", "updated_by")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    kind: SecretKind
    version: int
    update_time: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, kind: _Optional[_Union[SecretKind, str]] = ..., version: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class PutSecretRequest(_message.Message):
    __slots__ = ("site_id", "kind", "value")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    kind: SecretKind
    value: str
    def __init__(self, site_id: _Optional[str] = ..., kind: _Optional[_Union[SecretKind, str]] = ..., value: _Optional[str] = ...) -> None: ...

class PutSecretResponse(_message.Message):
    __slots__ = ("secret",)
    SECRET_FIELD_NUMBER: _ClassVar[int]
    secret: SecretMetadata
    def __init__(self, secret: _Optional[_Union[SecretMetadata, _Mapping]] = ...) -> None: ...

class ListSecretsRequest(_message.Message):
    __slots__ = ("site_id",)
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    def __init__(self, site_id: _Optional[str] = ...) -> None: ...

class ListSecretsResponse(_message.Message):
    __slots__ = ("secrets",)
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    secrets: _containers.RepeatedCompositeFieldContainer[SecretMetadata]
    def __init__(self, secrets: _Optional[_Iterable[_Union[SecretMetadata, _Mapping]]] = ...) -> None: ...

class RevealSecretRequest(_message.Message):
    __slots__ = ("site_id", "kind", "break_glass", "reason", "request_id", "step_up_token")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BREAK_GLASS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_UP_TOKEN_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    kind: SecretKind
    break_glass: bool
    reason: str
    request_id: str
    step_up_token: str
    def __init__(self, site_id: _Optional[str] = ..., kind: _Optional[_Union[SecretKind, str]] = ..., break_glass: _Optional[bool] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., step_up_token: _Optional[str] = ...) -> None: ...

class RevealSecretResponse(_message.Message):
    __slots__ = ("kind", "value", "audit_event_id", "hide_after_seconds")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    AUDIT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    HIDE_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    kind: SecretKind
    value: str
    audit_event_id: str
    hide_after_seconds: int
    def __init__(self, kind: _Optional[_Union[SecretKind, str]] = ..., value: _Optional[str] = ..., audit_event_id: _Optional[str] = ..., hide_after_seconds: _Optional[int] = ...) -> None: ...

class Contract(_message.Message):
    __slots__ = ("id", "customer_id", "filename", "content_type", "size", "sha256", "create_time", "uploaded_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    create_time: _timestamp_pb2.Timestamp
    uploaded_by: str
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uploaded_by: _Optional[str] = ...) -> None: ...

class UploadContractRequest(_message.Message):
    __slots__ = ("customer_id", "filename", "content_type", "content")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    filename: str
    content_type: str
    content: bytes
    def __init__(self, customer_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class UploadContractResponse(_message.Message):
    __slots__ = ("contract",)
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    contract: Contract
    def __init__(self, contract: _Optional[_Union[Contract, _Mapping]] = ...) -> None: ...

class ListContractsRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ListContractsResponse(_message.Message):
    __slots__ = ("contracts",)
    CONTRACTS_FIELD_NUMBER: _ClassVar[int]
    contracts: _containers.RepeatedCompositeFieldContainer[Contract]
    def __init__(self, contracts: _Optional[_Iterable[_Union[Contract, _Mapping]]] = ...) -> None: ...

class DownloadContractRequest(_message.Message):
    __slots__ = ("id", "request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DownloadContractResponse(_message.Message):
    __slots__ = ("contract", "content")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    contract: Contract
    content: bytes
    def __init__(self, contract: _Optional[_Union[Contract, _Mapping]] = ..., content: _Optional[bytes] = ...) -> None: ...

class DpaDocument(_message.Message):
    __slots__ = ("id", "organization_id", "filename", "content_type", "size", "sha256", "create_time", "uploaded_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    id: str
    organization_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    create_time: _timestamp_pb2.Timestamp
    uploaded_by: str
    def __init__(self, id: _Optional[str] = ..., organization_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uploaded_by: _Optional[str] = ...) -> None: ...

class UploadDpaDocumentRequest(_message.Message):
    __slots__ = ("organization_id", "filename", "content_type", "content")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    filename: str
    content_type: str
    content: bytes
    def __init__(self, organization_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class UploadDpaDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: DpaDocument
    def __init__(self, document: _Optional[_Union[DpaDocument, _Mapping]] = ...) -> None: ...

class ListDpaDocumentsRequest(_message.Message):
    __slots__ = ("organization_id",)
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class ListDpaDocumentsResponse(_message.Message):
    __slots__ = ("documents",)
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[DpaDocument]
    def __init__(self, documents: _Optional[_Iterable[_Union[DpaDocument, _Mapping]]] = ...) -> None: ...

class DownloadDpaDocumentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DownloadDpaDocumentResponse(_message.Message):
    __slots__ = ("document", "content")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    document: DpaDocument
    content: bytes
    def __init__(self, document: _Optional[_Union[DpaDocument, _Mapping]] = ..., content: _Optional[bytes] = ...) -> None: ...

class Grant(_message.Message):
    __slots__ = ("id", "tenant_id", "site_id", "user_id", "organization_id", "subcontractor", "fields", "work_order_id", "valid_from", "valid_until", "create_time", "granted_by_service", "granted_on_behalf_of", "revoke_time", "revoke_reason", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SUBCONTRACTOR_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    GRANTED_BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    GRANTED_ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    site_id: str
    user_id: str
    organization_id: str
    subcontractor: bool
    fields: _containers.RepeatedScalarFieldContainer[str]
    work_order_id: str
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    granted_by_service: str
    granted_on_behalf_of: str
    revoke_time: _timestamp_pb2.Timestamp
    revoke_reason: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., site_id: _Optional[str] = ..., user_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., subcontractor: _Optional[bool] = ..., fields: _Optional[_Iterable[str]] = ..., work_order_id: _Optional[str] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., granted_by_service: _Optional[str] = ..., granted_on_behalf_of: _Optional[str] = ..., revoke_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_reason: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class CreateGrantRequest(_message.Message):
    __slots__ = ("site_id", "user_id", "organization_id", "subcontractor", "fields", "work_order_id", "valid_from", "valid_until", "acting_user_id")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SUBCONTRACTOR_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    user_id: str
    organization_id: str
    subcontractor: bool
    fields: _containers.RepeatedScalarFieldContainer[str]
    work_order_id: str
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    acting_user_id: str
    def __init__(self, site_id: _Optional[str] = ..., user_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., subcontractor: _Optional[bool] = ..., fields: _Optional[_Iterable[str]] = ..., work_order_id: _Optional[str] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., acting_user_id: _Optional[str] = ...) -> None: ...

class CreateGrantResponse(_message.Message):
    __slots__ = ("grant", "created")
    GRANT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    grant: Grant
    created: bool
    def __init__(self, grant: _Optional[_Union[Grant, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class RevokeGrantsRequest(_message.Message):
    __slots__ = ("work_order_id", "user_id", "organization_id", "reason", "acting_user_id")
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTING_USER_ID_FIELD_NUMBER: _ClassVar[int]
    work_order_id: str
    user_id: str
    organization_id: str
    reason: str
    acting_user_id: str
    def __init__(self, work_order_id: _Optional[str] = ..., user_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., reason: _Optional[str] = ..., acting_user_id: _Optional[str] = ...) -> None: ...

class RevokeGrantsResponse(_message.Message):
    __slots__ = ("revoked_count",)
    REVOKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    revoked_count: int
    def __init__(self, revoked_count: _Optional[int] = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "site_id", "user_id", "active_only", "work_order_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    site_id: str
    user_id: str
    active_only: bool
    work_order_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., site_id: _Optional[str] = ..., user_id: _Optional[str] = ..., active_only: _Optional[bool] = ..., work_order_id: _Optional[str] = ...) -> None: ...

class ListGrantsResponse(_message.Message):
    __slots__ = ("grants", "next_page_token")
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[Grant]
    next_page_token: str
    def __init__(self, grants: _Optional[_Iterable[_Union[Grant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ("id", "sequence", "tenant_id", "occur_time", "actor_kind", "actor_id", "actor_organization_id", "on_behalf_of", "action", "resource_type", "resource_id", "customer_id", "site_id", "fields", "purpose", "outcome", "reason", "request_id", "trace_id", "break_glass", "previous_hash", "hash")
    ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCUR_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_KIND_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    BREAK_GLASS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    id: str
    sequence: int
    tenant_id: str
    occur_time: _timestamp_pb2.Timestamp
    actor_kind: str
    actor_id: str
    actor_organization_id: str
    on_behalf_of: str
    action: str
    resource_type: str
    resource_id: str
    customer_id: str
    site_id: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    purpose: str
    outcome: str
    reason: str
    request_id: str
    trace_id: str
    break_glass: bool
    previous_hash: str
    hash: str
    def __init__(self, id: _Optional[str] = ..., sequence: _Optional[int] = ..., tenant_id: _Optional[str] = ..., occur_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_kind: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_organization_id: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., action: _Optional[str] = ..., resource_type: _Optional[str] = ..., resource_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., purpose: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., trace_id: _Optional[str] = ..., break_glass: _Optional[bool] = ..., previous_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "customer_id", "site_id", "actor_id", "action", "since", "until")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    customer_id: str
    site_id: str
    actor_id: str
    action: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ..., site_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuditEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VerifyAuditTrailRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VerifyAuditTrailResponse(_message.Message):
    __slots__ = ("ok", "checked", "first_broken_event_id", "problem")
    OK_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    FIRST_BROKEN_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    checked: int
    first_broken_event_id: str
    problem: str
    def __init__(self, ok: _Optional[bool] = ..., checked: _Optional[int] = ..., first_broken_event_id: _Optional[str] = ..., problem: _Optional[str] = ...) -> None: ...

class ExportCustomerRequest(_message.Message):
    __slots__ = ("id", "request_id", "include_secret_values", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SECRET_VALUES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    include_secret_values: bool
    reason: str
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ..., include_secret_values: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class ExportCustomerResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: bytes
    def __init__(self, document: _Optional[bytes] = ...) -> None: ...

class EraseCustomerRequest(_message.Message):
    __slots__ = ("id", "reason", "request_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    request_id: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class EraseCustomerResponse(_message.Message):
    __slots__ = ("customer_id", "erase_time")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ERASE_TIME_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    erase_time: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., erase_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Share(_message.Message):
    __slots__ = ("id", "kind", "document_id", "status", "created_by", "create_time", "expire_time", "opened_time", "failed_attempts", "max_attempts", "email_sent", "sms_sent", "label")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    OPENED_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_SENT_FIELD_NUMBER: _ClassVar[int]
    SMS_SENT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: ShareKind
    document_id: str
    status: ShareStatus
    created_by: str
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    opened_time: _timestamp_pb2.Timestamp
    failed_attempts: int
    max_attempts: int
    email_sent: bool
    sms_sent: bool
    label: str
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[ShareKind, str]] = ..., document_id: _Optional[str] = ..., status: _Optional[_Union[ShareStatus, str]] = ..., created_by: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opened_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_attempts: _Optional[int] = ..., max_attempts: _Optional[int] = ..., email_sent: _Optional[bool] = ..., sms_sent: _Optional[bool] = ..., label: _Optional[str] = ...) -> None: ...

class CreateShareRequest(_message.Message):
    __slots__ = ("kind", "document_id", "credential", "recipient_email", "recipient_phone", "expires_in_hours", "label", "request_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_PHONE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_HOURS_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    kind: ShareKind
    document_id: str
    credential: str
    recipient_email: str
    recipient_phone: str
    expires_in_hours: int
    label: str
    request_id: str
    def __init__(self, kind: _Optional[_Union[ShareKind, str]] = ..., document_id: _Optional[str] = ..., credential: _Optional[str] = ..., recipient_email: _Optional[str] = ..., recipient_phone: _Optional[str] = ..., expires_in_hours: _Optional[int] = ..., label: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateShareResponse(_message.Message):
    __slots__ = ("share",)
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: Share
    def __init__(self, share: _Optional[_Union[Share, _Mapping]] = ...) -> None: ...

class ListSharesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSharesResponse(_message.Message):
    __slots__ = ("shares",)
    SHARES_FIELD_NUMBER: _ClassVar[int]
    shares: _containers.RepeatedCompositeFieldContainer[Share]
    def __init__(self, shares: _Optional[_Iterable[_Union[Share, _Mapping]]] = ...) -> None: ...

class RevokeShareRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RevokeShareResponse(_message.Message):
    __slots__ = ("share",)
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: Share
    def __init__(self, share: _Optional[_Union[Share, _Mapping]] = ...) -> None: ...

class GetShareDeliveryRequest(_message.Message):
    __slots__ = ("tenant_id", "share_id", "channel")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    share_id: str
    channel: str
    def __init__(self, tenant_id: _Optional[str] = ..., share_id: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class GetShareDeliveryResponse(_message.Message):
    __slots__ = ("address", "secret", "kind", "expire_time")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    address: str
    secret: str
    kind: ShareKind
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, address: _Optional[str] = ..., secret: _Optional[str] = ..., kind: _Optional[_Union[ShareKind, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConfirmShareDeliveryRequest(_message.Message):
    __slots__ = ("tenant_id", "share_id", "channel")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SHARE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    share_id: str
    channel: str
    def __init__(self, tenant_id: _Optional[str] = ..., share_id: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class ConfirmShareDeliveryResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OpenShareRequest(_message.Message):
    __slots__ = ("token", "pin")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    token: str
    pin: str
    def __init__(self, token: _Optional[str] = ..., pin: _Optional[str] = ...) -> None: ...

class OpenShareResponse(_message.Message):
    __slots__ = ("kind", "filename", "content_type", "content")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    kind: ShareKind
    filename: str
    content_type: str
    content: bytes
    def __init__(self, kind: _Optional[_Union[ShareKind, str]] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class GetProcessingRecordRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetProcessingRecordResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: bytes
    def __init__(self, document: _Optional[bytes] = ...) -> None: ...

class GetCustomerAccessReportRequest(_message.Message):
    __slots__ = ("customer_id", "since", "until", "request_id")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, customer_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetCustomerAccessReportResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: bytes
    def __init__(self, document: _Optional[bytes] = ...) -> None: ...

class QuerySiteAccessRequest(_message.Message):
    __slots__ = ("site_id", "from_time", "to_time", "request_id")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_TIME_FIELD_NUMBER: _ClassVar[int]
    TO_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    from_time: _timestamp_pb2.Timestamp
    to_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, site_id: _Optional[str] = ..., from_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., to_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class QuerySiteAccessResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: bytes
    def __init__(self, document: _Optional[bytes] = ...) -> None: ...

class PhysicalKey(_message.Message):
    __slots__ = ("id", "site_id", "kind", "label", "status", "create_time", "holder_user_id", "work_order_id", "checked_out_time", "due_time", "overdue", "lost_time", "checkout_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    HOLDER_USER_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKED_OUT_TIME_FIELD_NUMBER: _ClassVar[int]
    DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    LOST_TIME_FIELD_NUMBER: _ClassVar[int]
    CHECKOUT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    site_id: str
    kind: str
    label: str
    status: str
    create_time: _timestamp_pb2.Timestamp
    holder_user_id: str
    work_order_id: str
    checked_out_time: _timestamp_pb2.Timestamp
    due_time: _timestamp_pb2.Timestamp
    overdue: bool
    lost_time: _timestamp_pb2.Timestamp
    checkout_id: str
    def __init__(self, id: _Optional[str] = ..., site_id: _Optional[str] = ..., kind: _Optional[str] = ..., label: _Optional[str] = ..., status: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., holder_user_id: _Optional[str] = ..., work_order_id: _Optional[str] = ..., checked_out_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue: _Optional[bool] = ..., lost_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., checkout_id: _Optional[str] = ...) -> None: ...

class RegisterKeyRequest(_message.Message):
    __slots__ = ("site_id", "kind", "label", "request_id")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    kind: str
    label: str
    request_id: str
    def __init__(self, site_id: _Optional[str] = ..., kind: _Optional[str] = ..., label: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RegisterKeyResponse(_message.Message):
    __slots__ = ("key", "tag_code")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TAG_CODE_FIELD_NUMBER: _ClassVar[int]
    key: PhysicalKey
    tag_code: str
    def __init__(self, key: _Optional[_Union[PhysicalKey, _Mapping]] = ..., tag_code: _Optional[str] = ...) -> None: ...

class ListSiteKeysRequest(_message.Message):
    __slots__ = ("site_id",)
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    def __init__(self, site_id: _Optional[str] = ...) -> None: ...

class ListSiteKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[PhysicalKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[PhysicalKey, _Mapping]]] = ...) -> None: ...

class CheckOutKeyRequest(_message.Message):
    __slots__ = ("key_id", "user_id", "work_order_id", "request_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    WORK_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    user_id: str
    work_order_id: str
    request_id: str
    def __init__(self, key_id: _Optional[str] = ..., user_id: _Optional[str] = ..., work_order_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CheckOutKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: PhysicalKey
    def __init__(self, key: _Optional[_Union[PhysicalKey, _Mapping]] = ...) -> None: ...

class CheckInKeyRequest(_message.Message):
    __slots__ = ("key_id", "request_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    request_id: str
    def __init__(self, key_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CheckInKeyResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: PhysicalKey
    def __init__(self, key: _Optional[_Union[PhysicalKey, _Mapping]] = ...) -> None: ...

class MarkKeyLostRequest(_message.Message):
    __slots__ = ("key_id", "request_id")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    request_id: str
    def __init__(self, key_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class MarkKeyLostResponse(_message.Message):
    __slots__ = ("key",)
    KEY_FIELD_NUMBER: _ClassVar[int]
    key: PhysicalKey
    def __init__(self, key: _Optional[_Union[PhysicalKey, _Mapping]] = ...) -> None: ...

class FindKeyByTagRequest(_message.Message):
    __slots__ = ("tag_code", "request_id")
    TAG_CODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    tag_code: str
    request_id: str
    def __init__(self, tag_code: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class FindKeyByTagResponse(_message.Message):
    __slots__ = ("key", "site_name", "customer_id")
    KEY_FIELD_NUMBER: _ClassVar[int]
    SITE_NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    key: PhysicalKey
    site_name: str
    customer_id: str
    def __init__(self, key: _Optional[_Union[PhysicalKey, _Mapping]] = ..., site_name: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListMyKeysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMyKeysResponse(_message.Message):
    __slots__ = ("keys",)
    KEYS_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[PhysicalKey]
    def __init__(self, keys: _Optional[_Iterable[_Union[PhysicalKey, _Mapping]]] = ...) -> None: ...

class GetExposureRequest(_message.Message):
    __slots__ = ("subject_kind", "subject_id")
    SUBJECT_KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    subject_kind: str
    subject_id: str
    def __init__(self, subject_kind: _Optional[str] = ..., subject_id: _Optional[str] = ...) -> None: ...

class ExposureItem(_message.Message):
    __slots__ = ("site_id", "subject", "first_time", "last_time", "count", "user_ids", "task_id", "rotated_since", "reference_id", "note")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    FIRST_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_TIME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ROTATED_SINCE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    subject: str
    first_time: _timestamp_pb2.Timestamp
    last_time: _timestamp_pb2.Timestamp
    count: int
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    task_id: str
    rotated_since: bool
    reference_id: str
    note: str
    def __init__(self, site_id: _Optional[str] = ..., subject: _Optional[str] = ..., first_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., count: _Optional[int] = ..., user_ids: _Optional[_Iterable[str]] = ..., task_id: _Optional[str] = ..., rotated_since: _Optional[bool] = ..., reference_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ExposureSection(_message.Message):
    __slots__ = ("name", "items")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    name: str
    items: _containers.RepeatedCompositeFieldContainer[ExposureItem]
    def __init__(self, name: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ExposureItem, _Mapping]]] = ...) -> None: ...

class Exposure(_message.Message):
    __slots__ = ("id", "subject_kind", "subject_id", "trigger", "window_start", "window_end", "compute_time", "sections")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    SECTIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    subject_kind: str
    subject_id: str
    trigger: str
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    compute_time: _timestamp_pb2.Timestamp
    sections: _containers.RepeatedCompositeFieldContainer[ExposureSection]
    def __init__(self, id: _Optional[str] = ..., subject_kind: _Optional[str] = ..., subject_id: _Optional[str] = ..., trigger: _Optional[str] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., compute_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sections: _Optional[_Iterable[_Union[ExposureSection, _Mapping]]] = ...) -> None: ...

class GetExposureResponse(_message.Message):
    __slots__ = ("exposure",)
    EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    exposure: Exposure
    def __init__(self, exposure: _Optional[_Union[Exposure, _Mapping]] = ...) -> None: ...

class RotationTask(_message.Message):
    __slots__ = ("id", "site_id", "area_id", "subject", "reason", "since", "status", "open_time", "close_time", "closed_how", "closed_by", "close_reason", "exposed_user_id", "exposed_organization_id", "exposure_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSE_TIME_FIELD_NUMBER: _ClassVar[int]
    CLOSED_HOW_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    CLOSE_REASON_FIELD_NUMBER: _ClassVar[int]
    EXPOSED_USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPOSED_ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    site_id: str
    area_id: str
    subject: str
    reason: str
    since: _timestamp_pb2.Timestamp
    status: str
    open_time: _timestamp_pb2.Timestamp
    close_time: _timestamp_pb2.Timestamp
    closed_how: str
    closed_by: str
    close_reason: str
    exposed_user_id: str
    exposed_organization_id: str
    exposure_id: str
    def __init__(self, id: _Optional[str] = ..., site_id: _Optional[str] = ..., area_id: _Optional[str] = ..., subject: _Optional[str] = ..., reason: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., open_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., close_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_how: _Optional[str] = ..., closed_by: _Optional[str] = ..., close_reason: _Optional[str] = ..., exposed_user_id: _Optional[str] = ..., exposed_organization_id: _Optional[str] = ..., exposure_id: _Optional[str] = ...) -> None: ...

class ListRotationTasksRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "area_id", "status", "site_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    area_id: str
    status: str
    site_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., area_id: _Optional[str] = ..., status: _Optional[str] = ..., site_id: _Optional[str] = ...) -> None: ...

class ListRotationTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[RotationTask]
    next_page_token: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[RotationTask, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CloseRotationTaskRequest(_message.Message):
    __slots__ = ("id", "reason")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CloseRotationTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: RotationTask
    def __init__(self, task: _Optional[_Union[RotationTask, _Mapping]] = ...) -> None: ...

class OverdueSecret(_message.Message):
    __slots__ = ("site_id", "area_id", "kind", "version", "write_time", "max_age_days", "overdue_since")
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WRITE_TIME_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_SINCE_FIELD_NUMBER: _ClassVar[int]
    site_id: str
    area_id: str
    kind: SecretKind
    version: int
    write_time: _timestamp_pb2.Timestamp
    max_age_days: int
    overdue_since: _timestamp_pb2.Timestamp
    def __init__(self, site_id: _Optional[str] = ..., area_id: _Optional[str] = ..., kind: _Optional[_Union[SecretKind, str]] = ..., version: _Optional[int] = ..., write_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., max_age_days: _Optional[int] = ..., overdue_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOverdueSecretsRequest(_message.Message):
    __slots__ = ("area_id", "site_id")
    AREA_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    area_id: str
    site_id: str
    def __init__(self, area_id: _Optional[str] = ..., site_id: _Optional[str] = ...) -> None: ...

class ListOverdueSecretsResponse(_message.Message):
    __slots__ = ("secrets",)
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    secrets: _containers.RepeatedCompositeFieldContainer[OverdueSecret]
    def __init__(self, secrets: _Optional[_Iterable[_Union[OverdueSecret, _Mapping]]] = ...) -> None: ...

class SecretAgeLimit(_message.Message):
    __slots__ = ("kind", "max_age_days")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAX_AGE_DAYS_FIELD_NUMBER: _ClassVar[int]
    kind: SecretKind
    max_age_days: int
    def __init__(self, kind: _Optional[_Union[SecretKind, str]] = ..., max_age_days: _Optional[int] = ...) -> None: ...

class GetSecretAgePolicyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSecretAgePolicyResponse(_message.Message):
    __slots__ = ("limits",)
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: _containers.RepeatedCompositeFieldContainer[SecretAgeLimit]
    def __init__(self, limits: _Optional[_Iterable[_Union[SecretAgeLimit, _Mapping]]] = ...) -> None: ...

class UpdateSecretAgePolicyRequest(_message.Message):
    __slots__ = ("limits",)
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: _containers.RepeatedCompositeFieldContainer[SecretAgeLimit]
    def __init__(self, limits: _Optional[_Iterable[_Union[SecretAgeLimit, _Mapping]]] = ...) -> None: ...

class UpdateSecretAgePolicyResponse(_message.Message):
    __slots__ = ("limits",)
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    limits: _containers.RepeatedCompositeFieldContainer[SecretAgeLimit]
    def __init__(self, limits: _Optional[_Iterable[_Union[SecretAgeLimit, _Mapping]]] = ...) -> None: ...

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
