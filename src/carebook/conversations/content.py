"""The text of a chat message (Healthie's ``Note.content``): HTML from clients, made safe.

Clients send HTML (Healthie's apps write rich text; integrations paste templates). It is stored
sanitized by nh3 (the ammonia library) with a small allow-list of formatting tags, so what a
reader's client renders can neither run script nor load anything; a regular expression cannot
parse HTML, an allow-list sanitizer does. The plain text (``last_message_content``) is read from
the sanitized HTML by the standard library's HTML parser and stays entity-encoded (``&amp;``,
``&lt;``, ``&gt;``): decoded, a sanitized ``&lt;img onerror=...&gt;`` would come back as live
markup in a client that renders previews as HTML.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

MAX_CONTENT = 20_000  # characters of sanitized HTML: a long letter, not a document

# Formatting a chat shows; no images (a remote image is a read receipt for its sender's server),
# no tables, no forms, no styles or classes.
_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "u",
    "ul",
}
_ATTRIBUTES = {"a": {"href"}}
_SCHEMES = {"http", "https", "mailto"}
# Tags whose end starts a new line of the plain text, so "<p>a</p><p>b</p>" reads "a b".
_BREAKS = {"br", "p", "div", "li", "blockquote", "pre", "ul", "ol"}


def sanitize(content: str) -> str:
    """``content`` with only the allowed tags and links, trimmed."""
    # Imported here, not at start-up: only writes of messages sanitize (docs/performance.md,
    # "Start-up").
    import nh3

    return nh3.clean(
        content,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    ).strip()


class _Text(HTMLParser):
    """Collects the text of sanitized HTML, a space where a block or line ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAKS:
            self.parts.append(" ")


def plain_text(content: str | None) -> str | None:
    """The text of sanitized HTML without tags, whitespace folded, ``&<>`` encoded (None: none)."""
    if content is None:
        return None
    parser = _Text()
    parser.feed(content)
    parser.close()
    return escape(" ".join("".join(parser.parts).split()), quote=False)
