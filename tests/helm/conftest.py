"""Render the Helm chart once per value set in ``deploy/helm/fieldvault/ci/``
(session-scoped); the helpers in ``chart_rendering`` are importable from the tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chart_rendering import CI_VALUES, Rendered, load_values, render


@pytest.fixture(scope="session")
def rendered_sets() -> dict[str, Rendered]:
    """Every value set of ``ci/``, rendered once for the whole session."""
    assert CI_VALUES, "deploy/helm/fieldvault/ci/ holds no value sets"
    return {path.stem: render(load_values(path), name=path.stem) for path in CI_VALUES}


@pytest.fixture(params=[path.stem for path in CI_VALUES])
def rendered(request: pytest.FixtureRequest, rendered_sets: dict[str, Rendered]) -> Rendered:
    return rendered_sets[request.param]
