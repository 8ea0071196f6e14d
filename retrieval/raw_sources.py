"""Reading what `storybot corpus add` is given: a saved web page, a text file or a Markdown
file (or standard input), as text with the metadata it carries, and the user's options checked.

HTML: the words of a page are not a substring of its markup (tags, entities), so the text
trafilatura extracts from the page (offline: the file is parsed, nothing is fetched) is what the
article is made from: one block of the page to a paragraph.

Markdown: front matter fills metadata; the markup (`#` and `>` marks, list markers, emphasis,
`[text](url)` links, images) is removed, so a quote never carries `**` or a URL. Only markup is
removed: no word of the body is added or changed.

Dates are read as precisely as given (YYYY, YYYY-MM, YYYY-MM-DD) by a small parser of the
formats listed in ACCEPTED_DATES: a general parser (dateparser) would also read "24/02/2021" or
"02/03/2021" one way or the other, and an article's date must never be a guess.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import IO

from retrieval.articles import Kind
from retrieval.cleaning import squash
from retrieval.errors import MalformedArticle, StorybotError
from retrieval.limits import MAX_ARTICLE_BYTES, MAX_HTML_ELEMENTS, shorten_error
from retrieval.yaml_text import load_yaml


class IngestError(StorybotError, ValueError):
    """A source cannot become a curated article; names the source and the problem."""

    def __init__(self, source: object, problem: str) -> None:
        problem = shorten_error(problem)
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class BadOption(IngestError):
    """A value the user gave on the command line (--published, --kind) is not usable."""


class SourceKind(str, Enum):
    HTML = "html"
    TEXT = "txt"
    MARKDOWN = "md"


_EXTENSIONS = {".html": SourceKind.HTML, ".htm": SourceKind.HTML, ".txt": SourceKind.TEXT, ".md": SourceKind.MARKDOWN}


@dataclass(frozen=True)
class RawSource:
    name: str  # the path as given, or "<stdin>": what messages name
    text: str
    kind: SourceKind
    data: bytes = b""  # the bytes as received: what is stored and hashed


@dataclass(frozen=True)
class Metadata:
    title: str | None = None
    outlet: str | None = None
    author: str | None = None
    published: str | None = None
    url: str | None = None
    kind: str | None = None
    notes: str | None = None

    def overridden_by(self, other: "Metadata") -> "Metadata":
        """What the user said wins; what neither says stays None."""
        return Metadata(**{f: getattr(other, f) or getattr(self, f) for f in self.__dataclass_fields__})



def _decode(name: str, data: bytes) -> str:
    if b"\0" in data:
        raise IngestError(name, "not a text or HTML file (it holds binary data)")
    for encoding in ("utf-8", "utf-8-sig"):
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
    raise IngestError(name, "not a text or HTML file (it is not UTF-8 text)")


def _sniff(text: str) -> SourceKind:
    if text.lstrip().startswith("<"):  # <!doctype html>, <html>, or a fragment such as <article>
        return SourceKind.HTML
    if _FRONT_MATTER.match(text):
        return SourceKind.MARKDOWN
    return SourceKind.TEXT


def read_source(path_or_dash: str | Path, *, stdin: IO | None = None) -> RawSource:
    """The file (or standard input for '-') as text, with what kind of source it is."""
    if str(path_or_dash) == "-":
        name = "<stdin>"
        stream = stdin if stdin is not None else sys.stdin
        data = getattr(stream, "buffer", stream).read(MAX_ARTICLE_BYTES + 1)
        data = data.encode("utf-8") if isinstance(data, str) else data
    else:
        path = Path(path_or_dash)
        name = str(path_or_dash)
        if not path.is_file():
            raise IngestError(name, "no such file" if not path.exists() else "not a file")
        if path.stat().st_size > MAX_ARTICLE_BYTES:
            raise IngestError(name, f"{path.stat().st_size:,} bytes; an article may have {MAX_ARTICLE_BYTES:,}")
        data = path.read_bytes()
    if len(data) > MAX_ARTICLE_BYTES:
        raise IngestError(name, f"more than {MAX_ARTICLE_BYTES:,} bytes; an article may have {MAX_ARTICLE_BYTES:,}")
    if not data.strip():
        raise IngestError(name, "the file is empty")
    text = _decode(name, data)
    kind = _EXTENSIONS.get(Path(name).suffix.lower()) if name != "<stdin>" else None
    return RawSource(name, text, kind or _sniff(text), data)


# --- dates and options --------------------------------------------------------------------

ACCEPTED_DATES = 'YYYY, YYYY-MM, YYYY-MM-DD, "2021/02/24", "24 February 2021", "February 24, 2021" or "February 2021"'
_NUMERIC_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")
# (format, length of the ISO date it gives): a month and year is a YYYY-MM date.
_NAMED_DATES = tuple((f, 10) for f in ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")) + (
    ("%B %Y", 7), ("%b %Y", 7))


def parse_date(value: str) -> str:
    """A date as precise as it was given: YYYY, YYYY-MM or YYYY-MM-DD. ValueError names the value."""
    text = squash(str(value))
    if timestamp := re.match(r"^(\d{4}-\d{2}-\d{2})[T ]", text):
        text = timestamp.group(1)  # an ISO timestamp: its day is the date
    text = re.sub(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? ", "", text)
    text = re.sub(r"\b(\d{1,2})(st|nd|rd|th)\b", r"\1", text)
    if match := _NUMERIC_DATE.match(text):
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            date(year, month or 1, day or 1)  # refuses month 13 or 30 February
        except ValueError:
            pass
        else:
            return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")
    for pattern, length in _NAMED_DATES:
        try:
            return datetime.strptime(text, pattern).date().isoformat()[:length]
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date I can read; use {ACCEPTED_DATES}")


def check_options(name: str, **given: str | None) -> Metadata:
    """The user's options, checked: a bad one is a BadOption naming the option and the value."""
    values = {key: (squash(value) if isinstance(value, str) else value) or None for key, value in given.items()}
    try:
        if values.get("published"):
            values["published"] = parse_date(values["published"])
    except ValueError as exc:
        raise BadOption(name, f"--published {exc}") from None
    try:
        if values.get("kind"):
            values["kind"] = Kind.from_str(values["kind"]).value
    except ValueError as exc:
        raise BadOption(name, f"--kind: {exc}") from None
    return Metadata(**values)


