"""Tag codes printed on key tags: random, unguessable, easy to read out and type.

Sixteen Crockford base32 symbols (80 random bits) in four groups of four,
``7K3M-QX9P-2D4F-HR8T``. Reading is forgiving the Crockford way: case, spaces
and dashes do not matter, ``I``/``L`` read as ``1`` and ``O`` as ``0``. The
code says nothing about the site or customer; the link lives only in this
service, behind a keyed blind index of the normalised code.
"""

from __future__ import annotations

import secrets

from fieldvault_platform.errors import InvalidArgument

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 4
GROUP_LENGTH = 4
LENGTH = GROUPS * GROUP_LENGTH
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", " -_\t")


def new_tag_code() -> str:
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return format_tag_code(symbols)


def format_tag_code(symbols: str) -> str:
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, LENGTH, GROUP_LENGTH))


def normalise_tag_code(value: str) -> str:
    """The 16 symbols of a typed or scanned code; InvalidArgument for anything else.

    The error never repeats what was typed.
    """
    symbols = value.strip().upper().translate(_IGNORED).translate(_READS_AS)
    if len(symbols) != LENGTH or any(symbol not in ALPHABET for symbol in symbols):
        raise InvalidArgument(
            f"tag_code must be {LENGTH} letters and digits, e.g. 7K3M-QX9P-2D4F-HR8T"
        )
    return symbols
