"""Input checks shared by the use cases; messages name the field, never its value."""

from __future__ import annotations

import unicodedata

from fieldvault_platform.errors import InvalidArgument


def _has_control_characters(value: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(char) == "Cc" and char not in allowed for char in value)


def optional_text(field: str, value: str, limit: int) -> str:
    value = value.strip()
    if len(value) > limit:
        raise InvalidArgument(f"{field} must be at most {limit} characters")
    if _has_control_characters(
        value, allow_newlines=field in {"notes", "address", "access_instructions"}
    ):
        raise InvalidArgument(f"{field} must not contain control characters")
    return value


def required_text(field: str, value: str, limit: int) -> str:
    value = optional_text(field, value, limit)
    if not value:
        raise InvalidArgument(f"{field} is required")
    return value
