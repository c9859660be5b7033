"""A client generated from the OpenAPI document (openapi-python-client) builds and calls
the gateway over real HTTP."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def test_a_client_generated_from_the_document_calls_the_gateway(
    live_gateway: str, tmp_path: Path
) -> None:
    document = httpx.get(f"{live_gateway}/openapi.json", timeout=10).json()
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    output = tmp_path / "fieldvault_client"

    generated = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(output),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        # Its post-generation step formats with ruff, from this environment.
        env={**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # Nothing of the document was skipped as unreadable.
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout

    sys.path.insert(0, str(tmp_path))
    try:
        client_module = importlib.import_module("fieldvault_client")
        health = importlib.import_module("fieldvault_client.api.health.check_health")
        me = importlib.import_module("fieldvault_client.api.me.get_me")
        client = client_module.Client(base_url=live_gateway)
        answer = health.sync_detailed(client=client)
        anonymous = me.sync_detailed(client=client)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("fieldvault_client")]:
            del sys.modules[name]

    assert answer.status_code == 200
    assert json.loads(answer.content) == {"status": "ok"}
    # The documented 401 is parsed as a problem.
    assert anonymous.status_code == 401
    assert anonymous.parsed.code == "unauthenticated"
