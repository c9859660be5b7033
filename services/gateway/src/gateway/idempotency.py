"""``Idempotency-Key`` on creates: the same key and body get the same resource, once made.

Applies to every ``POST`` route that creates (answers 201). The outcome is kept in
a JetStream key-value bucket, so every replica sees it, for
``idempotency_ttl_seconds`` (24 h by default). The entry's key is the SHA-256 of
the caller (verified subject and tenant, or a hash of a non-JWT bearer such as the
operator token), method, path and the header's value; the entry holds a hash of
the body and, once the create succeeded, only what a replay needs: its status,
``Location`` / ``ETag`` and the created resource's id. Never the answer itself:
it holds decrypted personal data (a customer's contacts, a site's address, a
person's name), which must not sit in a bucket every service can read, nor
outlive an erasure there.

* First request: an ``in_flight`` entry is created atomically (only one of
  concurrent duplicates wins; the others get 409 ``idempotency_key_in_use``),
  the request runs, and a 2xx outcome is stored. Any other answer removes the
  entry, so a retry runs again.
* Same key, same body afterwards: the resource is read again, with the
  caller's own token, through the route the create declared
  (:func:`replayed_by_reading`), and answered with the create's status and
  ``Idempotent-Replayed: true``; the create is not run again. An erased
  customer's resource answers what reading it answers (410 ``erased``), one
  deleted or no longer visible to the caller its 404.
* Same key, another body: 422 ``idempotency_key_reused``.
* An answer the route marked ``Cache-Control: no-store`` carries a secret shown
  once (an API client's secret, a webhook's signing secret, an invitation URL):
  only a marker is stored, and a replay is 409 ``idempotency_key_reused``
  saying so. So is a create whose route declared no way to read it again.
* Without NATS the guarantee cannot be kept: a request with the header is 503
  ``unavailable`` (one without it is served as usual).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Header
from fastapi.routing import APIRoute
from nats.aio.client import Client as NatsClient
from nats.js.errors import (
    BucketNotFoundError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.edge import (
    answer_problem,
    app_state,
    bearer_token,
    matched_route_and_parameters,
    verified_principal,
)

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
#: Headers of a create's answer kept for its replay (never its body).
KEPT_HEADERS = ("location", "etag")
#: Headers of the re-read a replay passes on (an error's too).
REREAD_HEADERS = ("content-type", "etag", "retry-after", "www-authenticate")
#: Page size when a replay finds its resource in a list.
REREAD_PAGE_SIZE = 200
#: Pages a replay reads at most looking for its resource in a list.
REREAD_MAX_PAGES = 50
#: A request in flight for longer than this is taken to have died with its replica.
ABANDONED_AFTER_SECONDS = 120.0
KV_TIMEOUT_SECONDS = 2.0
#: Opening (or, the first time, creating) the bucket: a cluster places its replicas.
OPEN_TIMEOUT_SECONDS = 10.0

IN_FLIGHT = "in_flight"
DONE = "done"
SHOWN_ONCE = "shown_once"


DESCRIPTION = (
    "A unique value per intended create (e.g. a UUID). Retrying with the same key and "
    "body answers the created resource again (read anew, as it is now) for 24 h without "
    "creating twice; another body with the key is 422 `idempotency_key_reused`; a retry "
    "while the first is still running is 409 `idempotency_key_in_use`. A create whose "
    "answer holds a secret shown once is not repeated: 409 `idempotency_key_reused`."
)


@dataclass(frozen=True)
class Reread:
    """How a replay reads the created resource again: a ``GET`` of ``path``, as the caller.

    ``path`` names the created resource's id as ``{id}`` and may name the create
    path's own parameters (``/v1/customers/{customer_id}/contracts``). ``listed``:
    the path answers a page of items (``items``, ``next_page_token``) and the
    replay is the item with the id.
    """

    path: str
    listed: bool = False


class IdempotentCreate:
    """The ``Idempotency-Key`` header of a create route (documented in OpenAPI), and how
    its replay reads the resource; :class:`IdempotencyMiddleware` does the work."""

    def __init__(self, reread: Reread | None) -> None:
        self.reread = reread

    async def __call__(
        self,
        idempotency_key: Annotated[
            str | None,
            Header(alias=HEADER, min_length=1, max_length=MAX_KEY_LENGTH, description=DESCRIPTION),
        ] = None,
    ) -> str | None:
        return idempotency_key


def replayed_by_reading(path: str, *, listed: bool = False) -> Any:
    """For a create route's ``dependencies=[...]``: honours ``Idempotency-Key``, a replay
    answering the resource read again from ``path`` (see :class:`Reread`)."""
    return Depends(IdempotentCreate(Reread(path, listed)))


#: For a create route whose answer holds a secret shown once (``no-store``): its
#: replay cannot repeat the answer and reads nothing.
IdempotencyKey = Depends(IdempotentCreate(None))


def idempotent_create(route: APIRoute) -> IdempotentCreate | None:
    """The route's ``Idempotency-Key`` declaration, if it has one."""
    for dependency in route.dependencies:
        if isinstance(dependency.dependency, IdempotentCreate):
            return dependency.dependency
    return None


