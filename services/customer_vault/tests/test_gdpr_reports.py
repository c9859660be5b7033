"""GDPR reports from what the system knows: the Art. 30 record of processing, a customer's
access report (DPO) and the breach question — who could and who did reveal a site's codes
(auditor, DPO). None of them carries a code value or a customer's personal data."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from vault_testkit import (
    TIMEOUT,
    Metadata,
    RunningVault,
    audit_events,
    error_code,
    grant,
    new_place,
    new_tenant_id,
    reveal,
    timestamp,
)

from customer_vault.access.access_reports import in_force_during
from fieldvault.customer_vault.v1 import customer_vault_pb2 as pb
from fieldvault_devstack.identity_driver import IdentityDriver
from fieldvault_platform.logging import JsonFormatter
from fieldvault_platform.retention import DEFAULT_DAYS, apply_policy_change

pytestmark = pytest.mark.integration

SUB_PROCESSORS = [
    {"name": "Hetzner Online GmbH", "purpose": "hosting", "location": "Germany (EU)"},
    {"name": "46elks AB", "purpose": "SMS delivery", "location": "Sweden (EU)"},
]
CANARIES = {
    "name": "Canary Philippa Oxenbridge",
    "email": "philippa.canary@example.net",
    "door_code": "DC-90431-CANARY",
    "break_glass_reason": "Canary reason Marrowdale 7713",
}


@pytest.fixture
def vault_overrides() -> dict[str, object]:
    return {"sub_processors": SUB_PROCESSORS}


def leaks(text: str) -> list[str]:
    return [name for name, canary in CANARIES.items() if canary.lower() in text.lower()]


async def processing_record(vault: RunningVault, caller: Metadata) -> dict[str, Any]:
    response = await vault.stub.GetProcessingRecord(
        pb.GetProcessingRecordRequest(), metadata=caller, timeout=TIMEOUT
    )
    document: dict[str, Any] = json.loads(response.document)
    return document


async def access_report(
    vault: RunningVault, caller: Metadata, customer_id: str, **bounds: datetime
) -> dict[str, Any]:
    response = await vault.stub.GetCustomerAccessReport(
        pb.GetCustomerAccessReportRequest(
            customer_id=customer_id, **{k: timestamp(v) for k, v in bounds.items()}
        ),
        metadata=caller,
        timeout=TIMEOUT,
    )
    document: dict[str, Any] = json.loads(response.document)
    return document


async def site_access(
    vault: RunningVault, caller: Metadata, site_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    response = await vault.stub.QuerySiteAccess(
        pb.QuerySiteAccessRequest(
            site_id=site_id, from_time=timestamp(start), to_time=timestamp(end)
        ),
        metadata=caller,
        timeout=TIMEOUT,
    )
    document: dict[str, Any] = json.loads(response.document)
    return document


async def refusal(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call
    return f"{refused.value.code().name}:{error_code(refused.value)}"


async def test_the_processing_record_lists_subcontractors_with_dpa_dates_and_documents(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    subcontractor = await identity.new_subcontractor(
        tenant, dpa_signed_on="2026-02-01", dpa_expires_on="2099-01-31"
    )
    lapsed = await identity.new_subcontractor(
        tenant, dpa_signed_on="2020-01-01", dpa_expires_on="2021-01-01"
    )
    admin = await customer_vault.mint.user(tenant.id, roles=["admin"], user_id="admin-1")
    uploaded = await customer_vault.stub.UploadDpaDocument(
        pb.UploadDpaDocumentRequest(
            organization_id=subcontractor,
            filename="DPA.pdf",
            content_type="application/pdf",
            content=b"%PDF-1.7 signed\n%%EOF\n",
        ),
        metadata=admin,
        timeout=TIMEOUT,
    )
    await new_place(
        customer_vault,
        tenant.id,
        name=CANARIES["name"],
        email=CANARIES["email"],
        door_code=CANARIES["door_code"],
    )
    dpo = await customer_vault.mint.user(tenant.id, roles=["dpo"])

    for reader in (admin, dpo):
        record = await processing_record(customer_vault, reader)
        assert record["format"] == "fieldvault.processing_record.v1"
        assert record["tenant_id"] == tenant.id
        subcontractors = {s["organization_id"]: s for s in record["processors"]["subcontractors"]}
        assert set(subcontractors) == {subcontractor, lapsed}
        listed = subcontractors[subcontractor]
        assert (listed["dpa_signed_on"], listed["dpa_expires_on"], listed["dpa_active"]) == (
            "2026-02-01",
            "2099-01-31",
            True,
        )
        assert [d["id"] for d in listed["dpa_documents"]] == [uploaded.document.id]
        assert listed["dpa_documents"][0]["sha256"] == uploaded.document.sha256
        assert subcontractors[lapsed]["dpa_active"] is False
        assert record["processors"]["sub_processors"] == SUB_PROCESSORS
        held = {c["category"]: c["held"] for c in record["data_categories"]}
        assert (held["customer_contact_data"], held["site_access_codes"]) == (None, 1)
        subjects = {s["category"]: s["held"] for s in record["data_subjects"]}
        assert subjects["customers"] == 1
        assert subjects["staff"] >= 1  # the admin
        assert record["controller"]["name"] == "Harbour Lifts Ltd"
        # A tenant that never set a retention policy: the defaults the purges enforce.
        assert record["retention"]["source"] == "retention_defaults"
        periods = {p["data"]: p["period"] for p in record["retention"]["periods"]}
        assert periods["audit_records"] == f"{DEFAULT_DAYS['audit_records']} days"
        assert periods["inbox"] == f"{DEFAULT_DAYS['inbox']} days"
        assert "customer_contact_data" in periods
        measures = {m["measure"] for m in record["technical_measures"]}
        assert {"encryption", "access_model", "audit"} <= measures
        assert not leaks(json.dumps(record))

    for role in ("dispatcher", "technician", "auditor"):
        other = await customer_vault.mint.user(tenant.id, roles=[role])
        assert (
            await refusal(
                customer_vault.stub.GetProcessingRecord(
                    pb.GetProcessingRecordRequest(), metadata=other, timeout=TIMEOUT
                )
            )
        ).startswith("PERMISSION_DENIED")


async def test_the_record_states_the_retention_the_tenant_chose(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    admin = await customer_vault.mint.user(tenant.id, roles=["admin"])
    # What the tenant_retention_policy_changed consumer stores when an admin sets it.
    chosen = {**DEFAULT_DAYS, "audit_records": 3000, "inbox": 30}
    async with customer_vault.database.unit_of_work() as session:
        await apply_policy_change(
            session, tenant_id=tenant.id, days=chosen, version=1, now=datetime.now(UTC)
        )
    record = await processing_record(customer_vault, admin)
    assert record["retention"]["source"] == "tenant_retention_policy"
    periods = {p["data"]: p["period"] for p in record["retention"]["periods"]}
    assert (periods["audit_records"], periods["inbox"]) == ("3000 days", "30 days")


async def test_a_customers_access_report_lists_each_access_with_its_work_order_or_reason(
    customer_vault: RunningVault,
    caplog: pytest.LogCaptureFixture,
    spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="customer_vault")
    caplog.set_level(logging.DEBUG, logger="fieldvault_platform")
    place = await new_place(
        customer_vault,
        new_tenant_id(),
        name=CANARIES["name"],
        email=CANARIES["email"],
        door_code=CANARIES["door_code"],
    )
    elsewhere = await new_place(customer_vault, place.tenant_id, name="Someone Else")
    await grant(customer_vault, place, user_id="tech-1", work_order_id="wo-42")
    technician = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-1"
    )
    revealed = await reveal(customer_vault, place.site.id, technician)
    assert revealed.value == CANARIES["door_code"]
    stranger = await customer_vault.mint.user(
        place.tenant_id, roles=["technician"], user_id="tech-2"
    )
    with pytest.raises(grpc.aio.AioRpcError):
        await reveal(customer_vault, place.site.id, stranger)
    glass = await customer_vault.mint.user(
        place.tenant_id, roles=["dispatcher"], areas=[place.area_id], user_id="disp-1"
    )
    broken = await reveal(
        customer_vault,
        place.site.id,
        glass,
        break_glass=True,
        reason=CANARIES["break_glass_reason"],
    )
    contract = await customer_vault.stub.UploadContract(
        pb.UploadContractRequest(
            customer_id=place.customer.id,
            filename="service.pdf",
            content_type="application/pdf",
            content=b"%PDF-1.7 contract\n%%EOF\n",
        ),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    await customer_vault.stub.DownloadContract(
        pb.DownloadContractRequest(id=contract.contract.id),
        metadata=place.dispatcher,
        timeout=TIMEOUT,
    )
    await reveal(customer_vault, elsewhere.site.id, glass, break_glass=True, reason="elsewhere!!")
    dpo = await customer_vault.mint.user(place.tenant_id, roles=["dpo"], user_id="dpo-1")
    await customer_vault.stub.ExportCustomer(
        pb.ExportCustomerRequest(id=place.customer.id), metadata=dpo, timeout=TIMEOUT
    )

    report = await access_report(customer_vault, dpo, place.customer.id)
    assert (report["format"], report["customer_id"]) == (
        "fieldvault.customer_access_report.v1",
        place.customer.id,
    )
    seen = [
        (e["access"], e["outcome"], e["actor_id"], e["work_order_id"]) for e in report["entries"]
    ]
    assert seen == [
        ("reveal", "success", "tech-1", "wo-42"),
        ("reveal", "denied", "tech-2", None),
        ("break_glass", "success", "disp-1", None),
        ("contract_download", "success", seen[3][2], None),
        ("export", "success", "dpo-1", None),
    ]
    by_id = {e["audit_event_id"]: e for e in report["entries"]}
    assert by_id[revealed.audit_event_id]["fields"] == ["door_code"]
    assert by_id[revealed.audit_event_id]["actor_organization_id"] == "org-own"
    assert by_id[broken.audit_event_id]["reason"] == CANARIES["break_glass_reason"]
    assert CANARIES["door_code"] not in json.dumps(report)
    assert CANARIES["name"] not in json.dumps(report)

    # Bounded in time: nothing after "until".
    assert (
        await access_report(
            customer_vault,
            dpo,
            place.customer.id,
            until=datetime.now(UTC) - timedelta(hours=1),
        )
    )["entries"] == []
    # Asking for it is on the record; nobody but a DPO may.
    asked = await audit_events(customer_vault, place.tenant_id, action="customer.access_report")
    assert [(a.actor_id, a.customer_id) for a in asked] == [("dpo-1", place.customer.id)] * 2
    for role in ("auditor", "dispatcher", "admin"):
        other = await customer_vault.mint.user(place.tenant_id, roles=[role])
        assert (
            await refusal(
                customer_vault.stub.GetCustomerAccessReport(
                    pb.GetCustomerAccessReportRequest(customer_id=place.customer.id),
                    metadata=other,
                    timeout=TIMEOUT,
                )
            )
        ).startswith("PERMISSION_DENIED")
    foreign_dpo = await customer_vault.mint.user(new_tenant_id(), roles=["dpo"])
    assert (
        await refusal(
            customer_vault.stub.GetCustomerAccessReport(
                pb.GetCustomerAccessReportRequest(customer_id=place.customer.id),
                metadata=foreign_dpo,
                timeout=TIMEOUT,
            )
        )
    ).startswith("NOT_FOUND")

    # The canaries: in no log line and no span of all this.
    formatter = JsonFormatter("customer_vault")
    lines = [formatter.format(record) for record in caplog.records]
    assert lines, "the flow must have logged"
    assert not [line for line in lines if leaks(line)]
    finished = spans.get_finished_spans()
    assert finished
    for span in finished:
        texts = [span.name, str(span.status.description or "")]
        texts += [str(value) for value in (span.attributes or {}).values()]
        assert not leaks(" ".join(texts)), span.name


async def test_the_breach_question_names_who_could_and_who_did_reveal_each_code(
    customer_vault: RunningVault, identity: IdentityDriver
) -> None:
    tenant = await identity.new_tenant()
    area = await identity.new_area(tenant, "North")
    other_area = await identity.new_area(tenant, "South")
    here = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[area])
    there = await identity.new_person(tenant, roles=["dispatcher"], area_ids=[other_area])
    dpo_person = await identity.new_person(tenant, roles=["dpo"])
    place = await new_place(customer_vault, tenant.id, area_id=area)
    await grant(customer_vault, place, user_id="tech-1", work_order_id="wo-1")
    await grant(
        customer_vault,
        place,
        user_id="tech-2",
        work_order_id="wo-2",
        fields=("door_code", "alarm_code"),
    )
    await customer_vault.stub.RevokeGrants(
        pb.RevokeGrantsRequest(work_order_id="wo-2", reason="cancelled"),
        metadata=await customer_vault.mint.work_order(tenant.id),
        timeout=TIMEOUT,
    )
    after_revocation = datetime.now(UTC) + timedelta(seconds=1)
    technician = await customer_vault.mint.user(tenant.id, roles=["technician"], user_id="tech-1")
    revealed = await reveal(customer_vault, place.site.id, technician)
    auditor = await customer_vault.mint.user(tenant.id, roles=["auditor"])
    now = datetime.now(UTC)

    answer = await site_access(
        customer_vault, auditor, place.site.id, now - timedelta(hours=1), now + timedelta(hours=1)
    )
    assert (answer["site_id"], answer["area_id"]) == (place.site.id, area)
    codes = {code["kind"]: code for code in answer["codes"]}
    assert set(codes) == {"door_code", "alarm_code"}
    door = codes["door_code"]
    assert {(g["user_id"], g["work_order_id"]) for g in door["could_reveal"]["grants"]} == {
        ("tech-1", "wo-1"),
        ("tech-2", "wo-2"),
    }
    assert [g["user_id"] for g in codes["alarm_code"]["could_reveal"]["grants"]] == ["tech-2"]
    assert [u["user_id"] for u in door["could_reveal"]["break_glass"]] == [here.id]
    assert there.id not in json.dumps(answer)
    assert [u["user_id"] for u in door["could_reveal"]["export_with_values"]] == [dpo_person.id]
    assert [
        (r["audit_event_id"], r["actor_id"], r["work_order_id"]) for r in door["did_reveal"]
    ] == [(revealed.audit_event_id, "tech-1", "wo-1")]
    assert codes["alarm_code"]["did_reveal"] == []
    assert "DOOR-4711-CANARY" not in json.dumps(answer)

    # After the revocation only tech-1's grant was in force; an hour ago, nothing was.
    later = await site_access(
        customer_vault, auditor, place.site.id, after_revocation, now + timedelta(hours=1)
    )
    later_door = {c["kind"]: c for c in later["codes"]}["door_code"]
    assert [g["user_id"] for g in later_door["could_reveal"]["grants"]] == ["tech-1"]
    earlier = await site_access(
        customer_vault,
        auditor,
        place.site.id,
        now - timedelta(hours=3),
        now - timedelta(hours=2),
    )
    assert all(
        c["could_reveal"]["grants"] == [] and c["did_reveal"] == [] for c in earlier["codes"]
    )

    # A DPO may ask too; a dispatcher may not; bad ranges are named.
    dpo = await customer_vault.mint.user(tenant.id, roles=["dpo"])
    await site_access(customer_vault, dpo, place.site.id, now - timedelta(hours=1), now)
    dispatcher = await customer_vault.mint.user(tenant.id, roles=["dispatcher"], areas=[area])
    assert (
        await refusal(
            customer_vault.stub.QuerySiteAccess(
                pb.QuerySiteAccessRequest(
                    site_id=place.site.id,
                    from_time=timestamp(now - timedelta(hours=1)),
                    to_time=timestamp(now),
                ),
                metadata=dispatcher,
                timeout=TIMEOUT,
            )
        )
    ).startswith("PERMISSION_DENIED")
    for start, end in ((now, now - timedelta(hours=1)), (None, now)):
        request = pb.QuerySiteAccessRequest(site_id=place.site.id, to_time=timestamp(end))
        if start is not None:
            request.from_time.CopyFrom(timestamp(start))
        assert (
            await refusal(customer_vault.stub.QuerySiteAccess(request, metadata=auditor))
        ).startswith("INVALID_ARGUMENT")


MINUTES = st.integers(min_value=0, max_value=60)


@given(
    valid_from=MINUTES,
    length=st.integers(min_value=1, max_value=30),
    created=MINUTES,
    revoked=st.none() | MINUTES,
    range_from=MINUTES,
    range_length=st.integers(min_value=1, max_value=30),
)
def test_a_grant_counts_when_it_was_in_force_at_some_minute_of_the_range(
    valid_from: int,
    length: int,
    created: int,
    revoked: int | None,
    range_from: int,
    range_length: int,
) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)

    def at(minute: int) -> datetime:
        return base + timedelta(minutes=minute)

    def in_force(minute: int) -> bool:
        return (
            valid_from <= minute < valid_from + length
            and minute >= created
            and (revoked is None or minute < revoked)
        )

    expected = any(in_force(m) for m in range(range_from, range_from + range_length))
    assert (
        in_force_during(
            valid_from=at(valid_from),
            valid_until=at(valid_from + length),
            created_at=at(created),
            revoked_at=at(revoked) if revoked is not None else None,
            range_from=at(range_from),
            range_to=at(range_from + range_length),
        )
        is expected
    )
