from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

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
