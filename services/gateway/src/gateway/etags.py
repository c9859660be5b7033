"""The ``ETag`` header of a mutable resource (its ``If-Match`` side: ``dependencies.IfMatch``)."""

from __future__ import annotations

from typing import Protocol, TypeVar

from fastapi import Response


class Versioned(Protocol):
    @property
    def etag(self) -> str: ...


VersionedT = TypeVar("VersionedT", bound=Versioned)


def with_etag(response: Response, resource: VersionedT) -> VersionedT:
    """``resource``, with its ``etag`` also sent as the ``ETag`` header (docs/api.md#etags)."""
    response.headers["ETag"] = resource.etag
    return resource
