"""Text a member wrote, made harmless for where a moderator reads it.

A question is stored as it was asked (the audit log keeps the evidence); it is made inert
only when shown: in a terminal no control character can move the cursor, recolour or
retitle the window (ANSI/OSC escape sequences start with ESC, U+001B, or C1 controls) and
no bidirectional override can reorder what is read; in a spreadsheet no cell is a formula.
"""
from __future__ import annotations

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


def for_csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading
    apostrophe (which spreadsheets hide). Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
