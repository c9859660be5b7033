"""Generate the Python stubs for every .proto under protos/ (run by `make proto`).

Output is deterministic for a given grpcio-tools version (pinned by uv.lock),
so the staleness test can regenerate into a temporary folder and compare.

Messages get grpc_tools' own .pyi; the gRPC stubs get typed .pyi from
mypy-protobuf's protoc-gen-mypy_grpc. (mypy-protobuf's message stubs type an
enum value as a NewType, ``Priority.ValueType``, where the product code
annotates with the enum itself, ``Priority``.) The gRPC stubs are for grpc.aio
only: every client in the product is async, and the gateway names the stub
classes as types.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "protos"
DEFAULT_OUT = Path(__file__).resolve().parent / "src"
# mypy-protobuf installs its protoc plugin next to the interpreter (.venv/bin).
MYPY_GRPC_PLUGIN = Path(sys.executable).parent / "protoc-gen-mypy_grpc"
# quiet: no "Writing mypy to ..." line per file on stderr.
MYPY_GRPC_OPTIONS = "only_async,quiet"


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    include = Path(protoc.__file__).parent / "_proto"  # well-known types
    if not MYPY_GRPC_PLUGIN.exists():
        raise SystemExit(f"{MYPY_GRPC_PLUGIN} is missing; run `make install` (mypy-protobuf)")
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            f"--plugin=protoc-gen-mypy_grpc={MYPY_GRPC_PLUGIN}",
            f"--mypy_grpc_out={MYPY_GRPC_OPTIONS}:{out_dir}",
            *files,
        ]
    )
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")
    # Regular packages (not namespace packages) keep imports and mypy simple.
    for directory in {(out_dir / f).parent for f in files}:
        while directory != out_dir:
            (directory / "__init__.py").touch()
            directory = directory.parent


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    generated = out / "fieldvault"
    if generated.exists() and out == DEFAULT_OUT:
        # Remove stubs of protos that no longer exist.
        for stale in generated.rglob("*_pb2*.py*"):
            stale.unlink()
    generate(out)


if __name__ == "__main__":
    main()
