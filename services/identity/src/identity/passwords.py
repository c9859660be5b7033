"""Passwords: argon2id hashing and the NIST SP 800-63B password policy.

Hashing
    argon2id through argon2-cffi with the RFC 9106 "second recommended option"
    (``argon2.profiles.RFC_9106_LOW_MEMORY``: t=3 passes, m=64 MiB, p=4 lanes,
    16-byte salt, 32-byte tag), which is also the library's default profile and
    stronger than OWASP's floor (m=19 MiB, t=2, p=1). The parameters travel in
    every encoded hash, so raising them later only needs :func:`needs_rehash`
    at the next successful login. One verification costs ~64 MiB for its
    duration: callers run it off the event loop (``asyncio.to_thread``) and the
    login throttle bounds how many run at once per account and source.

Normalisation
    Passwords are normalised to Unicode NFKC before the length count, the
    policy checks and hashing (SP 800-63B 5.1.1.2), so the same password typed
    on keyboards that produce composed or decomposed characters, or full-width
    forms, is the same password. Length is counted in code points after
    normalisation. Comparisons with the blocklist and the account's context
    are case-insensitive (``str.casefold``); the hash is case-sensitive.

Policy (:func:`check_password`)
    At least 12 characters when the account has a second factor, 15 without
    one; at most 256 (the hash's cost does not depend on the length, the limit
    only bounds the work of normalising); every character allowed, spaces and
    emoji included; no composition rules; rejected when it is a common or
    breached password (zxcvbn's bundled list of 30,000, also with digits or
    symbols around a listed word, a repeated short unit, or a straight
    sequence such as ``abcdef...``) or contains the tenant's slug or name or
    the name part of the user's e-mail address. There is deliberately no
    expiry and no forced periodic change: SP 800-63B forbids it, a password is
    changed only when the user wants to or it is known to be compromised.

Error messages say what is wrong, never the password or a fragment of it.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from functools import cache
from itertools import pairwise

from argon2 import PasswordHasher, profiles
from argon2.exceptions import VerificationError

from fieldvault_platform.errors import InvalidArgument

MIN_LENGTH_WITH_SECOND_FACTOR = 12
MIN_LENGTH_WITHOUT_SECOND_FACTOR = 15
MAX_LENGTH = 256
#: Context fragments (slug, name, e-mail name) shorter than this are ignored:
#: "max" or "ab" would forbid far too many good passwords.
MIN_CONTEXT_FRAGMENT = 4
#: A password that is one unit repeated is weak when the unit is this short.
_MAX_TRIVIAL_REPEAT_UNIT = 4

_HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
_SEPARATORS = re.compile(r"[\W_]+")


def normalise(password: str) -> str:
    """The form that is checked and hashed: Unicode NFKC, case kept."""
    return unicodedata.normalize("NFKC", password)


# --- hashing -------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An encoded argon2id hash (salt and parameters included) of the normalised password."""
    return _HASHER.hash(normalise(password).encode("utf-8"))


