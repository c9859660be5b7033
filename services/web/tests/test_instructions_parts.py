"""The instructions' parts without a browser: a hostile document renders as harmless text,
and "back to where you were" never leaves the app."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from web.gateway import GatewayClient, GatewayRefused, InstructionsToRead
from web.markdown import render
from web.routes.instructions import safe_next, where_it_was

HOSTILE = """# Rules

<script>window.pwned = 1</script>

<img src=x onerror="window.pwned = 2">

[click](javascript:window.pwned=3) [shout](JAVASCRIPT:alert(1)) [tab](java&#x09;script:alert(1))
<javascript:alert(1)> [data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox)
[other site](//evil.example/x) ![pixel](https://tracker.example/p.png)
<a href="javascript:alert(1)">raw</a> <iframe src="https://evil.example"></iframe>

[fine](https://intranet.example/rules) [mail](mailto:dpo@example.fi) [here](/me)

- **bold** and `code`
"""


def test_a_hostile_document_is_escaped_and_keeps_only_safe_links() -> None:
    html = render(HOSTILE)

    assert "<script" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "<iframe" not in html
    assert "onerror=" not in html.replace("onerror=&quot;", "")
    assert 'href="javascript' not in html.lower() and 'href="data' not in html.lower()
    hrefs = [part.split('"', 1)[0] for part in html.split('href="')[1:]]
    assert hrefs == [
        "https://tracker.example/p.png",
        "https://intranet.example/rules",
        "mailto:dpo@example.fi",
        "/me",
    ]
    assert "<h1>Rules</h1>" in html and "<strong>bold</strong>" in html


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/jobs/abc?tab=codes", "/jobs/abc?tab=codes"),
        ("/", "/"),
        ("", ""),
        ("//evil.example/x", ""),
        ("/\\evil.example", ""),
        ("https://evil.example/", ""),
        ("javascript:alert(1)", ""),
        ("/jobs/\nx", ""),
        ("/" + "a" * 600, ""),
    ],
)
def test_the_way_back_is_always_a_path_of_this_app(given: str, kept: str) -> None:
    assert safe_next(given) == kept


def _request(method: str, path: str, headers: dict[str, str]) -> Request:
    return Request(
        {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "server": ("app.example", 443),
            "scheme": "https",
        }
    )


def test_a_refused_form_post_returns_to_the_page_that_posted_it() -> None:
    posted = {
        "/jobs/j1/codes/door_code/reveal": "/jobs/j1",
        "/office/customers/c1/export": "/office/customers/c1",
        "/office/customers": "/office/customers",
        "/somewhere/else": "",
    }
    came_from = {
        path: where_it_was(_request("POST", path, {"host": "app.example"})) for path in posted
    }
    assert came_from == posted
    page = _request("GET", "/office/customers", {"host": "app.example"})
    assert where_it_was(page) == "/office/customers"


async def test_the_apis_refusal_becomes_instructions_to_read_not_an_ordinary_refusal() -> None:
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403,
            json={
                "type": "https://fieldvault.dev/problems/instructions_not_acknowledged",
                "title": "Instructions not acknowledged",
                "status": 403,
                "detail": "read and acknowledge version 4 of the data-handling instructions first",
                "code": "instructions_not_acknowledged",
                "instructions_version": 4,
            },
            headers={"content-type": "application/problem+json"},
        )

    client = GatewayClient("http://gateway.test")
    client._http = httpx.AsyncClient(
        base_url="http://gateway.test", transport=httpx.MockTransport(answer)
    )
    with pytest.raises(InstructionsToRead) as raised:
        await client.request("GET", "/v1/sites/s1", token="t")
    assert raised.value.version == 4
    assert not isinstance(raised.value, GatewayRefused)
    await client.aclose()
