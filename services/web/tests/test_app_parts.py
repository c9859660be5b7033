"""The app's parts without a browser: catalogues, refusals in words, sealed sessions."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from nats.aio.client import Client as NatsClient

from fieldvault_devstack.nats import NatsServer
from web.gateway import GatewayRefused
from web.i18n import LOCALES_DIR, Formatter, negotiate, translations
from web.office import customer_search
from web.problems import explain
from web.sessions import SessionStore

HELSINKI = ZoneInfo("Europe/Helsinki")


def test_every_message_of_the_template_has_a_finnish_translation() -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as source:
        template = {m.id for m in read_po(source) if m.id}
    with (LOCALES_DIR / "fi" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        finnish = {m.id: m.string for m in read_po(source) if m.id}
    missing = sorted(str(i) for i in template if not finnish.get(i))
    assert missing == []
    assert translations("fi").gettext("Today") == "Tänään"


def test_the_catalogue_template_holds_every_message_the_templates_use() -> None:
    templates = Path(__file__).resolve().parents[1] / "src" / "web" / "templates"
    with (LOCALES_DIR / "messages.pot").open("rb") as source:
        template = {m.id for m in read_po(source) if m.id}
    text = (templates / "job.html").read_text()
    for phrase in ("Start job", "Record a code", "Show", "Hidden in"):
        assert f'"{phrase}"' in text or f"'{phrase}'" in text
        assert phrase in template


def test_the_language_follows_the_browser_and_defaults_to_english() -> None:
    assert negotiate("fi-FI,fi;q=0.9,en;q=0.8") == "fi"
    assert negotiate("sv-SE,en;q=0.5,fi;q=0.4") == "en"
    assert negotiate("de-DE") == "en"
    assert negotiate("") == "en"


def test_a_grant_not_yet_open_says_when_it_opens_in_the_readers_language() -> None:
    refusal = GatewayRefused(
        403,
        "no_active_grant",
        "the grant of this job opens at 2026-06-01T05:30:00+00:00",
    )
    for language, expected in (("en", "8:30\u202fAM"), ("fi", "8.30")):
        fmt = Formatter(language, HELSINKI)
        text = explain(refusal, translations(language).gettext, fmt.time)
        assert expected in text, text
    assert "the grant of this job" not in text, "the API's own words are not shown"


def test_refusals_are_said_in_words_never_as_codes() -> None:
    fmt = Formatter("en", HELSINKI)
    cases = [
        (GatewayRefused(409, "dpa_inactive"), "agreement has lapsed"),
        (GatewayRefused(409, "invalid_transition"), "current state"),
        (GatewayRefused(429, "rate_limited", retry_after=42), "42 seconds"),
        (GatewayRefused(503, "unavailable"), "not reachable"),
        (GatewayRefused(403, "no_active_grant"), "no access"),
    ]
    for refusal, words in cases:
        text = explain(refusal, translations("en").gettext, fmt.time)
        assert words in text.lower() or words in text, (refusal.code, text)
        assert refusal.code not in text


async def test_a_session_is_sealed_in_the_bucket_and_ends_when_idle(
    nats_server: NatsServer,
) -> None:
    store = SessionStore(
        nats_server.url, "web_sessions_test", idle_seconds=60, absolute_seconds=3600
    )
    token = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ0ZWNoIn0.c2lnbmF0dXJl"
    try:
        session = store.new("signed_in", tenant="harbour-lifts", access_token=token)
        await store.save("cookie-value-1", session)
        loaded = await store.load("cookie-value-1")
        assert loaded is not None and loaded.access_token == token
        assert await store.load("cookie-value-2") is None, "another cookie opens nothing"

        client = NatsClient()
        await client.connect(nats_server.url)
        kv = await client.jetstream().key_value("web_sessions_test")
        keys = await kv.keys()
        raw = b"".join([k.encode() + (await kv.get(k)).value for k in keys])
        await client.close()
        for visible in (token.encode(), b"harbour-lifts", b"cookie-value-1", b"signed_in"):
            assert visible not in raw

        # Idle past the limit: gone.
        session.last_seen = time.time() - 61
        await store.save("cookie-value-1", session)
        assert await store.load("cookie-value-1") is None
        # Past the absolute lifetime, however busy: gone.
        old = store.new("signed_in")
        old.created_at = time.time() - 3601
        await store.save("cookie-value-3", old)
        assert await store.load("cookie-value-3") is None
    finally:
        await store.close()


def test_the_customer_picker_searches_by_email_phone_or_whole_name() -> None:
    assert customer_search("ada@example.com") == {"email": "ada@example.com"}
    assert customer_search("+358 40 123 4567") == {"phone": "+358 40 123 4567"}
    assert customer_search("(09) 123-456") == {"phone": "(09) 123-456"}
    assert customer_search("Virtanen Oy") == {"name": "Virtanen Oy"}
    assert customer_search("Kiinteistö 24 Oy") == {"name": "Kiinteistö 24 Oy"}


def test_times_are_shown_in_the_apps_zone() -> None:
    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    assert Formatter("fi", HELSINKI).time(moment) == "14.00"
