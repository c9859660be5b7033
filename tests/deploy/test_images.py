"""Static checks of every service image: ``services/<name>/Dockerfile`` and ``.dockerignore``.

No Docker engine is needed: the Dockerfiles are parsed (a small parser for the
subset they use) and checked against the repository itself: the settings
classes, the workspace manifests, the migrations folders. Each check is a
function returning the problems it finds; the real files must have none, and
``test_each_check_reports_a_broken_dockerfile`` proves every check can fail.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]

#: service -> (its settings class as ``module:Class``, the field holding the port it
#: serves on; the listen address is the field of the same name ending in ``host``)
SERVICES: dict[str, tuple[str, str]] = {
    "identity": ("identity.settings:Settings", "grpc_port"),
    "customer_vault": ("customer_vault.settings:Settings", "grpc_port"),
    "work_order": ("work_order.settings:Settings", "grpc_port"),
    "notification": ("notification.settings:Settings", "grpc_port"),
    "gateway": ("gateway.settings:GatewaySettings", "http_port"),
    "web": ("web.settings:WebSettings", "port"),
}


def settings_class(service: str) -> type[BaseSettings]:
    module, _, name = SERVICES[service][0].partition(":")
    settings: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return settings


PATCH_TAG = re.compile(r"^v?\d+\.\d+\.\d+([-_.][A-Za-z0-9_.-]+)?$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
COMPILERS = {"gcc", "g++", "cc", "c++", "clang", "build-essential", "make", "cmake", "rustc"}
INSTALL_COMMAND = re.compile(r"\b(apt-get|apt|apk|dnf|yum|microdnf)\s+(-\S+\s+)*(install|add)\b")
#: What must be gone from the system Python so that nothing can pip-install.
PIP_PATHS = (
    "/usr/local/bin/pip",
    "/usr/local/bin/pip3",
    "/usr/local/lib/python3.11/site-packages/pip",
    "/usr/local/lib/python3.11/site-packages/setuptools",
    "/usr/local/lib/python3.11/ensurepip",
)


# --- a parser for the Dockerfile subset the services use ------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def flags_and_args(self) -> tuple[dict[str, str], list[str]]:
        """``COPY --from=build /a /b`` -> ({"from": "build"}, ["/a", "/b"])."""
        flags: dict[str, str] = {}
        args: list[str] = []
        for token in shlex.split(self.arguments):
            if token.startswith("--") and not args:
                name, _, value = token[2:].partition("=")
                flags[name] = value
            else:
                args.append(token)
        return flags, args


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            tokens = shlex.split(instruction.arguments)
            if tokens and "=" not in tokens[0]:  # legacy form: ENV KEY value with spaces
                values[tokens[0]] = " ".join(tokens[1:])
                continue
            for token in tokens:
                key, _, value = token.partition("=")
                values[key] = value
        return values


@dataclass
class Dockerfile:
    path: Path
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    @property
    def stage_names(self) -> set[str]:
        return {s.name for s in self.stages if s.name}

    def external_images(self) -> list[str]:
        """Every image pulled from a registry: FROM lines and ``COPY --from=<image>``."""
        images = [s.image for s in self.stages if s.image not in self.stage_names]
        for stage in self.stages:
            for copy in stage.all("COPY"):
                source = copy.flags_and_args()[0].get("from")
                if source and source not in self.stage_names and not source.isdigit():
                    images.append(source)
        return images


def parse_instructions(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        # Comments (and parser directives) are dropped, also inside a continuation.
        if not stripped or stripped.startswith("#"):
            continue
        if "<<" in stripped and not pending and stripped.split()[0].upper() in {"RUN", "COPY"}:
            raise ValueError(f"heredocs are not supported by this parser: {raw!r}")
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = pending + stripped
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(arguments.split())))
    if pending:
        raise ValueError("the file ends inside a line continuation")
    return instructions


def parse_dockerfile(text: str, path: Path = Path("Dockerfile")) -> Dockerfile:
    stages: list[Stage] = []
    for instruction in parse_instructions(text):
        if instruction.keyword == "FROM":
            args = [a for a in instruction.arguments.split() if not a.startswith("--")]
            name = args[2] if len(args) == 3 and args[1].upper() == "AS" else None
            stages.append(Stage(image=args[0], name=name))
        elif instruction.keyword == "ARG" and not stages:
            continue
        elif not stages:
            raise ValueError(f"{path}: {instruction.keyword} before the first FROM")
        else:
            stages[-1].instructions.append(instruction)
    return Dockerfile(path, stages)


def load(service: str) -> Dockerfile:
    path = ROOT / "services" / service / "Dockerfile"
    return parse_dockerfile(path.read_text(), path)


# --- what the repository says about a service -------------------------------------


def manifest(member_dir: Path) -> dict[str, object]:
    return tomllib.loads((member_dir / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def workspace_members() -> dict[str, Path]:
    """Distribution name -> member folder, relative to the root."""
    members: dict[str, Path] = {}
    for pyproject in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]:
        members[str(manifest(pyproject.parent)["name"])] = pyproject.parent.relative_to(ROOT)
    return members


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement.strip())
    assert match, requirement
    return match.group(0).lower().replace("_", "-")


def workspace_dependencies(service: str) -> set[Path]:
    """The service's member folder and every workspace member it needs, transitively."""
    members = workspace_members()
    needed: set[Path] = set()
    todo = [ROOT / "services" / service]
    while todo:
        folder = todo.pop()
        relative = folder.relative_to(ROOT)
        if relative in needed:
            continue
        needed.add(relative)
        project = manifest(folder)
        requirements = list(project.get("dependencies", []))  # type: ignore[call-overload]
        for extra in dict(project.get("optional-dependencies", {})).values():  # type: ignore[call-overload]
            requirements += list(extra)
        for requirement in requirements:
            name = requirement_name(requirement)
            if name in members:
                todo.append(ROOT / members[name])
    return needed


