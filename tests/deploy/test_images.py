"""Static checks of every service image: the ``Dockerfile`` and ``.dockerignore``.

One ``Dockerfile`` at the root builds every service, chosen by the build
argument ``SERVICE``. No Docker engine is needed: the Dockerfile is parsed (a
small parser for the subset it uses, with build arguments substituted as Docker
does) once per service, and the image that ``SERVICE`` selects is checked
against the repository itself: the settings classes, the workspace manifests,
the migrations folders. Each check is a function returning the problems it
finds; the real file must have none for every service, and
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"

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


# --- a parser for the Dockerfile subset the images use ---------------------------


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
    def stage_names(self) -> set[str]:
        return {s.name for s in self.stages if s.name}

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def chain(self, stage: Stage) -> list[Stage]:
        """``stage`` and the stages it is built FROM, the first one first."""
        chain = [stage]
        while (base := self.stage(chain[0].image)) is not None and base not in chain:
            chain.insert(0, base)
        return chain

    @property
    def selected(self) -> Stage | None:
        """The stage the last FROM names (``service-${SERVICE}``); None: an image, not a stage."""
        return self.stage(self.stages[-1].image)

    @property
    def final(self) -> Stage:
        """The image built: the last stage with the stages it is FROM merged in, base first."""
        chain = self.chain(self.stages[-1])
        instructions = [i for stage in chain for i in stage.instructions]
        return Stage(chain[0].image, self.stages[-1].name, instructions)

    def reachable(self) -> list[Stage]:
        """The stages the build runs: the final image's chain and what it copies from."""
        needed: list[Stage] = []
        todo = [self.stages[-1]]
        while todo:
            for stage in self.chain(todo.pop()):
                if stage in needed:
                    continue
                needed.append(stage)
                for copy in stage.all("COPY"):
                    source = self.stage(copy.flags_and_args()[0].get("from", ""))
                    if source is not None:
                        todo.append(source)
        return [s for s in self.stages if s in needed]

    def external_images(self) -> list[str]:
        """Every image the build pulls from a registry: FROM lines and ``COPY --from=<image>``."""
        stages = self.reachable()
        images = [s.image for s in stages if s.image not in self.stage_names]
        for stage in stages:
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


VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def substitute(text: str, scope: Mapping[str, str]) -> str:
    """``${NAME}`` and ``$NAME`` of the build arguments in scope; anything else stays.

    Docker substitutes them in FROM, COPY, ENV, EXPOSE, ...; in RUN the shell
    does, from the environment the ARGs make: the same result for this subset.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return scope[name] if name in scope else match.group(0)

    return VARIABLE.sub(value, text)


def parse_dockerfile(
    text: str, path: Path = Path("Dockerfile"), build_args: Mapping[str, str] | None = None
) -> Dockerfile:
    """The stages, with ``build_args`` substituted where Docker's scoping lets them in.

    An ARG before the first FROM is seen by FROM lines only; a stage sees a
    build argument only after its own ``ARG NAME`` (which, without a default,
    takes the value given or the global default), otherwise it is not there.
    """
    given = dict(build_args or {})
    global_args: dict[str, str] = {}
    scope: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in parse_instructions(text):
        if instruction.keyword == "ARG":
            name, has_default, default = instruction.arguments.partition("=")
            if not stages:
                global_args[name] = given.get(name, default)
                continue
            inherited = default if has_default else global_args.get(name, "")
            scope[name] = given.get(name, inherited)
            stages[-1].instructions.append(instruction)
        elif instruction.keyword == "FROM":
            arguments = substitute(instruction.arguments, global_args)
            args = [a for a in arguments.split() if not a.startswith("--")]
            stage_name = args[2] if len(args) == 3 and args[1].upper() == "AS" else None
            stages.append(Stage(image=args[0], name=stage_name))
            scope = {}
        elif not stages:
            raise ValueError(f"{path}: {instruction.keyword} before the first FROM")
        else:
            arguments = substitute(instruction.arguments, scope)
            stages[-1].instructions.append(Instruction(instruction.keyword, arguments))
    return Dockerfile(path, stages)


def load(service: str, text: str | None = None) -> Dockerfile:
    """The Dockerfile as ``docker build --build-arg SERVICE=<service>`` reads it."""
    if text is None:
        text = DOCKERFILE.read_text()
    return parse_dockerfile(text, DOCKERFILE, {"SERVICE": service})


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


def normalized(name: str) -> str:
    """A distribution name as uv and pip compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


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
        stage = dockerfile.stage(copy.flags_and_args()[0].get("from", ""))
        if stage is not None:
            return stage
    raise AssertionError(f"{dockerfile.path}: the final stage copies from no build stage")