#: OpenAPI responses of a create route that honours the header.
RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "A request with this Idempotency-Key is still running, or its "
        "answer held a secret shown once (idempotency_key_in_use, idempotency_key_reused)"
    },
    422: {
        "description": "Validation error, or the Idempotency-Key was used with another "
        "body (idempotency_key_reused)"
    },
    503: {"description": "The Idempotency-Key cannot be honoured right now (unavailable)"},
}


class IdempotencyUnavailable(Exception):
    """The key-value bucket cannot be reached."""


@dataclass
class IdempotencyStore:
    """The bucket, opened (or created) on first use over the gateway's NATS connection."""

    bucket: str
    ttl_seconds: int
    #: JetStream replicas of the bucket when this store creates it (``nats_replicas``).
    replicas: int = 1
    _kv: KeyValue | None = None
    _client: NatsClient | None = None

    async def kv(self, client: NatsClient | None) -> KeyValue:
        if client is None or not client.is_connected:
            raise IdempotencyUnavailable
        if self._kv is not None and self._client is client:
            return self._kv
        js = client.jetstream()
        try:
            try:
                kv = await asyncio.wait_for(js.key_value(self.bucket), OPEN_TIMEOUT_SECONDS)
            except BucketNotFoundError:
                kv = await asyncio.wait_for(
                    js.create_key_value(
                        bucket=self.bucket,
                        ttl=self.ttl_seconds,
                        history=1,
                        replicas=self.replicas,
                    ),
                    OPEN_TIMEOUT_SECONDS,
                )
        except Exception as exc:
            raise IdempotencyUnavailable from exc
        self._kv, self._client = kv, client
        return kv


def entry_key(*, subject: str, tenant: str, method: str, path: str, key: str) -> str:
    material = "\x00".join((subject, tenant, method, path, key))
    return hashlib.sha256(material.encode()).hexdigest()


