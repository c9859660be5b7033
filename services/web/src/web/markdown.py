"""The tenant's data-handling instructions, CommonMark rendered for a page — safely.

An admin writes the text, every person reads it: a hostile or careless document must
not become markup of ours. markdown-it-py's CommonMark parser with ``html`` off turns
raw HTML (``<script>``, ``<img onerror>``) into escaped text; images are off (no
tracking pixels, nothing fetched from elsewhere); a link is kept only when it goes to
``http(s):``, ``mailto:`` or a path of this app — ``javascript:``, ``data:`` and the
like stay as plain text. The page's Content-Security-Policy is the second wall.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_SAFE_LINK = re.compile(r"^(?:https?://|mailto:|/(?!/)|#)", re.IGNORECASE)

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_parser.disable("image")


def _link_is_safe(url: str) -> bool:
    # ``url`` arrives normalised (entities decoded, percent-encoded): what a browser follows.
    return bool(_SAFE_LINK.match(url.strip()))


_parser.validateLink = _link_is_safe  # type: ignore[method-assign]


def render(text: str) -> str:
    """HTML for the page (mark it safe in the template: nothing of the author's is markup)."""
    html: str = _parser.render(text)
    return html
