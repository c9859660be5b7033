"""``docs/openapi.json`` is the gateway's OpenAPI document as the code builds it now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.openapi_export import DOCUMENT_PATH, build_document, render

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
COMMITTED = REPOSITORY_ROOT / DOCUMENT_PATH


def test_the_committed_openapi_document_is_what_the_routes_describe() -> None:
    assert COMMITTED.is_file(), f"{DOCUMENT_PATH} is missing: run `make openapi`"
    expected = render(build_document())

    assert COMMITTED.read_text(encoding="utf-8") == expected, (
        f"{DOCUMENT_PATH} is stale (the gateway's routes changed): run `make openapi` "
        "and commit the result"
    )


def test_the_export_ignores_the_environment_and_sorts_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = render(build_document())
    monkeypatch.setenv("FIELDVAULT_ENVIRONMENT", "development")
    monkeypatch.setenv("FIELDVAULT_GATEWAY_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("FIELDVAULT_GATEWAY_CORS_ORIGINS", "*")

    assert render(build_document()) == first
    assert first.endswith("}\n")
    assert list(json.loads(first)) == sorted(json.loads(first))