def body_hash(body: bytes) -> str:
    """Of the JSON value when the body is JSON, so spacing and member order do not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


async def _caller(scope: Scope) -> tuple[str, str]:
    principal = await verified_principal(scope)
    if principal is not None:
        return principal.subject, principal.tenant_id or ""
    token = bearer_token(scope)
    if token is not None:
        # Not a gateway token (the operator's): only its holder can reach its entries.
        return "bearer:" + hashlib.sha256(token.encode()).hexdigest(), ""
    return "anonymous", ""


def _sane(value: str) -> bool:
    return 0 < len(value) <= MAX_KEY_LENGTH and all(32 < ord(c) < 127 for c in value)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, store: IdempotencyStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get(HEADER)
        matched = matched_route_and_parameters(scope) if key is not None else None
        if key is None or matched is None or matched[0].status_code != 201:
            await self.app(scope, receive, send)
            return
        route, parameters = matched
        declared = idempotent_create(route)
        reread = declared.reread if declared is not None else None

        async def refuse(status: int, code: str, detail: str, **headers: str) -> None:
            await answer_problem(
                scope, receive, send, status=status, code=code, detail=detail, headers=headers
            )

        if not _sane(key):
            await refuse(
                400,
                "invalid_idempotency_key",
                f"{HEADER} must be 1-{MAX_KEY_LENGTH} visible ASCII characters",
            )
            return
        try:
            body = await _read_body(receive)
        except HTTPException as exc:  # the body cap (request_guard)
            await refuse(exc.status_code, "payload_too_large", str(exc.detail))
            return
        subject, tenant = await _caller(scope)
        name = entry_key(subject=subject, tenant=tenant, method="POST", path=scope["path"], key=key)
        digest = body_hash(body)
        try:
            auth = getattr(app_state(scope), "edge_auth", None)
            kv = await self.store.kv(getattr(auth, "nats", None))
            claimed = await _claim(kv, name, digest)
        except Exception as exc:
            if not isinstance(exc, IdempotencyUnavailable):
                log.warning("idempotency store failed", extra={"error_type": type(exc).__name__})
            await refuse(
                503,
                "unavailable",
                f"{HEADER} cannot be honoured right now; retry later",
                **{"Retry-After": "5"},
            )
            return
        if isinstance(claimed, dict):
            await self._answer_existing(claimed, digest, scope, send, refuse, reread, parameters)
            return
        await self._run(kv, name, digest, body, scope, receive, send, reread)

    async def _answer_existing(
        self,
        entry: dict[str, Any],
        digest: str,
        scope: Scope,
        send: Send,
        refuse: Any,
        reread: Reread | None,
        parameters: dict[str, str],
    ) -> None:
        resource_id = _stored_id(entry)
        if entry.get("body") != digest:
            await refuse(
                422,
                "idempotency_key_reused",
                f"this {HEADER} was used with another request body; use a new key",
            )
        elif entry.get("state") == IN_FLIGHT:
            await refuse(
                409,
                "idempotency_key_in_use",
                f"a request with this {HEADER} is still being processed; retry later",
                **{"Retry-After": "1"},
            )
        elif entry.get("state") == SHOWN_ONCE or reread is None or resource_id is None:
            await refuse(
                409,
                "idempotency_key_reused",
                "this request already succeeded; its answer held a secret that is shown "
                "only once and cannot be repeated",
            )
        else:
            await _replay(self.app, scope, send, entry, reread, resource_id, parameters)

    async def _run(
        self,
        kv: KeyValue,
        name: str,
        digest: str,
        body: bytes,
        scope: Scope,
        receive: Receive,
        send: Send,
        reread: Reread | None,
    ) -> None:
        replayed = False

        async def replay_receive() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                # Kept only until the id is read from it below; never stored.
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await _forget(kv, name)
            raise
        if not 200 <= status < 300:
            await _forget(kv, name)
            return
        response_headers = MutableHeaders(raw=headers)
        resource_id = _resource_id(b"".join(chunks))
        shown_once = "no-store" in response_headers.get("cache-control", "").lower()
        if shown_once or reread is None or resource_id is None:
            entry: dict[str, Any] = {"state": SHOWN_ONCE, "body": digest}
        else:
            entry = {
                "state": DONE,
                "body": digest,
                "status": status,
                "id": resource_id,
                "headers": {k: response_headers[k] for k in KEPT_HEADERS if k in response_headers},
            }
        try:
            await asyncio.wait_for(kv.put(name, json.dumps(entry).encode()), KV_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("idempotent answer not stored", extra={"error_type": type(exc).__name__})


def _resource_id(content: bytes) -> str | None:
    """The created resource's ``id`` from the create's JSON answer, if it is a usable one."""
    try:
        value = json.loads(content)
    except ValueError:
        return None
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) and _sane(found) and "/" not in found else None


def _stored_id(entry: dict[str, Any]) -> str | None:
    found = entry.get("id")
    return found if isinstance(found, str) and _sane(found) and "/" not in found else None


@dataclass
class _Answer:
    status: int
    headers: Headers
    content: bytes


async def _read_again(app: ASGIApp, scope: Scope, path: str, query: dict[str, str]) -> _Answer:
    """``GET path`` through the routes, with the caller's own headers (their token)."""
    kept = [
        (name, value)
        for name, value in scope.get("headers", ())
        if name not in (b"content-type", b"content-length", HEADER.lower().encode())
    ]
    raw_path = quote(path).encode()
    get_scope = dict(
        scope,
        method="GET",
        path=path,
        raw_path=raw_path,
        query_string=urlencode(query).encode(),
        headers=kept,
    )
    status = 0
    raw_headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def capture(message: Message) -> None:
        nonlocal status, raw_headers
        if message["type"] == "http.response.start":
            status = message["status"]
            raw_headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(get_scope, no_body, capture)
    return _Answer(status, Headers(raw=raw_headers), b"".join(chunks))


