"""Password hashing and the NIST SP 800-63B policy."""

from __future__ import annotations

import unicodedata

import pytest
from argon2.exceptions import InvalidHashError
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fieldvault_platform.errors import InvalidArgument
from identity.passwords import (
    MAX_LENGTH,
    check_password,
    dummy_verify,
    hash_password,
    is_common_password,
    needs_rehash,
    verify_password,
)

CONTEXT = {
    "tenant_slug": "acme-heating",
    "tenant_name": "Acme Heating Ltd",
    "email": "j.doe@acme.example",
}
CONTEXT_WORDS = ("acme", "heating", "ltd", "j.doe", "jdoe")
GOOD = "violet kettle drums at noon"


def check(password: str, *, has_second_factor: bool = False) -> None:
    check_password(password, has_second_factor=has_second_factor, **CONTEXT)


def rejection(password: str, *, has_second_factor: bool = False) -> str:
    with pytest.raises(InvalidArgument) as caught:
        check(password, has_second_factor=has_second_factor)
    return caught.value.message


# --- hashing -------------------------------------------------------------------------


def test_a_hash_is_argon2id_and_verifies_only_the_same_password() -> None:
    hashed = hash_password(GOOD)

    assert hashed.startswith("$argon2id$")
    assert GOOD not in hashed
    assert verify_password(password=GOOD, password_hash=hashed)
    assert not verify_password(password=GOOD + "!", password_hash=hashed)
    assert not verify_password(password=GOOD.upper(), password_hash=hashed)
    assert not needs_rehash(hashed)


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password(GOOD) != hash_password(GOOD)


def test_composed_and_decomposed_forms_are_the_same_password() -> None:
    composed = "crème brûlée for everyone"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed

    assert verify_password(password=decomposed, password_hash=hash_password(composed))


def test_a_password_with_a_lone_surrogate_is_a_mismatch_not_an_error() -> None:
    assert not verify_password(password="\ud800" + GOOD, password_hash=hash_password(GOOD))


def test_a_weaker_hash_needs_rehash() -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(GOOD)

    assert needs_rehash(weak)
    assert verify_password(password=GOOD, password_hash=weak)


def test_a_corrupt_stored_hash_is_an_error_not_a_wrong_password() -> None:
    with pytest.raises(InvalidHashError):
        verify_password(password=GOOD, password_hash="not a hash")


