"""Answers of the GDPR report routes: the Art. 30 record, access reports, the breach query.

customer_vault builds each as a JSON document; the gateway checks it against these
models before it leaves (a malformed one is a 500, never a download) and the
OpenAPI document describes them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Purpose(BaseModel):
    purpose: str
    description: str
    legal_basis: str


class DataSubjects(BaseModel):
    category: str
    description: str
    #: How many such people (customers; active users) the tenant holds.
    held: int


class DataCategory(BaseModel):
    category: str
    subjects: str
    description: str
    protection: str
    #: How many records the tenant holds, where customer_vault keeps them (else null).
    held: int | None


class DpaDocumentSummary(BaseModel):
    id: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


class Subcontractor(BaseModel):
    organization_id: str
    name: str
    dpa_signed_on: str | None
    dpa_expires_on: str | None
    dpa_active: bool
    dpa_document_id: str | None
    dpa_documents: list[DpaDocumentSummary]
    active_users: int


class SubProcessor(BaseModel):
    name: str
    purpose: str
    location: str


class Processors(BaseModel):
    subcontractors: list[Subcontractor]
    #: Hosting, SMS, e-mail: the platform's configured sub-processors.
    sub_processors: list[SubProcessor]


class RetentionPeriod(BaseModel):
    data: str
    period: str
    rule: str


class Retention(BaseModel):
    #: Where the periods come from.
    source: str
    periods: list[RetentionPeriod]


class TechnicalMeasure(BaseModel):
    measure: str
    description: str


class Controller(BaseModel):
    organization_id: str | None
    name: str | None


class ProcessingRecord(BaseModel):
    """The tenant's record of processing activities (GDPR Art. 30)."""

    format: str
    generated_at: datetime
    tenant_id: str
    controller: Controller
    purposes: list[Purpose]
    data_subjects: list[DataSubjects]
    data_categories: list[DataCategory]
    processors: Processors
    retention: Retention
    technical_measures: list[TechnicalMeasure]


class AccessEntry(BaseModel):
    audit_event_id: str
    occurred_at: datetime
    #: ``reveal``, ``break_glass``, ``export``, ``export_with_values``, ``contract_download``.
    access: str
    action: str
    #: ``success`` or ``denied`` (an attempt that was refused).
    outcome: str
    site_id: str | None
    resource_id: str | None
    #: The code kinds revealed or exported.
    fields: list[str]
    actor_kind: str
    actor_id: str
    actor_organization_id: str | None
    on_behalf_of: str | None
    #: The work order the access was for (null for break-glass and exports).
    work_order_id: str | None
    purpose: str | None
    #: A break-glass or export reason, or the refusal's code.
    reason: str | None


class CustomerAccessReport(BaseModel):
    """Every access to one customer's data, oldest first."""

    format: str
    generated_at: datetime
    tenant_id: str
    customer_id: str
    customer_erased: bool
    since: datetime | None
    until: datetime | None
    entries: list[AccessEntry]


class GrantInForce(BaseModel):
    grant_id: str
    #: Null when the grant names a whole organisation (any of its technicians).
    user_id: str | None
    organization_id: str
    whole_organization: bool
    subcontractor: bool
    work_order_id: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None


class Person(BaseModel):
    user_id: str
    organization_id: str


class CouldReveal(BaseModel):
    #: Grants for this code in force at some moment of the range.
    grants: list[GrantInForce]
    #: Active dispatchers of the site's area now (break-glass).
    break_glass: list[Person]
    #: Active DPOs now (an export with code values).
    export_with_values: list[Person]


class Revelation(BaseModel):
    audit_event_id: str
    occurred_at: datetime
    #: ``reveal``, ``break_glass`` or ``export_with_values``.
    access: str
    actor_id: str
    actor_organization_id: str | None
    on_behalf_of: str | None
    work_order_id: str | None
    reason: str | None


class CodeAccess(BaseModel):
    kind: str
    could_reveal: CouldReveal
    did_reveal: list[Revelation]


class SiteAccessQuery(BaseModel):
    """Who could and who did reveal each code of a site in ``[from, to)``."""

    format: str
    generated_at: datetime
    tenant_id: str
    site_id: str
    customer_id: str
    area_id: str
    #: The range asked about.
    range_from: datetime = Field(alias="from")
    range_to: datetime = Field(alias="to")
    codes: list[CodeAccess]