async def _reread(
    app: ASGIApp, scope: Scope, reread: Reread, resource_id: str, parameters: dict[str, str]
) -> _Answer | None:
    """The resource as the caller may see it now; None when a list no longer holds it."""
    path = reread.path.format(id=resource_id, **parameters)
    if not reread.listed:
        return await _read_again(app, scope, path, {})
    page_token = ""
    for _ in range(REREAD_MAX_PAGES):
        query = {"page_size": str(REREAD_PAGE_SIZE)} | (
            {"page_token": page_token} if page_token else {}
        )
        answer = await _read_again(app, scope, path, query)
        if answer.status != 200:
            return answer
        page = json.loads(answer.content)
        for item in page.get("items", []):
            if isinstance(item, dict) and item.get("id") == resource_id:
                headers = MutableHeaders(raw=list(answer.headers.raw))
                del headers["etag"]
                if isinstance(item.get("etag"), str):
                    headers["etag"] = item["etag"]
                return _Answer(200, headers, json.dumps(item, separators=(",", ":")).encode())
        page_token = page.get("next_page_token") or ""
        if not page_token:
            break
    return None


async def _replay(
    app: ASGIApp,
    scope: Scope,
    send: Send,
    entry: dict[str, Any],
    reread: Reread,
    resource_id: str,
    parameters: dict[str, str],
) -> None:
    """The create's status with the resource as it is now, or why it cannot be had."""
    answer = await _reread(app, scope, reread, resource_id, parameters)
    if answer is None:
        await answer_problem(
            scope,
            _never_receives,
            send,
            status=404,
            code="not_found",
            detail="the resource this request created no longer exists",
            headers={REPLAYED_HEADER: "true"},
        )
        return
    headers = [
        (name.encode(), value.encode())
        for name in REREAD_HEADERS
        if (value := answer.headers.get(name)) is not None
    ]
    status = answer.status
    if status == 200:
        status = int(entry.get("status", 201))
        location = entry.get("headers", {}).get("location")
        if isinstance(location, str):
            headers.append((b"location", location.encode()))
    headers.append((b"content-length", str(len(answer.content)).encode()))
    headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.content})


async def _never_receives() -> Message:
    return {"type": "http.disconnect"}


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _claim(kv: KeyValue, name: str, digest: str) -> dict[str, Any] | None:
    """None when this request now owns the key, else the entry found."""
    marker = json.dumps({"state": IN_FLIGHT, "body": digest, "since": time.time()}).encode()
    try:
        await asyncio.wait_for(kv.create(name, marker), KV_TIMEOUT_SECONDS)
        return None
    except KeyWrongLastSequenceError:
        pass
    try:
        found = await asyncio.wait_for(kv.get(name), KV_TIMEOUT_SECONDS)
    except (KeyNotFoundError, KeyDeletedError):
        # Removed in between (the first attempt failed): this one may go ahead.
        await asyncio.wait_for(kv.create(name, marker), KV_TIMEOUT_SECONDS)
        return None
    entry: dict[str, Any] = json.loads(found.value or b"{}")
    abandoned = (
        entry.get("state") == IN_FLIGHT
        and entry.get("body") == digest
        and time.time() - float(entry.get("since", 0)) > ABANDONED_AFTER_SECONDS
    )
    if abandoned:
        try:
            await asyncio.wait_for(kv.update(name, marker, last=found.revision), KV_TIMEOUT_SECONDS)
            return None
        except KeyWrongLastSequenceError:
            pass
    return entry


async def _forget(kv: KeyValue, name: str) -> None:
    try:
        await asyncio.wait_for(kv.delete(name), KV_TIMEOUT_SECONDS)
    except Exception as exc:
        log.warning("idempotency marker not removed", extra={"error_type": type(exc).__name__})
