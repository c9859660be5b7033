"""The committed stubs must be exactly what `make proto` generates from protos/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PROTOS_LIB = Path(__file__).resolve().parents[1]


def _load_generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate", PROTOS_LIB / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_committed_stubs_match_the_protos(tmp_path: Path) -> None:
    generator = _load_generator()
    generator.generate(tmp_path)
    fresh = _tree(tmp_path / "fieldvault")
    committed = _tree(PROTOS_LIB / "src" / "fieldvault")
    assert fresh, "no stubs were generated"
    stale = sorted(
        name for name in fresh.keys() | committed.keys() if fresh.get(name) != committed.get(name)
    )
    assert not stale, f"stubs are stale, run `make proto`: {stale}"


def test_every_service_package_follows_buf_layout() -> None:
    from fieldvault.customer_vault.v1 import customer_vault_pb2

    service = customer_vault_pb2.DESCRIPTOR.services_by_name["CustomerVaultService"]
    assert customer_vault_pb2.DESCRIPTOR.package == "fieldvault.customer_vault.v1"
    assert "EnsureTenantKey" in service.methods_by_name
