"""Signatures, receiver URL rules and secrets at rest."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from fieldvault_platform.errors import InvalidArgument
from notification.webhooks.secret_box import SecretBox
from notification.webhooks.signing import new_secret, signature, verify
from notification.webhooks.urls import check_destination, check_form

NOW = 1_800_000_000


def test_a_signature_verifies_for_its_body_secret_and_time_only() -> None:
    secret, body = new_secret(), b'{"id":"e1"}'
    header = signature(secret, NOW, body)
    assert header.startswith(f"t={NOW},v1=")
    assert verify(header, secret, body, now=NOW + 10)
    assert not verify(header, secret, body + b" ", now=NOW)
    assert not verify(header, new_secret(), body, now=NOW)
    assert not verify(header, secret, body, now=NOW + 3600)  # a replay
    assert not verify("t=x,v1=00", secret, body, now=NOW)


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hook",  # not https
        "https://user:pw@partner.example/hook",
        "https://partner.example/hook\r\nX-Injected: 1",
        "https://partner.example/ho ok",
        "ftp://partner.example/hook",
        "https:///nohost",
        "https://partner.example/hook#frag",
        "https://par\u202etner.example/hooks",  # a bidi override disguising the host
        "https://pärtner.example/hook",  # an IDN goes in its punycode form
        "https://" + "a" * 2050 + ".example/",
    ],
)
def test_malformed_or_insecure_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidArgument):
        check_form(url, allow_insecure=False)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
    ],
)
async def test_addresses_inside_private_networks_are_refused(url: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await check_destination(url, allow_insecure=False)
    assert "address" in str(refused.value)


async def test_development_accepts_a_local_receiver() -> None:
    await check_destination("http://127.0.0.1:8081/hook", allow_insecure=True)


def test_a_sealed_secret_opens_only_for_its_own_webhook() -> None:
    box = SecretBox("k" * 40)
    sealed = box.seal("webhook-1", "whsec_abc")
    assert b"whsec_abc" not in sealed
    assert box.open("webhook-1", sealed) == "whsec_abc"
    with pytest.raises(InvalidTag):
        box.open("webhook-2", sealed)
    with pytest.raises(InvalidTag):
        SecretBox("x" * 40).open("webhook-1", sealed)
