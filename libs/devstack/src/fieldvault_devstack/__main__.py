"""``python -m fieldvault_devstack run|demo`` / ``fieldvault-dev``: ``make run`` and ``make demo``.

``run`` starts the stack. ``demo`` does the same and populates the demo company
(:mod:`fieldvault_devstack.demo_company`); when a stack already answers on the
gateway's port (``make run`` in another terminal), it populates that one and exits.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType

from fieldvault_devstack.demo import DEMO_ADMIN_EMAIL, DEMO_TENANT_SLUG, DemoSeed, DemoTenant
from fieldvault_devstack.demo_company import DemoCompany, populate_demo_company
from fieldvault_devstack.health import http_ready
from fieldvault_devstack.ports import PortInUse
from fieldvault_devstack.settings import DevStackSettings
from fieldvault_devstack.stack import LocalStack, StackError
from fieldvault_devstack.trace_log import TraceLog

#: One line per trace, in the stack's logs folder (``make run``).
TRACES_LOG = "traces.log"

log = logging.getLogger("fieldvault.dev")


def run(*, demo: bool = False) -> int:
    settings = DevStackSettings()
    if demo and http_ready(f"http://{settings.host}:{settings.gateway_port}/readyz"):
        # `make run` is up already: populate it rather than start a second stack.
        try:
            populated = _populate(settings)
        except StackError as exc:
            log.error("%s", exc)
            return 1
        log.info("%s", _company_lines(populated))
        return 0
    stack = LocalStack(settings)
    traces = _start_trace_log(stack)
    try:
        return _serve(settings, stack, traces, demo=demo)
    finally:
        if traces is not None:
            traces.stop()


def _start_trace_log(stack: LocalStack) -> TraceLog | None:
    """The built-in OTLP receiver writing ``logs/traces.log``, unless the developer
    already sends traces somewhere (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
    ``OTEL_TRACES_EXPORTER`` set): the services inherit its ``OTEL_*`` variables."""
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_TRACES_EXPORTER"):
        return None
    traces = TraceLog(stack.logs_dir / TRACES_LOG, host=stack.settings.host).start()
    os.environ.update(traces.env())
    return traces


def _serve(
    settings: DevStackSettings, stack: LocalStack, traces: TraceLog | None, *, demo: bool
) -> int:
    shutdown = threading.Event()
    started = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        shutdown.set()
        if not started:
            # Still starting: unwind start(), which stops whatever is already up.
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    company: DemoCompany | None = None
    try:
        stack.start()
        if demo:
            with stack.clock.step("demo company populated"):
                company = _populate(settings)
        started = True
    except (PortInUse, StackError, TimeoutError, RuntimeError) as exc:
        stack.stop()  # a failed start stopped itself already; a failed population did not
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        # Also reached when the signal lands just after start() returned:
        # stop() is safe to call twice and must not be skipped then.
        stack.stop()
        log.info("interrupted while starting; stopped")
        return 130

    log.info(
        "fieldvault is running\n"
        "  field app:      http://%s:%d  (open it on a phone or in a browser)\n"
        "  gateway:        %s\n"
        "  data folder:    %s\n"
        "  operator token: %s (read it from the file; it is never printed)\n"
        "%s%s"
        "  mail folder:    %s\n"
        "  logs:           %s\n"
        "  traces:         %s\n"
        "Press Ctrl-C to stop.",
        settings.host,
        settings.web_port,
        "  ".join(stack.gateway_urls())
        + (f"  ({settings.replicas} replicas each)" if settings.replicas > 1 else ""),
        stack.data_dir,
        stack.operator_token_file,
        _demo_lines(stack.demo),
        _company_lines(company) + "\n" if company else "",
        stack.mail_dir,
        stack.logs_dir,
        traces.path if traces is not None else "sent to OTEL_EXPORTER_OTLP_ENDPOINT",
    )
    exit_code = stack.wait(shutdown)
    log.info("stopping services, OpenBao and NATS")
    # A second Ctrl-C must not abort the orderly shutdown half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    stack.stop()
    log.info("stopped")
    return exit_code


def _demo_lines(demo: DemoSeed | None) -> str:
    if demo is None:
        return ""
    lines = f"  demo tenant:    {DEMO_TENANT_SLUG} (admin {DEMO_ADMIN_EMAIL})\n"
    if demo.invitation_url_file.exists():
        # The link sets the admin's password, so only where it is gets printed.
        lines += f"  admin invite:   {demo.invitation_url_file} (open the link in it once)\n"
    elif demo.outcome is DemoTenant.EXISTED:
        lines += "  admin invite:   not kept (delete the data folder to seed the demo anew)\n"
    return lines


def _populate(settings: DevStackSettings) -> DemoCompany:
    return populate_demo_company(
        gateway_url=f"http://{settings.host}:{settings.gateway_port}",
        app_url=f"http://{settings.host}:{settings.web_port}",
        data_dir=settings.data_dir.resolve(),
    )


def _company_lines(company: DemoCompany) -> str:
    jobs = f"{len(company.filed_job_ids)} filed for today" if company.filed_job_ids else "kept"
    # The file holds the passwords, so only where it is gets printed.
    return (
        f"  demo company:   {company.tenant} (jobs: {jobs})\n"
        f"  demo sign-in:   {company.sign_in_file} (people, password, admin TOTP secret)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldvault-dev", description=__doc__)
    parser.add_argument("command", choices=["run", "demo"], nargs="?", default="run")
    command = parser.parse_args(argv).command
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # httpx logs every readiness poll at INFO; only the launcher's own lines matter here.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return run(demo=command == "demo")


if __name__ == "__main__":
    sys.exit(main())
