"""Text a member (or an article) wrote, made harmless for where someone reads it.

A question is stored as it was asked (the audit log keeps the evidence); it is made inert
only when shown: in a terminal no control character can move the cursor, recolour or
retitle the window (ANSI/OSC escape sequences start with ESC, U+001B, or C1 controls) and
no bidirectional override can reorder what is read; in a spreadsheet no cell is a formula;
on Discord (`for_discord`, the one renderer every embed and message uses) no markup, link,
mention or code fence is made of it.
"""
from __future__ import annotations

import json
import re

# C0 and C1 controls (ESC and CSI among them), DEL, and the bidirectional embeddings,
# overrides and isolates (U+202A-202E, U+2066-2069) that make text read other than it is.
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
# Spreadsheets (Excel, LibreOffice, Google Sheets) read a cell starting with one of these
# as a formula; a tab or carriage return first can also start one (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match) -> str:
    char = match.group()
    if char in "\n\t":
        return " "
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def for_terminal(text: str | None) -> str:
    """The text with every control and direction character shown as an escape (`\\x1b`),
    never acted on; newlines and tabs as spaces."""
    if text is None:
        return ""
    return _UNSHOWABLE.sub(_visible, text)


def json_line(value: object) -> str:
    """`value` as one line of JSON that a terminal shows as written: the JSON module escapes C0
    controls but writes C1 controls and direction overrides raw; here they are `\\uXXXX`
    escapes too, so the line parses to the same value."""
    return _UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def for_csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (which spreadsheets hide). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# Every ASCII character Discord's markdown gives a meaning to anywhere in a line: emphasis,
# strike, spoilers, code, masked links `[text](url)`, `<...>` (autolinks, mentions, channels,
# timestamps, emoji), quotes, the backslash itself.
_DISCORD_MARKUP = re.compile(r"([\\*_~`|\[\]()<>])")
# Discord links any `scheme://...` it sees, and `discord.utils.escape_markdown` leaves whatever
# looks like a URL alone (brackets and backticks included): nothing is trusted to be a URL, every
# `://` loses its power (`https\://` renders as `https://`, and is no link).
_SCHEME = re.compile(r":(?=//)")
# Headers, lists and subtext (`#`, `-`, `+`, `-#`, `1.`) only start a line: member text is one
# line, but a template might put it at the start of one.
_LINE_START = re.compile(r"^([#+\-]|\d+(?=\.))")
# @everyone, @here and <@id> stay readable but cannot ping (allowed_mentions forbids pings too).
_MENTION = re.compile(r"@(everyone|here|[!&]?[0-9]{17,20})")
ZERO_WIDTH_SPACE = "\u200b"


def for_discord(text: str | None, *, markdown: bool = True) -> str:
    """Untrusted text (a member's question, name or reason; an article's title or quote) as it
    must appear on Discord: one line, every control and direction character written as an escape
    (`\\u202e`), mentions broken by a zero-width space, and, where Discord reads markdown
    (`markdown=True`: descriptions, field values, titles, message content), every markup
    character escaped. Where it reads none (footers, field names, button labels), `markdown=False`.
    The result renders as the text's own characters and nothing else: it cannot close a code
    fence (none is ever opened around it), make a link, format, or ping."""
    if text is None:
        return ""
    shown = " ".join(for_terminal(text).split())
    shown = _MENTION.sub(lambda m: "@" + ZERO_WIDTH_SPACE + m.group(1), shown)
    if not markdown:
        return shown
    shown = _SCHEME.sub(r"\\:", _DISCORD_MARKUP.sub(r"\\\1", shown))
    return _LINE_START.sub(lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), shown, count=1)


def cut(rendered: str, limit: int, ellipsis: str = "\u2026") -> str:
    """At most `limit` characters of text `for_discord` made, a cut marked with the ellipsis; never
    a lone backslash left to escape what follows."""
    if len(rendered) <= limit:
        return rendered
    kept = rendered[: max(limit - len(ellipsis), 0)].rstrip()
    trailing = len(kept) - len(kept.rstrip("\\"))
    if trailing % 2:
        kept = kept[:-1]
    return kept + ellipsis
