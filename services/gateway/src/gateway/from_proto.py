"""One conversion from a protobuf message to a REST response model, by the model's fields.

The routes and request bodies are hand-written (REST is its own contract); reading
an answer back is mechanical. For each field of a ``ProtoModel`` the message field
of the same name (or the one ``proto_names`` gives) is read by what both sides are:

- a Timestamp is an aware UTC datetime (``from_timestamp``); unset is ``None``,
  or an error when the model's field is not optional;
- an enum is its value's name without the enum's prefix, lower case
  (``PRIORITY_HIGH`` -> ``high``); UNSPECIFIED is ``None`` for an optional field,
  and a value this gateway does not know is an error (a contract mismatch: a 500,
  never a wrong name);
- a message is the nested model's ``of``; repeated fields are lists, maps dicts;
- any other scalar is copied, except that the proto3 empty value (``""``, ``0``)
  is ``None`` for an optional field, so "not given" reads the same everywhere.

``fallbacks`` names what a field reads as when the service left it empty, or gave
a value outside the field's ``Literal`` (for an enum: one this gateway does not
know). Pydantic then checks the result against the model as for any other input.

Which message fields a model reads is worked out once per model and message type;
a model field with no message field to read from is an error on the first use.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, ClassVar, Literal, Self, TypeVar, Union, get_args, get_origin

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from fieldvault_platform.timestamps import from_timestamp

Reader = Callable[[Message], Any]
M = TypeVar("M", bound="ProtoModel")

_TIMESTAMP = "google.protobuf.Timestamp"


class ProtoModel(BaseModel):
    """A REST response model read from a protobuf message by its fields (``of``)."""

    #: REST name -> message field name, for the fields whose names differ.
    proto_names: ClassVar[Mapping[str, str]] = {}
    #: REST name -> what it reads as when empty or outside the field's ``Literal``.
    fallbacks: ClassVar[Mapping[str, object]] = {}

    @classmethod
    def of(cls, message: Message) -> Self:
        return from_proto(cls, message)


def from_proto(model: type[M], message: Message) -> M:
    """``model`` read from ``message`` (see the module's docstring for the rules)."""
    return model(**{name: read(message) for name, read in _readers(model, message.DESCRIPTOR)})


class EnumValueUnknown(ValueError):
    """An enum value the gateway has no REST name for: the peer speaks a newer contract."""


@cache
def _readers(model: type[ProtoModel], descriptor: Descriptor) -> tuple[tuple[str, Reader], ...]:
    readers = []
    for name, info in model.model_fields.items():
        proto_name = model.proto_names.get(name, name)
        field = descriptor.fields_by_name.get(proto_name)
        if field is None:
            raise TypeError(f"{model.__name__}.{name}: {descriptor.full_name} has no {proto_name}")
        try:
            readers.append((name, _reader(field, info, model.fallbacks.get(name))))
        except TypeError as exc:
            raise TypeError(f"{model.__name__}.{name}: {exc}") from None
    return tuple(readers)


def _reader(field: FieldDescriptor, info: FieldInfo, fallback: object) -> Reader:
    name = field.name
    annotation = info.annotation
    optional = _is_optional(annotation)
    inner = _without_none(annotation)
    message_type = field.message_type
    if message_type is not None and message_type.GetOptions().map_entry:
        if message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE:
            raise TypeError(f"the map {field.full_name} holds messages")
        return lambda message: dict(getattr(message, name))
    if message_type is not None and message_type.full_name == _TIMESTAMP:
        if field.is_repeated:
            raise TypeError(f"{field.full_name} is a repeated Timestamp")
        if optional:
            return lambda message: from_timestamp(message, name)
        return lambda message: from_timestamp(message, name, required=True)
    if message_type is not None:
        nested = _nested_model(get_args(inner)[0] if field.is_repeated else inner)
        if field.is_repeated:
            return lambda message: [nested.of(item) for item in getattr(message, name)]
        if optional:
            return lambda message: (
                nested.of(getattr(message, name)) if message.HasField(name) else None
            )
        return lambda message: nested.of(getattr(message, name))
    if field.is_repeated:
        if field.enum_type is not None:
            raise TypeError(f"{field.full_name} is a repeated enum")
        return lambda message: list(getattr(message, name))
    if field.enum_type is not None:
        read = _enum_reader(field, unknown_is_none=fallback is not None)
    else:
        read = _scalar_reader(name)
    if fallback is not None:
        allowed = _literal_values(inner)
        return lambda message: _or_fallback(read(message), allowed, fallback)
    if optional:
        return lambda message: read(message) or None
    return read


def _scalar_reader(name: str) -> Reader:
    return lambda message: getattr(message, name)


def _enum_reader(field: FieldDescriptor, *, unknown_is_none: bool) -> Reader:
    """The REST name of the enum's value; ``None`` for UNSPECIFIED (0). A value the
    gateway does not know is an error, or ``None`` when the field has a fallback."""
    name, enum = field.name, field.enum_type
    assert enum is not None
    names = rest_names(enum)

    def read(message: Message) -> str | None:
        number = getattr(message, name)
        if number == 0:
            return None
        try:
            return names[number]
        except KeyError:
            if unknown_is_none:
                return None
            raise EnumValueUnknown(
                f"{field.full_name} is {number}, not a value of {enum.full_name}"
            ) from None

    return read


@cache
def rest_names(enum: EnumDescriptor) -> Mapping[int, str]:
    """Each value of ``enum`` but UNSPECIFIED (0) by its REST name: the value's name
    without the enum's prefix, lower case (``WORK_ORDER_STATUS_IN_PROGRESS`` of
    ``WorkOrderStatus`` is ``in_progress``)."""
    prefix = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", enum.name).upper() + "_"
    names = {}
    for value in enum.values:
        if not value.name.startswith(prefix):
            raise TypeError(f"{value.name} of {enum.full_name} does not start with {prefix}")
        if value.number != 0:
            names[value.number] = value.name.removeprefix(prefix).lower()
    return names


def _or_fallback(value: object, allowed: frozenset[object] | None, fallback: object) -> object:
    if not value or (allowed is not None and value not in allowed):
        return fallback
    return value


def _nested_model(annotation: Any) -> type[ProtoModel]:
    if isinstance(annotation, type) and issubclass(annotation, ProtoModel):
        return annotation
    raise TypeError(f"{annotation!r} is not a ProtoModel")


def _is_optional(annotation: Any) -> bool:
    return _is_union(annotation) and type(None) in get_args(annotation)


def _without_none(annotation: Any) -> Any:
    """``X`` of ``X | None``; any other annotation as it is."""
    rest = [arg for arg in get_args(annotation) if arg is not type(None)]
    return rest[0] if _is_optional(annotation) and len(rest) == 1 else annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _literal_values(annotation: Any) -> frozenset[object] | None:
    return frozenset(get_args(annotation)) if get_origin(annotation) is Literal else None
