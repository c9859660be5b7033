"""Tag codes: random, typable, forgiving to read back, and nothing else gets through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_vault.records.tag_codes import ALPHABET, new_tag_code, normalise_tag_code
from fieldvault_platform.errors import InvalidArgument


def test_a_new_code_is_four_groups_of_four_crockford_symbols() -> None:
    codes = {new_tag_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        groups = code.split("-")
        assert [len(group) for group in groups] == [4, 4, 4, 4]
        assert set("".join(groups)) <= set(ALPHABET)


def test_reading_forgives_case_spaces_and_lookalike_letters() -> None:
    assert normalise_tag_code(" 7k3m qx9p-2d4f_hr8t ") == "7K3MQX9P2D4FHR8T"
    assert normalise_tag_code("OIL0-1111-2222-3333") == "0110111122223333"


def _refusal() -> InvalidArgument:
    with pytest.raises(InvalidArgument) as refused:
        normalise_tag_code("")
    return refused.value


@given(st.text(max_size=40))
def test_anything_else_is_refused_without_being_repeated(text: str) -> None:
    try:
        symbols = normalise_tag_code(text)
    except InvalidArgument as refused:
        # One fixed message, whatever was typed: nothing of the input comes back.
        assert str(refused) == str(_refusal())
    else:
        assert len(symbols) == 16 and set(symbols) <= set(ALPHABET)


@pytest.mark.parametrize(
    "bad", ["", "7K3M-QX9P-2D4F", "7K3M-QX9P-2D4F-HR8TX", "UUUU-UUUU-UUUU-UUUU"]
)
def test_wrong_length_or_symbols_say_what_a_code_looks_like(bad: str) -> None:
    with pytest.raises(InvalidArgument, match="tag_code must be 16"):
        normalise_tag_code(bad)