def distribution_name(service: str) -> str:
    return str(manifest(ROOT / "services" / service)["name"])


# --- .dockerignore, with Docker's matching (patterns anchored at the root) -------


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip().lstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.compile(regex + "$")


def is_ignored(path: str, patterns: list[str]) -> bool:
    """A path is out of the context when it, or a folder above it, matches (last match wins)."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!"))
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


# --- the checks ---------------------------------------------------------------------


def build_stage(dockerfile: Dockerfile) -> Stage:
    """The stage whose output the final stage copies (the virtualenv)."""
    for copy in dockerfile.final.all("COPY"):
        source = copy.flags_and_args()[0].get("from")
        for stage in dockerfile.stages[:-1]:
            if source and source == stage.name:
                return stage
    raise AssertionError(f"{dockerfile.path}: the final stage copies from no build stage")


def check_base_images_pinned(dockerfile: Dockerfile, service: str) -> list[str]:
    problems = []
    for image in dockerfile.external_images():
        reference, _, digest = image.partition("@")
        last = reference.rsplit("/", 1)[-1]
        tag = last.partition(":")[2]
        if not tag or tag == "latest" or not PATCH_TAG.match(tag):
            problems.append(f"{image}: not pinned to a patch release (e.g. python:3.11.14-slim)")
        if digest and not DIGEST.match(digest):
            problems.append(f"{image}: malformed digest")
    return problems


def check_multi_stage(dockerfile: Dockerfile, service: str) -> list[str]:
    if len(dockerfile.stages) < 2:
        return ["a single stage: build tools end up in the image"]
    problems = []
    build = build_stage(dockerfile)
    if build.image != dockerfile.final.image:
        problems.append("the build and runtime stages use different Python images")
    copied = " ".join(copy.arguments for copy in dockerfile.final.all("COPY"))
    if "/uv" in copied or "--from=uv" in copied:
        problems.append("uv (a package manager) is copied into the final stage")
    return problems


def check_non_root_user(dockerfile: Dockerfile, service: str) -> list[str]:
    users = dockerfile.final.all("USER")
    if not users:
        return ["the final stage has no USER: the container runs as root"]
    user = users[-1].arguments
    match = re.fullmatch(r"(\d+)(?::(\d+))?", user)
    if not match:
        return [f"USER {user}: not numeric (Kubernetes runAsNonRoot cannot verify a name)"]
    if int(match.group(1)) == 0 or (match.group(2) is not None and int(match.group(2)) == 0):
        return [f"USER {user}: root"]
    return []


def check_unbuffered(dockerfile: Dockerfile, service: str) -> list[str]:
    if dockerfile.final.env().get("PYTHONUNBUFFERED") != "1":
        return ["PYTHONUNBUFFERED=1 is not set: logs are held back in a buffer"]
    return []


def check_no_compilers(dockerfile: Dockerfile, service: str) -> list[str]:
    problems = []
    for run in dockerfile.final.all("RUN"):
        for command in re.split(r"&&|;|\|\|", run.arguments):
            if not INSTALL_COMMAND.search(command):
                continue
            packages = {word for word in command.split() if not word.startswith("-")}
            if packages & COMPILERS or any(p.endswith("-dev") for p in packages):
                problems.append(f"the final stage installs build tools: {command.strip()}")
    return problems


def check_pip_removed(dockerfile: Dockerfile, service: str) -> list[str]:
    removed: list[str] = []
    reinstalled = False
    for run in dockerfile.final.all("RUN"):
        for command in re.split(r"&&|;", run.arguments):
            words = command.split()
            if words[:1] == ["rm"]:
                removed += [w for w in words[1:] if not w.startswith("-")]
            elif re.search(r"ensurepip|get-pip|pip3? install", command):
                reinstalled = True
    problems = [
        f"{path} is left in the final stage"
        for path in PIP_PATHS
        if not any(fnmatch.fnmatch(path, pattern) for pattern in removed)
    ]
    if reinstalled:
        problems.append("pip is installed again in the final stage")
    return problems


def check_dependencies_before_sources(dockerfile: Dockerfile, service: str) -> list[str]:
    stage = build_stage(dockerfile)
    package = distribution_name(service)
    syncs = [
        n
        for n, i in enumerate(stage.instructions)
        if i.keyword == "RUN" and "uv sync" in i.arguments
    ]
    if len(syncs) < 2:
        return ["expected two `uv sync` runs: dependencies first, then the workspace members"]
    first, last = stage.instructions[syncs[0]], stage.instructions[syncs[-1]]
    problems = []
    for run in (first, last):
        for flag in ("--frozen", "--no-dev", f"--package {package}"):
            if flag not in run.arguments:
                problems.append(f"`{run.arguments}` lacks {flag}")
    if "--no-install-workspace" not in first.arguments:
        problems.append("the first `uv sync` installs workspace members (their sources)")
    if "--no-editable" not in last.arguments:
        problems.append("the last `uv sync` is editable: the venv would point at /src")
    copied_before = []
    for instruction in stage.instructions[: syncs[0]]:
        if instruction.keyword == "COPY" and "from" not in instruction.flags_and_args()[0]:
            copied_before += instruction.flags_and_args()[1][:-1]
    for source in copied_before:
        if Path(source).name not in {"pyproject.toml", "uv.lock"}:
            problems.append(f"{source} is copied before the dependencies are synced")
    needed = workspace_dependencies(service)
    manifests = {str(folder / "pyproject.toml") for folder in needed} | {
        "uv.lock",
        "pyproject.toml",
    }
    if set(copied_before) != manifests:
        problems.append(f"manifests copied first {sorted(copied_before)} != {sorted(manifests)}")
    copied_after = []
    for instruction in stage.instructions[syncs[0] : syncs[-1]]:
        if instruction.keyword == "COPY":
            copied_after += instruction.flags_and_args()[1][:-1]
    sources = {str(folder / "src") for folder in needed}
    if set(copied_after) != sources:
        problems.append(f"sources copied {sorted(copied_after)} != what it needs {sorted(sources)}")
    return problems


def check_runs_the_service_module(dockerfile: Dockerfile, service: str) -> list[str]:
    commands = dockerfile.final.all("ENTRYPOINT") + dockerfile.final.all("CMD")
    if not commands:
        return ["no CMD"]
    try:
        argv = [arg for command in commands for arg in json.loads(command.arguments)]
    except json.JSONDecodeError:
        return ["CMD is not in exec (JSON) form: SIGTERM would reach a shell, not Python"]
    if argv[:2] != ["python", "-m"] or len(argv) < 3:
        return [f"CMD {argv} does not run `python -m <module>`"]
    main = ROOT / "services" / service / "src" / argv[2] / "__main__.py"
    if not main.is_file():
        return [f"CMD runs {argv[2]}, but {main.relative_to(ROOT)} does not exist"]
    return []


def check_exposed_port(dockerfile: Dockerfile, service: str) -> list[str]:
    settings, port_field = settings_class(service), SERVICES[service][1]
    default = settings.model_fields[port_field].default
    prefix = str(settings.model_config.get("env_prefix", ""))
    # The port it serves on: the image's own setting, or else the settings default.
    served = dockerfile.final.env().get(f"{prefix}{port_field}".upper(), str(default))
    exposed = [
        port for expose in dockerfile.final.all("EXPOSE") for port in expose.arguments.split()
    ]
    problems = []
    if exposed != [served]:
        problems.append(
            f"EXPOSE {exposed} != {served}, the port it serves on "
            f"({settings.__name__}.{port_field}, default {default})"
        )
    host_variable = f"{prefix}{port_field.removesuffix('port')}host".upper()
    if dockerfile.final.env().get(host_variable) != "0.0.0.0":
        problems.append(f"{host_variable} is not 0.0.0.0: unreachable from outside the pod")
    return problems


def check_migrations(dockerfile: Dockerfile, service: str) -> list[str]:
    source = f"services/{service}/migrations"
    env_dir = dockerfile.final.env().get("FIELDVAULT_MIGRATIONS_DIR")
    copies = {
        tuple(copy.flags_and_args()[1])
        for copy in dockerfile.final.all("COPY")
        if "from" not in copy.flags_and_args()[0]
    }
    if not (ROOT / source).is_dir():
        return ["FIELDVAULT_MIGRATIONS_DIR is set, but there are no migrations"] if env_dir else []
    if not (ROOT / source / "env.py").is_file() or not (ROOT / source / "versions").is_dir():
        return [f"{source} is not an Alembic folder (env.py, versions/)"]
    destinations = [args[-1] for args in copies if args[0].rstrip("/") == source]
    if not destinations:
        return [f"{source} is not copied into the final stage: `migrate` would find nothing"]
    if env_dir is None or env_dir.rstrip("/") != destinations[0].rstrip("/"):
        return [f"FIELDVAULT_MIGRATIONS_DIR={env_dir} is not where {source} is copied"]
    return []


def check_copied_paths_exist(dockerfile: Dockerfile, service: str) -> list[str]:
    patterns = dockerignore_patterns()
    problems = []
    for stage in dockerfile.stages:
        for copy in stage.all("COPY") + stage.all("ADD"):
            if "from" in copy.flags_and_args()[0]:
                continue
            for source in copy.flags_and_args()[1][:-1]:
                if not (ROOT / source).exists():
                    problems.append(f"COPY {source}: no such path in the repository")
                elif is_ignored(source, patterns):
                    problems.append(f"COPY {source}: excluded by .dockerignore")
    return problems


CHECKS: list[Callable[[Dockerfile, str], list[str]]] = [
    check_base_images_pinned,
    check_multi_stage,
    check_non_root_user,
    check_unbuffered,
    check_no_compilers,
    check_pip_removed,
    check_dependencies_before_sources,
    check_runs_the_service_module,
    check_exposed_port,
    check_migrations,
    check_copied_paths_exist,
]


# --- the tests ----------------------------------------------------------------------


def test_every_service_has_a_dockerfile() -> None:
    with_manifest = {p.parent.name for p in ROOT.glob("services/*/pyproject.toml")}
    with_dockerfile = {p.parent.name for p in ROOT.glob("services/*/Dockerfile")}
    assert with_dockerfile == set(SERVICES)
    assert with_manifest == set(SERVICES)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_image(service: str, check: Callable[[Dockerfile, str], list[str]]) -> None:
    assert check(load(service), service) == []


def test_every_image_is_built_from_the_same_base_images() -> None:
    bases = {service: sorted(set(load(service).external_images())) for service in SERVICES}
    assert len({tuple(images) for images in bases.values()}) == 1, bases


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "libs/platform/.venv/bin/python",
        ".tools/bin/uv",
        ".fieldvault/openbao/unseal-key",
        ".fieldvault/openbao/root-token",
        ".env",
        "tests/test_local_stack.py",
        "services/identity/tests/test_tokens.py",
        "libs/platform/src/fieldvault_platform/__pycache__/settings.cpython-311.pyc",
        ".pytest_cache/v/cache/lastfailed",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/content",
        ".hypothesis/examples/x",
        "bench/bench_reveal.py",
        "deploy/helm/fieldvault/values.yaml",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert is_ignored(path, dockerignore_patterns())


def test_make_images_builds_every_dockerfile_from_the_root() -> None:
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-s",
            "images",
            "DOCKER=echo",
            "IMAGE_PREFIX=",
            "IMAGE_TAG=t",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    builds = [line.split() for line in result.stdout.splitlines() if line.startswith("build ")]
    assert sorted(builds) == sorted(
        [
            "build",
            "--file",
            f"services/{s}/Dockerfile",
            "--tag",
            f"fieldvault-{s.replace('_', '-')}:t",
            ".",
        ]
        for s in SERVICES
    )


# --- each check can fail ------------------------------------------------------------

GOOD = (ROOT / "services" / "identity" / "Dockerfile").read_text()

BROKEN: dict[str, str] = {
    "check_base_images_pinned": GOOD.replace("python:3.11.14-slim-trixie", "python:3.11-slim"),
    "check_multi_stage": "FROM python:3.11.14-slim AS build\nCOPY --from=build / /\n",
    "check_non_root_user": GOOD.replace("USER 10001:10001", "USER fieldvault"),
    "check_unbuffered": GOOD.replace("PYTHONUNBUFFERED=1", "PYTHONUNBUFFERED=0"),
    "check_no_compilers": GOOD.replace(
        "RUN set -eux;", "RUN apt-get install -y --no-install-recommends gcc && set -eux;"
    ),
    "check_pip_removed": GOOD.replace("/usr/local/bin/pip*", "/usr/local/bin/wheel"),
    "check_dependencies_before_sources": GOOD.replace(
        "COPY pyproject.toml uv.lock ./", "COPY pyproject.toml uv.lock ./\nCOPY libs ./libs"
    ),
    "check_runs_the_service_module": GOOD.replace('"-m", "identity"', '"-m", "identity_server"'),
    "check_exposed_port": GOOD.replace("EXPOSE 17001", "EXPOSE 17002"),
    "check_migrations": GOOD.replace(
        "FIELDVAULT_MIGRATIONS_DIR=/app/migrations", "FIELDVAULT_MIGRATIONS_DIR=/srv/migrations"
    ),
    "check_copied_paths_exist": GOOD.replace(
        "COPY services/identity/src",
        "COPY services/identity/tests services/identity/tests\nCOPY services/identity/src",
    ),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_each_check_reports_a_broken_dockerfile(
    check: Callable[[Dockerfile, str], list[str]],
) -> None:
    broken = BROKEN[check.__name__]
    assert broken != GOOD
    assert check(parse_dockerfile(broken), "identity") != []
