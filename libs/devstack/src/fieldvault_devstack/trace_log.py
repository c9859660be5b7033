"""One line per trace in ``.fieldvault/logs/traces.log``: ``make run``'s trace viewer.

``make run`` starts an :class:`~fieldvault_devstack.otlp_receiver.OtlpReceiver`
and points every service's OTLP exporter at it (unless the developer set
``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` themselves). Spans
are grouped by trace id; once a trace has been quiet for ``quiet_seconds``
(its background work — grant delivery, notification — has usually finished
by then) one line is written::

    2026-12-04T16:58:01.123Z trace=4bf9… 412.7 ms 9 spans [gateway, work_order]
        gateway: POST /v1/work-orders/{work_order_id}/assign

(on one line)

Span names hold route templates and RPC methods, never ids or values (the
canary tests check what spans carry), so the file holds nothing sensitive.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from fieldvault_devstack.otlp_receiver import OtlpReceiver, ReceivedSpan

#: Traces waiting to be written at most; beyond that the oldest is written early.
MAX_OPEN_TRACES = 10_000


def summary(spans: list[ReceivedSpan]) -> str:
    """The line for one trace: start, id, duration, span count, services, root span."""
    ids = {span.span_id for span in spans}
    roots = [span for span in spans if span.parent_span_id not in ids]
    root = min(roots or spans, key=lambda span: span.start_ns)
    start = min(span.start_ns for span in spans)
    end = max(span.end_ns for span in spans)
    started = datetime.fromtimestamp(start / 1e9, UTC).isoformat(timespec="milliseconds")
    services = ", ".join(sorted({span.service for span in spans}))
    return (
        f"{started.replace('+00:00', 'Z')} trace={root.trace_id} "
        f"{(end - start) / 1e6:.1f} ms {len(spans)} spans [{services}] "
        f"{root.service}: {root.name}"
    )


class TraceLog:
    """An OTLP receiver that writes each finished trace as one line of ``path``."""

    def __init__(self, path: Path, *, host: str = "127.0.0.1", quiet_seconds: float = 3.0) -> None:
        self.path = path
        self.quiet_seconds = quiet_seconds
        self.receiver = OtlpReceiver(host, on_spans=self._add, keep=False)
        self._open: OrderedDict[str, tuple[float, list[ReceivedSpan]]] = OrderedDict()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="trace-log", daemon=True)

    def env(self) -> dict[str, str]:
        return self.receiver.env() | {"OTEL_BSP_SCHEDULE_DELAY": "500"}

    def start(self) -> TraceLog:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.receiver.start()
        self._writer.start()
        return self

    def stop(self) -> None:
        self.receiver.stop()
        self._stopping.set()
        self._writer.join(timeout=5)
        self.flush(everything=True)

    def __enter__(self) -> TraceLog:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _add(self, spans: list[ReceivedSpan]) -> None:
        now = time.monotonic()
        with self._lock:
            for span in spans:
                _, known = self._open.pop(span.trace_id, (now, []))
                known.append(span)
                self._open[span.trace_id] = (now, known)  # moved to the end: newest last

    def flush(self, *, everything: bool = False) -> int:
        """Write the traces quiet for ``quiet_seconds`` (or all); how many were written."""
        cutoff = time.monotonic() - self.quiet_seconds
        done: list[list[ReceivedSpan]] = []
        with self._lock:
            while self._open:
                trace_id, (last_seen, spans) = next(iter(self._open.items()))
                if not (everything or last_seen <= cutoff or len(self._open) > MAX_OPEN_TRACES):
                    break
                del self._open[trace_id]
                done.append(spans)
        if done:
            with self.path.open("a", encoding="utf-8") as log:
                log.writelines(summary(spans) + "\n" for spans in done)
        return len(done)

    def _write_loop(self) -> None:
        while not self._stopping.wait(0.5):
            self.flush()
