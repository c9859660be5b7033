"""py-spy flame graphs of service processes while a load runs (artefacts, git-ignored)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class Profiler:
    """``py-spy record`` of each named pid: an SVG flame graph and the raw collapsed stacks.

    ``--nonblocking`` keeps py-spy from pausing the process at every sample, so the
    profile does not slow the load it looks at; ``--idle`` keeps the waiting
    frames, because waiting (locks, I/O) is what a serialised path shows.
    """

    def __init__(self, out_dir: Path, duration: int) -> None:
        self.out_dir = out_dir
        self.duration = duration
        self.py_spy = shutil.which("py-spy") or str(Path(__file__).parents[2] / ".venv/bin/py-spy")
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, label: str, pids: dict[str, int]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
                out = self.out_dir / f"{label}-{name}.{suffix}"
                self._running.append(
                    subprocess.Popen(
                        [
                            self.py_spy,
                            "record",
                            "--pid",
                            str(pid),
                            "--duration",
                            str(self.duration),
                            "--nonblocking",
                            "--idle",
                            "--format",
                            fmt,
                            "--output",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )

    def wait(self) -> None:
        for process in self._running:
            process.wait(timeout=self.duration + 60)
        self._running.clear()