def check_selects_the_service_stage(dockerfile: Dockerfile, service: str) -> list[str]:
    # Otherwise `FROM service-<name>` would be pulled from Docker Hub, or another
    # service's stage built under this service's name.
    selected = dockerfile.selected
    if selected is None:
        return [f"SERVICE={service} selects {dockerfile.stages[-1].image}: no stage of this file"]
    if selected.name != f"service-{service}":
        return [f"SERVICE={service} selects the stage {selected.name}"]
    return []


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
    if len(dockerfile.reachable()) < 2:
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
        for flag in ("--frozen", "--no-dev"):
            if flag not in run.arguments:
                problems.append(f"`{run.arguments}` lacks {flag}")
        packages = re.findall(r"--package[= ](\S+)", run.arguments)
        if [normalized(p.strip("'\"")) for p in packages] != [normalized(package)]:
            problems.append(f"`{run.arguments}` does not sync --package {package} (alone)")
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
    for stage in dockerfile.reachable():
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
    check_selects_the_service_stage,
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


def test_one_dockerfile_has_a_stage_for_every_service() -> None:
    with_manifest = {p.parent.name for p in ROOT.glob("services/*/pyproject.toml")}
    names = load("").stage_names
    with_stage = {name.removeprefix("service-") for name in names if name.startswith("service-")}
    assert with_stage == set(SERVICES)
    assert with_manifest == set(SERVICES)
    # BuildKit's rule for stage names (frontend/dockerfile/instructions/parse.go).
    assert all(re.fullmatch(r"[a-z][a-z0-9-_.]*", name) for name in names), names
    # No service keeps a Dockerfile of its own that would drift from this one.
    assert list(ROOT.glob("services/*/Dockerfile")) == []


def test_every_stage_is_built_for_some_service() -> None:
    built = {stage.name for service in SERVICES for stage in load(service).reachable()}
    assert built >= load("").stage_names


def test_a_build_without_service_stops_at_the_last_from() -> None:
    # `FROM service-` is no image reference (a name cannot end in "-"): Docker
    # refuses it before pulling or building anything.
    reference = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[\w][\w.-]*)?")
    last = load("").stages[-1].image
    assert last == "service-"
    assert not reference.fullmatch(last)
    assert reference.fullmatch(load("identity").stages[-1].image)


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


def test_make_images_builds_every_service_from_the_root() -> None:
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
            "Dockerfile",
            "--build-arg",
            f"SERVICE={s}",
            "--tag",
            f"fieldvault-{s.replace('_', '-')}:t",
            ".",
        ]
        for s in SERVICES
    )


# --- each check can fail ------------------------------------------------------------

GOOD = DOCKERFILE.read_text()


def broken(old: str, new: str) -> str:
    """The real Dockerfile with every ``old`` replaced (which must be there)."""
    assert old in GOOD, old
    return GOOD.replace(old, new)


