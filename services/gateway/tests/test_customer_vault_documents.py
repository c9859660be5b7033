"""Contract documents, GDPR export, grants and the audit trail through the gateway,
against the stand-in customer_vault (``fake_customer_vault.py``): the upload limit,
download headers that no filename can break, and the field mapping of each read."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb

from .fake_customer_vault import VaultGateway, fake_vault_gateway
from .fake_identity import USER

LIMIT = 1024
PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
async def fake(start_peer: Any) -> AsyncIterator[VaultGateway]:
    async with fake_vault_gateway(start_peer, max_contract_bytes=LIMIT) as gateway:
        yield gateway


async def a_customer(fake: VaultGateway) -> str:
    response = await fake.client.post("/v1/customers", json={"name": "Oy"}, headers=fake.bearer())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def stamp(moment: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


# --- contracts ------------------------------------------------------------------------


async def test_an_uploaded_contract_reaches_the_vault_whole(fake: VaultGateway) -> None:
    customer_id = await a_customer(fake)

    response = await fake.client.post(
        f"/v1/customers/{customer_id}/contracts",
        files={"file": ("Sopimus 2026.pdf", PDF, "application/pdf")},
        headers=fake.bearer(),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["filename"], body["content_type"], body["size"]) == (
        "Sopimus 2026.pdf",
        "application/pdf",
        len(PDF),
    )
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["uploaded_by"] == USER and body["created_at"].endswith("Z")
    (upload,) = fake.vault.requests("UploadContract")
    assert (upload.customer_id, upload.filename, upload.content) == (
        customer_id,
        "Sopimus 2026.pdf",
        PDF,
    )

    listed = await fake.client.get(f"/v1/customers/{customer_id}/contracts", headers=fake.bearer())
    assert listed.json()["items"] == [body]


async def test_a_contract_of_exactly_the_limit_is_accepted(fake: VaultGateway) -> None:
    customer_id = await a_customer(fake)

    response = await fake.client.post(
        f"/v1/customers/{customer_id}/contracts",
        files={"file": ("a.txt", b"a" * LIMIT, "text/plain")},
        headers=fake.bearer(),
    )

    assert response.status_code == 201, response.text
    assert len(fake.vault.requests("UploadContract")[0].content) == LIMIT


async def test_a_contract_over_the_limit_is_413_and_never_reaches_the_vault(
    fake: VaultGateway,
) -> None:
    response = await fake.client.post(
        "/v1/customers/c-1/contracts",
        files={"file": ("a.txt", b"a" * (LIMIT + 1), "text/plain")},
        headers=fake.bearer(),
    )

    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert fake.vault.requests("UploadContract") == []


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(
    fake: VaultGateway,
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        while sent < 50 * 1024 * 1024:
            sent += 64 * 1024
            yield b"a" * 64 * 1024

    response = await fake.client.post(
        "/v1/customers/c-1/contracts",
        content=endless(),
        headers=fake.bearer() | {"Content-Type": "multipart/form-data; boundary=b"},
    )

    assert response.status_code == 413
    assert sent < 1024 * 1024, "stopped reading soon after the limit"
    assert fake.vault.requests("UploadContract") == []


async def test_an_upload_without_a_file_part_is_422(fake: VaultGateway) -> None:
    response = await fake.client.post(
        "/v1/customers/c-1/contracts", data={"file": "not a file"}, headers=fake.bearer()
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "body.file", "message": "a file is required"}]


async def test_a_download_is_an_uncached_unsniffed_attachment(fake: VaultGateway) -> None:
    customer_id = await a_customer(fake)
    contract_id = fake.vault.add_contract(customer_id, "Sopimus ä.pdf", "application/pdf", PDF)

    response = await fake.client.get(
        f"/v1/contracts/{contract_id}/content",
        headers=fake.bearer() | {"X-Request-Id": "req-download-1"},
    )

    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''Sopimus%20%C3%A4.pdf"
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert fake.vault.requests("DownloadContract")[0].request_id == "req-download-1"


async def test_a_stored_filename_or_type_cannot_add_a_header(fake: VaultGateway) -> None:
    customer_id = await a_customer(fake)
    contract_id = fake.vault.add_contract(
        customer_id, 'x";\r\nSet-Cookie: pwned=1\r\n.pdf', "text/html\r\nX-Evil: 1", PDF
    )

    response = await fake.client.get(f"/v1/contracts/{contract_id}/content", headers=fake.bearer())

    assert response.status_code == 200
    assert "set-cookie" not in response.headers and "x-evil" not in response.headers
    assert response.headers["content-disposition"] == (
        "attachment; filename*=UTF-8''x%22%3B%0D%0ASet-Cookie%3A%20pwned%3D1%0D%0A.pdf"
    )
    assert response.headers["content-type"] == "application/octet-stream"


async def test_a_text_contract_is_served_with_its_stored_type_unchanged(
    fake: VaultGateway,
) -> None:
    contract_id = fake.vault.add_contract(await a_customer(fake), "a.txt", "text/plain", b"hi")

    response = await fake.client.get(f"/v1/contracts/{contract_id}/content", headers=fake.bearer())

    assert response.headers["content-type"] == "text/plain", "no charset the file may not be in"


# --- GDPR export ----------------------------------------------------------------------


async def test_the_export_is_the_vaults_json_document_uncached(fake: VaultGateway) -> None:
    customer_id = await a_customer(fake)

    response = await fake.client.get(
        f"/v1/customers/{customer_id}/export",
        headers=fake.bearer() | {"X-Request-Id": "req-export-1"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["customer"]["id"] == customer_id
    assert fake.vault.requests("ExportCustomer")[0].request_id == "req-export-1"


async def test_code_values_are_exported_only_when_asked_for_with_a_reason(
    fake: VaultGateway,
) -> None:
    customer_id = await a_customer(fake)
    fake.vault.sites["s-1"] = pb.Site(id="s-1", customer_id=customer_id, area_id="a-1")
    fake.vault.secrets[("s-1", pb.SECRET_KIND_DOOR_CODE)] = ("C0DE-4711", pb.SecretMetadata())
    url = f"/v1/customers/{customer_id}/export"

    plain = await fake.client.get(url, headers=fake.bearer())
    assert plain.status_code == 200, plain.text
    assert "C0DE-4711" not in plain.text
    assert plain.json()["sites"][0]["secrets"][0]["kind"] == "door_code"

    for params in (
        {"include_secret_values": "true"},
        {"include_secret_values": "true", "reason": " "},
    ):
        refused = await fake.client.get(url, params=params, headers=fake.bearer())
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_error"
        assert refused.json()["errors"][0]["field"] == "query.reason"
    assert len(fake.vault.requests("ExportCustomer")) == 1, "refused before the vault is asked"

    reason = "Art. 15 request of 2026-12-04"
    with_values = await fake.client.get(
        url, params={"include_secret_values": "true", "reason": reason}, headers=fake.bearer()
    )
    assert with_values.status_code == 200, with_values.text
    assert with_values.json()["sites"][0]["secrets"][0]["value"] == "C0DE-4711"
    assert with_values.headers["cache-control"] == "no-store"
    forwarded = fake.vault.requests("ExportCustomer")[-1]
    assert (forwarded.include_secret_values, forwarded.reason) == (True, reason)


async def test_too_many_exports_with_code_values_is_429_with_retry_after(
    fake: VaultGateway,
) -> None:
    customer_id = await a_customer(fake)
    params = {"include_secret_values": "true", "reason": "Art. 15 request of 2026-12-04"}
    url = f"/v1/customers/{customer_id}/export"
    for _ in range(2):  # the fake's limit
        assert (await fake.client.get(url, params=params, headers=fake.bearer())).status_code == 200

    response = await fake.client.get(url, params=params, headers=fake.bearer())

    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    assert response.headers["retry-after"] == "86400"


async def test_an_export_with_code_values_nobody_asked_for_never_leaves(
    fake: VaultGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer_id = await a_customer(fake)
    fake.vault.sites["s-1"] = pb.Site(id="s-1", customer_id=customer_id, area_id="a-1")
    fake.vault.secrets[("s-1", pb.SECRET_KIND_DOOR_CODE)] = ("C0DE-4711", pb.SecretMetadata())
    exporting = fake.vault._export
    monkeypatch.setattr(fake.vault, "_export", lambda customer, _: exporting(customer, True))

    response = await fake.client.get(f"/v1/customers/{customer_id}/export", headers=fake.bearer())

    assert response.status_code == 500
    assert "C0DE-4711" not in response.text


async def test_an_erased_customers_export_is_410(fake: VaultGateway) -> None:
    customer_id = await a_customer(fake)
    fake.vault.erased.add(customer_id)

    response = await fake.client.get(f"/v1/customers/{customer_id}/export", headers=fake.bearer())

    assert response.status_code == 410
    assert response.json()["code"] == "erased"


# --- grants ---------------------------------------------------------------------------


async def test_grants_are_listed_with_their_filters_and_unset_times_as_null(
    fake: VaultGateway,
) -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    fake.vault.grants.append(
        pb.Grant(
            id="g-1",
            site_id="s-1",
            organization_id="org-sub",
            subcontractor=True,
            fields=["door_code", "contracts"],
            work_order_id="wo-1",
            valid_from=stamp(start),
            granted_by_service="service:work_order",
            granted_on_behalf_of="dispatcher-1",
            active=True,
        )
    )
    fake.vault.next_page_token = "more"

    response = await fake.client.get(
        "/v1/grants",
        params={"site_id": "s-1", "user_id": "u-1", "active": "true", "work_order_id": "wo-1"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (grant,) = response.json()["items"]
    assert grant["user_id"] is None, "the organisation as a whole"
    assert (grant["organization_id"], grant["subcontractor"]) == ("org-sub", True)
    assert grant["fields"] == ["door_code", "contracts"]
    assert datetime.fromisoformat(grant["valid_from"]) == start
    assert grant["valid_until"] is None and grant["revoked_at"] is None
    assert grant["revoke_reason"] is None and grant["active"] is True
    assert response.json()["next_page_token"] == "more"
    (request,) = fake.vault.requests("ListGrants")
    assert (request.site_id, request.user_id, request.work_order_id) == ("s-1", "u-1", "wo-1")
    assert request.active_only is True


# --- audit ----------------------------------------------------------------------------


async def test_audit_events_are_searched_with_times_in_utc(fake: VaultGateway) -> None:
    fake.vault.events.append(
        pb.AuditEvent(
            id="e-1",
            sequence=1,
            occur_time=stamp(datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
            actor_kind="user",
            actor_id=USER,
            action="secret.reveal",
            site_id="s-1",
            fields=["door_code"],
            purpose="break_glass",
            outcome="success",
            break_glass=True,
            hash="ab12",
        )
    )

    response = await fake.client.get(
        "/v1/audit-events",
        params={
            "customer_id": "c-1",
            "site_id": "s-1",
            "actor_id": USER,
            "action": "secret.reveal",
            "since": "2026-03-01T10:00:00+02:00",
            "until": "2026-03-02T00:00:00Z",
        },
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (event,) = response.json()["items"]
    assert (event["action"], event["purpose"], event["break_glass"]) == (
        "secret.reveal",
        "break_glass",
        True,
    )
    assert event["occurred_at"] == "2026-03-01T09:30:00Z"
    assert event["customer_id"] is None and event["request_id"] is None
    (request,) = fake.vault.requests("ListAuditEvents")
    assert (request.customer_id, request.site_id, request.actor_id, request.action) == (
        "c-1",
        "s-1",
        USER,
        "secret.reveal",
    )
    assert request.since.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert request.until.ToDatetime(tzinfo=UTC) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


async def test_audit_search_without_times_leaves_them_unset(fake: VaultGateway) -> None:
    response = await fake.client.get("/v1/audit-events", headers=fake.bearer())

    assert response.status_code == 200
    (request,) = fake.vault.requests("ListAuditEvents")
    assert not request.HasField("since") and not request.HasField("until")


async def test_an_audit_time_without_an_offset_is_refused(fake: VaultGateway) -> None:
    response = await fake.client.get(
        "/v1/audit-events", params={"since": "2026-03-01T10:00:00"}, headers=fake.bearer()
    )

    assert response.status_code == 422
    assert fake.vault.requests("ListAuditEvents") == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("since", "0001-01-01T00:00:00+05:00"),  # 0000-12-31T19:00Z: before year 1 in UTC
        ("until", "9999-12-31T23:59:59-05:00"),  # 10000-01-01T04:59:59Z: after year 9999
    ],
)
async def test_an_audit_time_outside_the_years_a_timestamp_holds_is_422_naming_it(
    fake: VaultGateway, name: str, value: str
) -> None:
    response = await fake.client.get(
        "/v1/audit-events", params={name: value}, headers=fake.bearer()
    )

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"] == [{"field": f"query.{name}", "message": "the time is out of range"}]
    assert fake.vault.requests("ListAuditEvents") == []


async def test_an_audit_time_at_the_edge_of_the_years_is_sent_on(fake: VaultGateway) -> None:
    response = await fake.client.get(
        "/v1/audit-events",
        params={"since": "0001-01-01T00:00:00-05:00", "until": "9999-12-31T23:59:59+05:00"},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    (request,) = fake.vault.requests("ListAuditEvents")
    assert request.since.ToDatetime(tzinfo=UTC) == datetime(1, 1, 1, 5, 0, tzinfo=UTC)
    assert request.until.ToDatetime(tzinfo=UTC) == datetime(9999, 12, 31, 18, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            pb.VerifyAuditTrailResponse(ok=True, checked=12),
            {"ok": True, "checked": 12, "first_broken_event_id": None, "problem": None},
        ),
        (
            pb.VerifyAuditTrailResponse(
                ok=False, checked=5, first_broken_event_id="e-5", problem="hash_mismatch"
            ),
            {"ok": False, "checked": 5, "first_broken_event_id": "e-5", "problem": "hash_mismatch"},
        ),
    ],
)
async def test_audit_verification_names_the_first_broken_record(
    fake: VaultGateway, result: pb.VerifyAuditTrailResponse, expected: dict[str, Any]
) -> None:
    fake.vault.verification = result

    response = await fake.client.get("/v1/audit-events/verify", headers=fake.bearer())

    assert response.status_code == 200, response.text
    assert response.json() == expected


async def test_the_stated_reason_is_in_no_span(
    fake: VaultGateway, spans: InMemorySpanExporter
) -> None:
    customer_id = await a_customer(fake)
    reason = "Canary reason Marrowfield 7731"

    response = await fake.client.get(
        f"/v1/customers/{customer_id}/export",
        params={"include_secret_values": "true", "reason": reason},
        headers=fake.bearer(),
    )

    assert response.status_code == 200, response.text
    finished = spans.get_finished_spans()
    assert finished, "the request must have produced spans"
    for span in finished:
        texts = [span.name, *(str(value) for value in (span.attributes or {}).values())]
        assert not [text for text in texts if "Marrowfield" in text], span.name
