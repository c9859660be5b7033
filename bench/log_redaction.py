"""Per-record cost of the platform's JSON logging with redaction, against plain logging.

Each variant is a logger with one handler writing to a null stream; what is
timed is the whole ``logger.info(...)`` call a service makes (record creation,
filter, formatting, write), over a realistic mix of records: a message with
arguments plus a few ``extra`` fields, one of them now and then credential-like.

* plain: ``logging.Formatter`` with a classic text format (the baseline);
* json: ``fieldvault_platform.logging.JsonFormatter`` alone;
* json + redaction: ``JsonFormatter`` + ``RedactionFilter`` (what ``configure_logging`` installs).

Usage: python bench/log_redaction.py [--n 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from fieldvault_platform.logging import JsonFormatter, RedactionFilter

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# (message, args, extra): the shapes services actually log.
RECORDS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    (
        "work order %s moved to %s",
        ("wo_01HZX3K4Q9", "completed"),
        {"tenant_id": "tenant-1", "work_order_id": "wo_01HZX3K4Q9", "duration_ms": 12.7},
    ),
    (
        "outbox relay published %d events in %.1f ms",
        (37, 4.2),
        {"stream": "FIELDVAULT_WORK_ORDER", "batch_size": 100},
    ),
    (
        "NATS connection error: %s",
        ("connection refused",),
        {"nats_url": "nats://127.0.0.1:4222", "error_type": "ConnectionRefusedError"},
    ),
    (
        "vault login for %s failed",
        ("customer_vault",),
        # A slip the filter has to catch: a sensitive key and a token in a value.
        {"role": "customer_vault", "secret_id": "3f1c0b9e", "detail": "token=hvs.CAESIabcdefgh"},
    ),
]


class NullStream:
    """A text stream that discards everything (no I/O in the measurement)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def make_logger(name: str, formatter: logging.Formatter, *, redact: bool) -> logging.Logger:
    handler = logging.StreamHandler(NullStream())
    handler.setFormatter(formatter)
    if redact:
        handler.addFilter(RedactionFilter())
    logger = logging.getLogger(f"fieldvault.bench.{name}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def log_n(logger: logging.Logger, n: int) -> None:
    for i in range(n):
        message, args, extra = RECORDS[i % len(RECORDS)]
        logger.info(message, *args, extra=extra)


def ns_per_record(run: Callable[[int], None], n: int, repeat: int) -> float:
    """Best of ``repeat`` runs: the least disturbed by the rest of the machine."""
    run(min(n, 1000))  # warm-up
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter_ns()
        run(n)
        best = min(best, (time.perf_counter_ns() - started) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="records per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs per variant (best is kept)")
    args = parser.parse_args()

    variants = {
        "plain logging.Formatter": make_logger(
            "plain", logging.Formatter(PLAIN_FORMAT), redact=False
        ),
        "JsonFormatter": make_logger("json", JsonFormatter("bench"), redact=False),
        "JsonFormatter + RedactionFilter": make_logger(
            "redacted", JsonFormatter("bench"), redact=True
        ),
    }
    results = {
        name: ns_per_record(functools.partial(log_n, logger), args.n, args.repeat)
        for name, logger in variants.items()
    }

    plain = results["plain logging.Formatter"]
    json_only = results["JsonFormatter"]
    print(f"\n{args.n} records x best of {args.repeat}, null stream\n")
    print(f"{'variant':<34} {'ns/record':>10} {'vs plain':>9} {'vs json':>8}")
    for name, ns in results.items():
        print(f"{name:<34} {ns:>10.0f} {ns / plain:>8.2f}x {ns / json_only:>7.2f}x")
    redacted = results["JsonFormatter + RedactionFilter"]
    print(f"\nRedactionFilter alone adds {redacted - json_only:.0f} ns/record")


if __name__ == "__main__":
    main()
