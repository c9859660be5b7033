"""Every file of the project refers only to what is in the repository.

The documentation is ``docs/`` (architecture, security model, API conventions,
operations; the route reference is ``docs/openapi.json``). Comments, READMEs
and tests cite those files by their repository path; nothing points at drafts
or folders beside the checkout, which a reader of the repository does not have.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
THIS_FILE = Path(__file__).resolve().relative_to(REPOSITORY_ROOT).as_posix()

#: Names of documents that are not in the repository, and paths beside the checkout.
#: Case-sensitive: ``docs/api.md`` is the project's own file.
OUTSIDE_REFERENCES = re.compile(
    r"\bAPI\.md\b|\bDESIGN\b|\bSTYLE\.md\b|\.\./shared\b|/work/shared\b|/work/wt/"
)
#: ``[text](target)`` links of Markdown files.
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)")
#: A citation of the documentation by repository path, e.g. ``docs/security-model.md#grants``.
DOCS_CITATION = re.compile(r"\bdocs/([\w.-]+\.(?:md|json))(?:#([\w-]+))?")
#: Links between the documents, e.g. ``(security-model.md#revocation)``.
DOCS_LINK = re.compile(r"\]\(([\w-]+\.md)?#([\w-]+)\)")


def _tracked_text_files() -> list[tuple[str, str]]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPOSITORY_ROOT, check=True, capture_output=True
    ).stdout.decode()
    files = []
    for name in filter(None, listed.split("\0")):
        path = REPOSITORY_ROOT / name
        if name == THIS_FILE or not path.is_file():
            continue
        raw = path.read_bytes()
        if b"\0" in raw:
            continue  # binary
        files.append((name, raw.decode("utf-8", errors="replace")))
    return files


def test_no_file_refers_to_documents_outside_the_repository() -> None:
    offenders = [
        f"{name}:{number}: {line.strip()}"
        for name, text in _tracked_text_files()
        for number, line in enumerate(text.splitlines(), start=1)
        if OUTSIDE_REFERENCES.search(line)
    ]

    assert not offenders, (
        "these lines refer to documents outside the repository; cite the matching "
        "file under docs/ instead (e.g. docs/security-model.md#grants):\n" + "\n".join(offenders)
    )


def test_markdown_links_stay_inside_the_repository() -> None:
    offenders = []
    for name, text in _tracked_text_files():
        if not name.endswith(".md"):
            continue
        folder = (REPOSITORY_ROOT / name).parent
        for target in MARKDOWN_LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto: … — a web address, not a path
            resolved = (folder / target).resolve()
            if not resolved.is_relative_to(REPOSITORY_ROOT):
                offenders.append(f"{name}: {target}")

    assert not offenders, "these links leave the repository:\n" + "\n".join(offenders)


def _anchors(document: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    text = (REPOSITORY_ROOT / "docs" / document).read_text(encoding="utf-8")
    headings = re.findall(r"^#+\s+(.+?)\s*$", text, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_citations_of_the_documentation_name_existing_files_and_sections() -> None:
    offenders = []
    for name, text in _tracked_text_files():
        citations = DOCS_CITATION.findall(text)
        if name.startswith("docs/") and name.endswith(".md"):
            citations += [
                (target or Path(name).name, anchor) for target, anchor in DOCS_LINK.findall(text)
            ]
        for document, anchor in citations:
            if not (REPOSITORY_ROOT / "docs" / document).is_file():
                offenders.append(f"{name}: docs/{document} does not exist")
            elif anchor and anchor not in _anchors(document):
                offenders.append(f"{name}: docs/{document} has no section #{anchor}")

    assert not offenders, "\n".join(offenders)


def test_the_documentation_exists_and_the_readme_links_to_it() -> None:
    for document in ("architecture.md", "security-model.md", "api.md", "operations.md"):
        assert (REPOSITORY_ROOT / "docs" / document).is_file(), document
    readme = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme
