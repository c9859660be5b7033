"""JSON logs carrying ``trace_id``/``span_id``, with a redaction filter.

One JSON object per line on stderr. The redaction filter is a last line of
defence: code must not log secrets in the first place, but if a value that
looks like a credential slips into a message or an ``extra`` field, it is
replaced before the record is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from fieldvault_platform.telemetry import current_trace_ids

REDACTED = "[REDACTED]"

#: Keys (in ``extra``) whose values are never written.
SENSITIVE_KEYS = re.compile(
    r"(pass(word)?|secret|token|authorization|api[-_]?key|cookie|otp|(door|alarm|key_?safe)_?code"
    r"|data[-_]?key|private|credential|signature|plaintext)",
    re.IGNORECASE,
)

#: Credential-looking fragments inside free text, as one pattern so a log line
#: is scanned once (this runs for every record).
_SENSITIVE_TEXT = re.compile(
    # Authorization headers and bearer tokens
    r"(?i:\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,})"
    # JWTs (three base64url segments)
    r"|\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"
    # Vault tokens (s./hvs./b. prefixes) and Vault Transit ciphertext
    r"|\b(?:hvs|hvb|s|b)\.[A-Za-z0-9]{20,}"
    r"|\bvault:v\d+:[A-Za-z0-9+/=]+"
    # key=value pairs whose key is sensitive: the key stays, the value goes
    r"|(?P<key>(?i:\b(?:pass(?:word)?|secret|token|api[-_]?key|otp)[a-z_]*))"
    r"\s*[=:]\s*(?:\"[^\"]*\"|'[^']*'|\S+)",
    # ASCII: case-insensitive matching must not fold non-ASCII letters (the long
    # s, U+017F) into ASCII ones, which the lower-cased fast path would not see.
    re.ASCII,
)


# Attributes every LogRecord has; anything else came in through ``extra``.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _replacement(match: re.Match[str]) -> str:
    key = match.group("key")
    return f"{key}={REDACTED}" if key else REDACTED


#: Every match of _SENSITIVE_TEXT contains one of these (lower-cased); text with
#: none of them, most log lines, skips the regex entirely.
_TRIGGERS = (
    "bearer",
    "basic",
    "eyj",
    "s.",
    "b.",
    "vault:v",
    "pass",
    "secret",
    "token",
    "api",
    "otp",
)


def redact_text(text: str) -> str:
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text
    return _SENSITIVE_TEXT.sub(_replacement, text)


def _redact_value(key: str, value: Any) -> Any:
    if SENSITIVE_KEYS.search(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(key, v) for v in value]
    return value


class RedactionFilter(logging.Filter):
    """Scrubs credential-looking text from messages, arguments and ``extra`` fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        for key in list(vars(record)):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, _redact_value(key, getattr(record, key)))
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now so it can be redacted like everything else.
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ids = current_trace_ids()
        if ids is not None:
            entry["trace_id"], entry["span_id"] = ids
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS:
                # An extra named like one of ours (service, level, ...) is kept, renamed.
                entry[f"extra_{key}" if key in entry else key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route all logging (ours and libraries') through one redacting JSON handler."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that log request details at INFO (URLs with tokens in query strings).
    for noisy in ("httpx", "httpcore", "urllib3", "hvac"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