def test_an_unknown_user_costs_what_a_wrong_password_costs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not timed (timings are the benchmarks' business): the dummy check runs the very
    verification a wrong password runs, against a hash with the same argon2 parameters."""
    from argon2 import extract_parameters

    from identity import passwords

    verified: list[str] = []
    real_verify = passwords.verify_password

    def spy(*, password: str, password_hash: str) -> bool:
        verified.append(password_hash)
        return real_verify(password=password, password_hash=password_hash)

    monkeypatch.setattr(passwords, "verify_password", spy)
    assert dummy_verify(GOOD) is False
    assert len(verified) == 1
    assert extract_parameters(verified[0]) == extract_parameters(hash_password(GOOD))


# --- policy: length ------------------------------------------------------------------


def test_fifteen_characters_are_needed_without_a_second_factor() -> None:
    assert "at least 15 characters" in rejection("violet kettle!")  # 14
    check("violet kettle!!")  # 15


def test_twelve_characters_suffice_with_a_second_factor() -> None:
    assert "at least 12 characters" in rejection("violet kett", has_second_factor=True)
    check("violet kettl", has_second_factor=True)


def test_length_is_counted_after_normalisation() -> None:
    # Full-width letters are NFKC-equivalent to ASCII; "ﬁ" becomes two letters.
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in "violetkettledrum")
    check(full_width)
    assert verify_password(password="violetkettledrum", password_hash=hash_password(full_width))
    assert "at least 15" in rejection("e\u0301" * 14)  # 28 code points, 14 once composed
    check("ﬁ" * 8 + "zq")  # 10 code points typed, 18 after NFKC


def test_long_passwords_are_accepted_up_to_the_maximum() -> None:
    words = "correct horse battery staple and a violet kettle "
    long_password = (words * 10)[:MAX_LENGTH]
    check(long_password)
    assert f"at most {MAX_LENGTH}" in rejection(long_password + "x")


def test_spaces_emoji_and_any_script_are_allowed_without_composition_rules() -> None:
    check("all lowercase and spaces")
    check("ünïcödé ☃ snowman 🦜 parrot")
    check("пароль на русском языке")
    check("    four spaces first   ")


# --- policy: blocklist and context -------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "1qaz2wsx3edc4rfv",  # on the list, 16 characters
        "QWERTYUIOP12345",  # on the list, in capitals
        "baseball2024!!!!",  # a listed word with digits and symbols around it
        "!!!Password12345",
        "I love you 123456",  # "iloveyou" with spaces and digits
        "aaaaaaaaaaaaaaaa",
        "abcabcabcabcabcabc",
        "monkeymonkeymonkey",
        "abcdefghijklmnopq",
        "123456789012345678",
        "zyxwvutsrqponmlk",
    ],
)
def test_common_passwords_and_trivial_variations_are_rejected(password: str) -> None:
    message = rejection(password, has_second_factor=True)
    assert "too easy to guess" in message
    assert password not in message


@pytest.mark.parametrize(
    ("password", "what"),
    [
        ("my acme-heating password", "tenant's short name"),
        ("ACMEHEATING rules forever", "tenant's short name"),
        ("welcome to heating world", "tenant's short name"),  # slug word "heating"
        ("j.doe has a long password", "e-mail"),
        ("JDoe has a long password!", "e-mail"),
    ],
)
def test_passwords_containing_the_tenant_or_email_name_are_rejected(
    password: str, what: str
) -> None:
    message = rejection(password)
    assert what in message
    assert password not in message


def test_context_fragments_shorter_than_four_characters_are_ignored() -> None:
    check_password(
        "the big ox eats grass at noon",
        tenant_slug="ox",
        tenant_name="The Ox",
        email="al@ox.example",
        has_second_factor=False,
    )


def test_the_email_domain_is_not_a_forbidden_fragment() -> None:
    check_password(
        "example of a perfectly fine password",
        tenant_slug="acme",
        tenant_name="Acme",
        email="someone@example.com",
        has_second_factor=False,
    )


# --- properties ----------------------------------------------------------------------


def _free_of_context(password: str) -> bool:
    folded = unicodedata.normalize("NFKC", password).casefold()
    return not any(word in folded for word in CONTEXT_WORDS)


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=15, max_size=80))
def test_any_long_enough_uncommon_password_free_of_context_is_accepted(password: str) -> None:
    normalised = unicodedata.normalize("NFKC", password)
    assume(15 <= len(normalised) <= MAX_LENGTH)
    assume(_free_of_context(password))
    assume(not is_common_password(password))

    check(password)


_COMMON_LONG = [
    "1qaz2wsx3edc4rfv",
    "qwertyuiopasdfgh",
    "abcdefghijklmnop",
    "passwordpassword",
    "123456789012345",
]


def _wording() -> str:
    """The fixed text of every kind of rejection (probes that break each rule)."""
    texts = []
    for probe in ("short", "password" * 2, "qwertyuiopasdfgh", "a" * 16):
        for second_factor in (False, True):
            try:
                check(probe, has_second_factor=second_factor)
            except InvalidArgument as rejected:
                texts.append(rejected.message.casefold())
    return "\n".join(texts)


_WORDING = _wording()


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(min_size=6, max_size=300),
        st.sampled_from(_COMMON_LONG),
        st.builds(lambda word, tail: word + tail, st.sampled_from(_COMMON_LONG), st.text()),
        st.builds(lambda word, tail: tail + word + tail, st.sampled_from(CONTEXT_WORDS), st.text()),
    ),
    st.booleans(),
)
def test_a_rejection_never_repeats_the_password(password: str, has_second_factor: bool) -> None:
    assume(len(password) >= 6)
    # A password that is itself a piece of the messages' own wording ("passwo" in
    # "the password must ...") is found in any message; that is not an echo.
    assume(password.casefold() not in _WORDING)
    try:
        check(password, has_second_factor=has_second_factor)
    except InvalidArgument as rejected:
        assert password not in rejected.message
        assert password.casefold() not in rejected.message.casefold()
