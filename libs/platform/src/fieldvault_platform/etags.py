"""Entity tags of versioned rows (HTTP strong-etag syntax) and the If-Match check."""

from __future__ import annotations

from fieldvault_platform.errors import FailedPrecondition


def etag_of(version: int) -> str:
    """An opaque entity tag for a row version."""
    return f'"{version}"'


def stale(what: str = "the resource") -> FailedPrecondition:
    return FailedPrecondition(
        f"{what} changed since it was read; fetch it again", code="precondition_failed"
    )


def check_etag(etag: str, version: int, what: str = "the resource") -> None:
    """Refuse an update based on a stale read (an empty etag: no precondition)."""
    if etag and etag.strip().removeprefix("W/") != etag_of(version):
        raise stale(what)
