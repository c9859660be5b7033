"""Subject and stream naming: ``fieldvault.<tenant>.<service>.v1.<event>``.

The tenant is the second token so that a NATS account or permission can be
scoped to one tenant with a wildcard (``fieldvault.<tenant>.>``), and the
version sits next to the service so a ``v2`` of an event can live alongside
``v1`` while consumers migrate.
"""

from __future__ import annotations

import re

from fieldvault_platform.errors import InvalidArgument

SUBJECT_PREFIX = "fieldvault"
EVENT_VERSION = "v1"

# ``.`` separates tokens, ``*`` and ``>`` are wildcards and whitespace ends a
# subject in the NATS protocol: a token holding any of them would publish to,
# or subscribe to, someone else's subject.
_FORBIDDEN = re.compile(r"[.*>\s]")
# Stream names end up in JetStream API subjects and file-store directory names.
_STREAM_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def _check_token(kind: str, value: str) -> str:
    if not value:
        raise InvalidArgument(f"{kind} must not be empty in an event subject")
    if _FORBIDDEN.search(value):
        # The value itself is not echoed: it may come from a caller.
        raise InvalidArgument(
            f"{kind} must not contain '.', '*', '>' or whitespace in an event subject"
        )
    return value


def event_subject(tenant_id: str, service: str, event: str) -> str:
    """The subject one event of one tenant is published on."""
    tokens = (
        _check_token("tenant id", tenant_id),
        _check_token("service", service),
        _check_token("event", event),
    )
    return f"{SUBJECT_PREFIX}.{tokens[0]}.{tokens[1]}.{EVENT_VERSION}.{tokens[2]}"


def service_subjects(service: str) -> str:
    """The wildcard covering every tenant's events of one service."""
    return f"{SUBJECT_PREFIX}.*.{_check_token('service', service)}.{EVENT_VERSION}.>"


def stream_name(service: str) -> str:
    """The JetStream stream holding one service's events, e.g. ``FIELDVAULT_WORK_ORDER``."""
    _check_token("service", service)
    if not _STREAM_TOKEN.match(service):
        raise InvalidArgument("service must be letters, digits, '_' or '-' to name a stream")
    return f"{SUBJECT_PREFIX}_{service}".upper().replace("-", "_")
