"""Field limits, declared once: the REST edge and the owning service enforce the same ones.

The gateway states them in its request models (and so in the OpenAPI document);
the service that stores a value enforces them again, because the gateway is not
its only caller. A limit that drifted apart meant a request the edge accepted
and the owner refused with a different error.
"""

from __future__ import annotations

#: Names of customers, sites, people, organisations and areas; work-order titles.
NAME = 200
TITLE = 200
#: An e-mail address (RFC 5321 allows no longer path in practice).
EMAIL = 254
PHONE = 40
ADDRESS = 500
ACCESS_INSTRUCTIONS = 2000
#: Free text: customer notes, work-order descriptions and notes.
NOTES = 4000
#: A reason written into the audit trail (reveal, break-glass, value export); the
#: audit record's column holds this many characters.
AUDIT_REASON = 500
#: A reason kept in a work order's history (cancel, unable to complete).
HISTORY_REASON = 1000
#: A contract or document's file name.
FILENAME = 255