# --- HTML ---------------------------------------------------------------------------------

_ELEMENT = re.compile(r"<[A-Za-z]")  # an opening tag: counted before any parsing


def _html_text(source: RawSource) -> tuple[str, Metadata]:
    import trafilatura  # imported here: only `corpus add` of a web page needs it

    elements = len(_ELEMENT.findall(source.text))
    if elements > MAX_HTML_ELEMENTS:
        raise IngestError(source.name, f"{elements:,} HTML elements; a page may have {MAX_HTML_ELEMENTS:,}")
    document = trafilatura.bare_extraction(
        source.text,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        # No guessing a date from the page's free text or today's date: metadata or nothing.
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if document is None:
        raise IngestError(source.name, "no article text found in the page")

    def field(key: str) -> str | None:  # trafilatura 1.x returns a dict, 2.x a Document
        value = document.get(key) if isinstance(document, dict) else getattr(document, key, None)
        return value if isinstance(value, str) and value.strip() else None

    lines = [line.strip() for line in (field("text") or "").splitlines() if line.strip()]
    if not lines:
        raise IngestError(source.name, "no article text found in the page")
    published = field("date")
    try:
        published = parse_date(published) if published else None
    except ValueError:
        published = None  # a page date we cannot read is no date, not an invented one
    metadata = {k: field(k) and squash(field(k)) for k in ("title", "sitename", "hostname", "author", "url")}
    # One block of the page a line; a blank line between them makes each a paragraph block.
    return "\n\n".join(lines), Metadata(
        title=metadata["title"],
        outlet=metadata["sitename"] or metadata["hostname"],
        author=metadata["author"],
        published=published,
        url=metadata["url"],
    )


# --- Markdown -----------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.DOTALL | re.MULTILINE)
_FRONT_MATTER_KEYS = {"title": "title", "outlet": "outlet", "author": "author", "published": "published",
                      "date": "published", "url": "url", "kind": "kind", "notes": "notes"}
_MD_DROP_LINE = re.compile(r"^\s{0,3}(\[[^\]]+\]:\s*\S+.*|([-*_])(\s*\2){2,}\s*)$")  # link definitions, rules
_MD_LINE_MARKS = re.compile(r"^\s{0,3}((>\s?)+|#{1,6}\s+|[-*+]\s+|\d+[.)]\s+)")
_MD_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # an image is a picture, not words of the article
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"`([^`\n]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])"), r"\1"),
)


def _front_matter(source: RawSource) -> tuple[str, Metadata]:
    if not source.text.startswith("---"):
        return source.text, Metadata()
    match = _FRONT_MATTER.match(source.text)
    if not match:
        raise IngestError(source.name, "front matter opened with '---' on the first line is never closed by a '---' line")
    try:
        fields = load_yaml(match.group(1), source.name, first_line=2, what="front matter") or {}
    except MalformedArticle as exc:
        raise IngestError(source.name, exc.where) from None
    if not isinstance(fields, dict):
        raise IngestError(source.name, "front matter must be a mapping of fields (title: ..., date: ...)")
    values: dict[str, str] = {}
    for key, value in fields.items():
        target = _FRONT_MATTER_KEYS.get(str(key).lower())
        if target is None or value is None or value == "":
            continue  # other tools' fields (tags, layout) say nothing about the article
        if isinstance(value, (date, datetime)):
            value = value.isoformat()
        if not isinstance(value, (str, int)):
            raise IngestError(source.name, f"front matter field {key!r} must be text, not {type(value).__name__}")
        values[target] = squash(str(value))
    try:
        if "published" in values:
            values["published"] = parse_date(values["published"])
        if "kind" in values:
            values["kind"] = Kind.from_str(values["kind"]).value
    except ValueError as exc:
        raise IngestError(source.name, f"front matter: {exc}") from None
    return source.text[match.end():], Metadata(**values)


def _plain(markdown: str) -> str:
    for pattern, replacement in _MD_INLINE:
        markdown = pattern.sub(replacement, markdown)
    return markdown


def _markdown_text(source: RawSource) -> tuple[str, Metadata]:
    body, metadata = _front_matter(source)
    if metadata.title:
        metadata = replace(metadata, title=_plain(metadata.title))
    lines = []
    for line in body.splitlines():
        if _MD_DROP_LINE.match(line):
            lines.append("")
            continue
        while (stripped := _MD_LINE_MARKS.sub("", line, count=1)) != line:
            line = stripped
        lines.append(re.sub(r"\s+#+\s*$", "", line))
    return _plain("\n".join(lines)), metadata




def source_text(source: RawSource) -> tuple[str, Metadata]:
    """The source's words, one block to a paragraph, and the metadata it carries."""
    if source.kind is SourceKind.HTML:
        return _html_text(source)
    if source.kind is SourceKind.MARKDOWN:
        return _markdown_text(source)
    return source.text, Metadata()