#: check -> ways to break the real Dockerfile that it must see: (SERVICE, text).
BROKEN: dict[str, list[tuple[str, str]]] = {
    "check_selects_the_service_stage": [
        ("identity", broken("AS service-identity", "AS service-idnetity")),
        ("gateway", broken("FROM service-${SERVICE}", "FROM service-web")),
    ],
    "check_base_images_pinned": [
        ("identity", broken("python:3.11.14-slim-trixie", "python:3.11-slim")),
        ("web", broken("uv:0.13.9", "uv:latest")),
    ],
    "check_multi_stage": [
        ("identity", "FROM python:3.11.14-slim AS build\nCOPY --from=build / /\n"),
        (
            "identity",
            broken(
                "COPY --from=build /app/.venv",
                "COPY --from=uv /uv /bin/uv\nCOPY --from=build /app/.venv",
            ),
        ),
    ],
    "check_non_root_user": [("identity", broken("USER 10001:10001", "USER fieldvault"))],
    "check_unbuffered": [("identity", broken("PYTHONUNBUFFERED=1", "PYTHONUNBUFFERED=0"))],
    "check_no_compilers": [
        (
            "identity",
            broken(
                "RUN set -eux;", "RUN apt-get install -y --no-install-recommends gcc && set -eux;"
            ),
        )
    ],
    "check_pip_removed": [("identity", broken("/usr/local/bin/pip*", "/usr/local/bin/wheel"))],
    "check_dependencies_before_sources": [
        (
            "identity",
            broken(
                "COPY pyproject.toml uv.lock ./", "COPY pyproject.toml uv.lock ./\nCOPY libs ./libs"
            ),
        ),
        # The build stage does not declare ARG SERVICE: ${SERVICE} is empty there.
        ("work_order", broken("AS build\nARG SERVICE\n", "AS build\n")),
        ("customer_vault", broken("--package fieldvault-${SERVICE}", "--package fieldvault")),
    ],
    "check_runs_the_service_module": [
        ("identity", broken('"-m", "identity"', '"-m", "identity_server"')),
        ("notification", broken('"-m", "notification"', '"-m", "work_order"')),
    ],
    "check_exposed_port": [
        ("identity", broken("EXPOSE 17001", "EXPOSE 17002")),
        # Without it the web app would serve on its laptop default, 8000.
        ("web", broken("    FIELDVAULT_WEB_PORT=8080\n", "    FIELDVAULT_WEB_PORT_=8080\n")),
        (
            "gateway",
            broken("FIELDVAULT_GATEWAY_HTTP_HOST=0.0.0.0", "FIELDVAULT_GATEWAY_HOST=0.0.0.0"),
        ),
    ],
    "check_migrations": [
        (
            "identity",
            broken(
                "FIELDVAULT_MIGRATIONS_DIR=/app/migrations",
                "FIELDVAULT_MIGRATIONS_DIR=/srv/migrations",
            ),
        ),
        ("work_order", broken("COPY services/work_order/migrations /app/migrations\n", "")),
        # An image without migrations must not claim a folder of them.
        (
            "gateway",
            broken(
                "ENV FIELDVAULT_GATEWAY_HTTP_HOST",
                "ENV FIELDVAULT_MIGRATIONS_DIR=/app/migrations FIELDVAULT_GATEWAY_HTTP_HOST",
            ),
        ),
    ],
    "check_copied_paths_exist": [
        (
            "identity",
            broken(
                "COPY services/${SERVICE}/src",
                "COPY services/${SERVICE}/tests services/${SERVICE}/tests\n"
                "COPY services/${SERVICE}/src",
            ),
        ),
        (
            "gateway",
            broken(
                "AS service-gateway\n",
                "AS service-gateway\nCOPY services/gateway/migrations /app/migrations\n",
            ),
        ),
    ],
}


def test_every_check_has_a_broken_dockerfile() -> None:
    assert set(BROKEN) == {check.__name__ for check in CHECKS}


BROKEN_CASES = [
    pytest.param(name, service, text, id=f"{name}-{service}-{number}")
    for name, variants in BROKEN.items()
    for number, (service, text) in enumerate(variants)
]


@pytest.mark.parametrize(("name", "service", "text"), BROKEN_CASES)
def test_each_check_reports_a_broken_dockerfile(name: str, service: str, text: str) -> None:
    check = next(check for check in CHECKS if check.__name__ == name)
    assert text != GOOD
    # The same check passes on the real file: what it reports is the breakage.
    assert check(load(service, GOOD), service) == []
    assert check(load(service, text), service) != []
