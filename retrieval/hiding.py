"""Passages moderators hid: `hidden.yaml` in the corpus folder, never quoted again.

The list lives beside the articles because it decides what may be quoted, exactly as the
articles do: it is part of the corpus version, so a change re-indexes like an edited article.
Who hid what and why is also recorded in the audit log.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from retrieval.articles import Corpus
from retrieval.atomic_files import write_atomic
from retrieval.corpus_files import corpus_lock
from retrieval.errors import MalformedArticle
from retrieval.index import HiddenSpan
from retrieval.limits import MAX_LIST_FILE_BYTES
from retrieval.yaml_text import load_yaml

HIDDEN_FILE = "hidden.yaml"


@dataclass(frozen=True)
class HiddenEntry:
    doc_id: str
    start: int
    end: int
    reason: str
    by: str | None = None
    at: str | None = None

    @property
    def span(self) -> HiddenSpan:
        return HiddenSpan(self.doc_id, self.start, self.end)


class BadSpan(MalformedArticle):
    """A span that is not a span of a curated article."""


class MalformedHidden(MalformedArticle):
    """hidden.yaml is not a list of hidden spans; names the line of the bad entry."""


_REQUIRED = {"doc_id": str, "start": int, "end": int, "reason": str}
_OPTIONAL = {"by": str, "at": str}


def _item_lines(text: str) -> list[int]:
    """The file line each entry of the top-level list starts on."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    return [item.start_mark.line + 1 for item in root.value] if isinstance(root, yaml.SequenceNode) else []


def _entry(row: object, path: Path, line: int | None) -> HiddenEntry:
    if not isinstance(row, dict):
        raise MalformedHidden(path, "each entry must be a mapping with doc_id, start, end and reason", line)
    unknown = sorted(str(k) for k in set(row) - {f.name for f in fields(HiddenEntry)})
    if unknown:
        raise MalformedHidden(path, f"unknown field(s) {', '.join(unknown)}", line)
    for key, kind in {**_REQUIRED, **_OPTIONAL}.items():
        value = row.get(key)
        if value is None and key in _OPTIONAL:
            continue
        # YAML's `true` is an int to Python; a quoted "0" is text: neither is an offset.
        if value is None or isinstance(value, bool) or not isinstance(value, kind):
            expected = "a whole number" if kind is int else "text"
            raise MalformedHidden(path, f"{key} must be {expected}, not {value!r}", line)
    if not 0 <= row["start"] < row["end"]:
        raise MalformedHidden(path, f"span {row['start']}:{row['end']} is not a span (0 <= start < end)", line)
    return HiddenEntry(**row)


def parse_hidden(text: str, path: Path | str = HIDDEN_FILE) -> tuple[HiddenEntry, ...]:
    """The entries of hidden.yaml's text; MalformedHidden naming the line of a bad one."""
    path = Path(path)
    rows = load_yaml(text, path)
    if rows is None:
        return ()
    if not isinstance(rows, list):
        raise MalformedHidden(path, "must be a list of hidden spans (- doc_id: ..., start: ..., end: ..., reason: ...)", 1)
    lines = _item_lines(text)
    return tuple(_entry(row, path, lines[n] if n < len(lines) else None) for n, row in enumerate(rows))


def load_hidden(folder: Path | str) -> tuple[HiddenEntry, ...]:
    path = Path(folder) / HIDDEN_FILE
    if not path.exists():
        return ()
    try:
        if path.stat().st_size > MAX_LIST_FILE_BYTES:
            raise MalformedHidden(path, f"larger than {MAX_LIST_FILE_BYTES:,} bytes")
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedHidden(path, "not UTF-8 text", data.count(b"\n", 0, exc.start) + 1) from None
    except OSError as exc:
        raise MalformedHidden(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_hidden(text, path)


def hidden_problems(folder: Path | str, corpus: Corpus | None) -> list[MalformedArticle]:
    """What is wrong with hidden.yaml, for `corpus check`: unreadable, or a span that is no
    span of its article."""
    try:
        entries = load_hidden(folder)
    except MalformedArticle as exc:
        return [exc]
    if corpus is None:
        return []
    path = Path(folder) / HIDDEN_FILE
    lines = _item_lines(path.read_text(encoding="utf-8")) if entries else []
    problems: list[MalformedArticle] = []
    for n, entry in enumerate(entries):
        try:
            check_span(corpus, entry.doc_id, entry.start, entry.end)
        except BadSpan as exc:
            problems.append(MalformedHidden(path, f"{entry.doc_id}: {exc.problem}", lines[n] if n < len(lines) else None))
    return problems


def _save(folder: Path, entries: tuple[HiddenEntry, ...]) -> None:
    text = yaml.safe_dump([asdict(e) for e in entries], sort_keys=False, allow_unicode=True, width=1000)
    parse_hidden(text, folder / HIDDEN_FILE)  # what we write must read back
    write_atomic(folder / HIDDEN_FILE, text.encode("utf-8"))


def check_span(corpus: Corpus, doc_id: str, start: int, end: int) -> None:
    if type(start) is not int or type(end) is not int:
        raise BadSpan(doc_id, f"start and end must be whole numbers, not {start!r} and {end!r}")
    try:
        body = corpus.article(doc_id).body
    except KeyError:
        raise BadSpan(doc_id, "no such article in the corpus") from None
    if not (0 <= start < end <= len(body)):
        raise BadSpan(doc_id, f"span {start}:{end} is not inside the article (0:{len(body)})")


def hide(folder: Path | str, corpus: Corpus, entry: HiddenEntry) -> bool:
    """Add a hidden span; False when exactly that span was already hidden."""
    check_span(corpus, entry.doc_id, entry.start, entry.end)
    if not entry.reason.strip():
        raise BadSpan(entry.doc_id, "a reason is required to hide a passage")
    with corpus_lock(folder):
        entries = load_hidden(folder)
        if any(e.span == entry.span for e in entries):
            return False
        _save(Path(folder), entries + (entry,))
    return True


def unhide(folder: Path | str, doc_id: str, start: int, end: int) -> HiddenEntry | None:
    """Remove a hidden span; the removed entry, or None when it was not hidden."""
    target = HiddenSpan(doc_id, start, end)
    with corpus_lock(folder):
        entries = load_hidden(folder)
        kept = tuple(e for e in entries if e.span != target)
        if len(kept) == len(entries):
            return None
        _save(Path(folder), kept)
    return next(e for e in entries if e.span == target)