def verify_password(*, password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``; a mismatch is ``False``, never an error.

    The comparison is the library's constant-time one. A stored hash that is
    not an argon2 hash at all raises ``argon2.exceptions.InvalidHashError``:
    that is corrupt data, not a wrong password, and must not pass silently.
    """
    try:
        return _HASHER.verify(password_hash, _encode_for_verify(password))
    except VerificationError:  # a mismatch; InvalidHashError is no subclass and propagates
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's: rehash it at login."""
    return _HASHER.check_needs_rehash(password_hash)


def dummy_verify(password: str) -> bool:
    """Spend what :func:`verify_password` spends, for a user that does not exist. Always False.

    The login path calls it when no account matches, so an unknown user and a
    wrong password take similar time and get the same error.
    """
    verify_password(password=password, password_hash=_dummy_hash())
    return False


@cache
def _dummy_hash() -> str:
    # A hash of a random secret nobody knows, with the same parameters as real
    # hashes. Made on first use (one extra hash, once per process); the
    # composition root may call dummy_verify("") at start-up to pay it early.
    return hash_password(secrets.token_urlsafe(32))


def _encode_for_verify(password: str) -> bytes:
    # A lone surrogate cannot be encoded strictly; "surrogatepass" yields bytes
    # no valid password encodes to, so it simply does not match, in full time.
    return normalise(password).encode("utf-8", "surrogatepass")


# --- policy --------------------------------------------------------------------------


def check_password(
    password: str,
    *,
    tenant_slug: str,
    tenant_name: str,
    email: str,
    has_second_factor: bool,
) -> None:
    """Raise :class:`InvalidArgument` saying why ``password`` may not be set; None when it may."""
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgument("the password contains characters that are not valid text") from None
    normalised = normalise(password)
    minimum = (
        MIN_LENGTH_WITH_SECOND_FACTOR if has_second_factor else MIN_LENGTH_WITHOUT_SECOND_FACTOR
    )
    if len(normalised) < minimum:
        hint = (
            ""
            if has_second_factor
            else f" ({MIN_LENGTH_WITH_SECOND_FACTOR} once a second factor is set up)"
        )
        raise InvalidArgument(f"the password must be at least {minimum} characters long{hint}")
    if len(normalised) > MAX_LENGTH:
        raise InvalidArgument(f"the password must be at most {MAX_LENGTH} characters long")

    folded = normalised.casefold()
    for what, value in (
        ("the tenant's short name", tenant_slug),
        ("the tenant's name", tenant_name),
        ("the name part of the e-mail address", email.rpartition("@")[0] or email),
    ):
        if any(fragment in folded for fragment in context_fragments(value)):
            raise InvalidArgument(f"the password must not contain {what}")

    if is_common_password(normalised):
        raise InvalidArgument(
            "the password is too easy to guess: it is a commonly used or breached password,"
            " or a simple variation of one"
        )


def context_fragments(value: str) -> set[str]:
    """The case-folded pieces of ``value`` a password may not contain.

    The whole value, its words (split at anything that is not a letter or
    digit) and the words run together, each only if at least
    :data:`MIN_CONTEXT_FRAGMENT` characters long: "acme-heating" gives
    ``{"acme-heating", "acme", "heating", "acmeheating"}``.
    """
    folded = normalise(value).casefold().strip()
    words = [word for word in _SEPARATORS.split(folded) if word]
    candidates = {folded, "".join(words), *words}
    return {fragment for fragment in candidates if len(fragment) >= MIN_CONTEXT_FRAGMENT}


def is_common_password(password: str) -> bool:
    """Whether the password is on the bundled list or a trivial variation of a listed one.

    Variations caught: any case; digits, symbols or spaces before or after a
    listed word ("Dragon2024!"); spaces within it ("i love you 2"); one unit
    repeated, when the unit is short or listed ("abcabcabcabc",
    "passwordpassword"); a straight run such as "abcdefghijklmnop" or
    "123456789012345".
    """
    folded = normalise(password).casefold()
    common = _common_passwords()
    for variant in (folded, "".join(folded.split())):  # as typed, and without spaces
        core = _strip_non_letters(variant)
        if variant in common or (core and core in common):
            return True
    unit = _repeated_unit(folded)
    if unit is not None and (
        len(unit) <= _MAX_TRIVIAL_REPEAT_UNIT
        or unit in common
        or _strip_non_letters(unit) in common
    ):
        return True
    return _is_straight_run(folded)


@cache
def _common_passwords() -> frozenset[str]:
    # Imported on first use: the list is large and only the policy needs it.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(normalise(word).casefold() for word in FREQUENCY_LISTS["passwords"])


def _strip_non_letters(text: str) -> str:
    letters = [index for index, char in enumerate(text) if char.isalpha()]
    if not letters:
        return ""
    return text[letters[0] : letters[-1] + 1]


def _repeated_unit(text: str) -> str | None:
    """The shortest unit that ``text`` is two or more copies of, if any."""
    length = len(text)
    for size in range(1, length // 2 + 1):
        if length % size == 0 and text[:size] * (length // size) == text:
            return text[:size]
    return None


def _is_straight_run(text: str) -> bool:
    """Each character one code point above (or each one below) the one before; 9 → 0 counts."""
    if len(text) < 3:
        return False
    steps = {_step(before, after) for before, after in pairwise(text)}
    return steps in ({1}, {-1})


def _step(before: str, after: str) -> int:
    if before == "9" and after == "0":
        return 1
    if before == "0" and after == "9":
        return -1
    return ord(after) - ord(before)
