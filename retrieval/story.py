"""What a corpus says about its own story: `story.yaml` beside the articles.

Everything that is about one story rather than about answering from articles lives here, so
a corpus for another story needs no code: the words the /ask command and /help describe it
with, the example questions the request reasons suggest, the year a month named alone falls
in, and the story's events (the words members use for each and the month it happened in),
which confine a question to its month ("what did Bryant say when the status was restored")
and show a premise the articles contradict ("why was it stripped in May?").

A corpus without `story.yaml` is a story of its articles, described as such, with no events;
`storybot corpus init` writes one to fill in.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from retrieval.errors import MalformedArticle, StorybotError
from retrieval.limits import MAX_LIST_FILE_BYTES
from retrieval.yaml_text import load_yaml

FILE_NAME = "story.yaml"
# Discord refuses a slash command whose description is longer.
MAX_DESCRIPTION_CHARS = 100
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class StoryEvent:
    """An event of the story: the month it happened in, and the words members use for it."""

    name: str
    month: str  # YYYY-MM
    pattern: re.Pattern[str]  # searched in the question, lower case

    @property
    def month_name(self) -> str:
        """"February 2021"."""
        year, month = self.month.split("-")
        return f"{calendar.month_name[int(month)]} {year}"


@dataclass(frozen=True)
class Story:
    # What the story is, after "questions about ..." ("the articles in this corpus").
    about: str = "the articles in this corpus"
    # The /ask command's description (Discord shows at most 100 characters).
    ask_description: str = "Ask about the story these articles tell; get quotes from them"
    # /help's first lines, after "storybot answers questions about one story: ".
    summary: str = "the one its articles tell."
    # Questions the request reasons suggest instead of a chat, a poem, an opinion.
    example: str = "what happened?"
    example_opinion: str = "what did critics say?"
    # A month named without a year is the last such month before this date.
    dates_before: date | None = None
    events: tuple[StoryEvent, ...] = ()

    def event_named(self, question: str) -> StoryEvent | None:
        """The event a question names; the first named wins ("restored after being stripped"
        is about the restoration)."""
        folded = question.lower()
        named = [(m.start(), n) for n, event in enumerate(self.events) for m in [event.pattern.search(folded)] if m]
        return self.events[min(named)[1]] if named else None


def _text(fields: dict, key: str, path: Path, default: str, limit: int | None = None) -> str:
    value = fields.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise MalformedArticle(path, f"{key!r} must be text")
    value = " ".join(value.split())
    if limit is not None and len(value) > limit:
        raise MalformedArticle(path, f"{key!r} has {len(value)} characters; Discord allows {limit}")
    return value


def _event(entry: object, number: int, path: Path) -> StoryEvent:
    if not isinstance(entry, dict) or not {"name", "month", "words"} <= set(entry):
        raise MalformedArticle(path, f"event {number} needs a name, a month (YYYY-MM) and its words (a list)")
    month = str(entry["month"])
    if not _MONTH.match(month):
        raise MalformedArticle(path, f"event {number} ({entry['name']}): month {month!r} is not YYYY-MM")
    terms = entry["words"]
    if not isinstance(terms, list) or not terms or not all(isinstance(t, str) and t.strip() for t in terms):
        raise MalformedArticle(path, f"event {number} ({entry['name']}): 'words' must be a list of words or patterns")
    try:
        pattern = re.compile(r"\b(" + "|".join(t.strip().lower() for t in terms) + r")\b")
    except re.error as exc:
        raise MalformedArticle(path, f"event {number} ({entry['name']}): a word is not a valid pattern ({exc})") from None
    return StoryEvent(str(entry["name"]), month, pattern)


def parse_story(text: str, path: Path | str = FILE_NAME) -> Story:
    path = Path(path)
    fields = load_yaml(text, path) or {}
    if not isinstance(fields, dict):
        raise MalformedArticle(path, "must be a mapping of fields (about: ..., events: ...)")
    default = Story()
    events = fields.get("events") or []
    if not isinstance(events, list):
        raise MalformedArticle(path, "'events' must be a list")
    before = fields.get("dates_before")
    if before is not None and not isinstance(before, date):
        raise MalformedArticle(path, f"'dates_before' must be a date (YYYY-MM-DD), not {before!r}")
    return Story(
        about=_text(fields, "about", path, default.about),
        ask_description=_text(fields, "ask_description", path, default.ask_description, MAX_DESCRIPTION_CHARS),
        summary=_text(fields, "summary", path, default.summary),
        example=_text(fields, "example", path, default.example),
        example_opinion=_text(fields, "example_opinion", path, default.example_opinion),
        dates_before=before,
        events=tuple(_event(entry, n, path) for n, entry in enumerate(events, 1)),
    )


def load_story(folder: Path | str) -> Story:
    """The corpus's story.yaml, or the story of its articles when it has none."""
    path = Path(folder) / FILE_NAME
    if not path.is_file():
        return Story()
    if path.stat().st_size > MAX_LIST_FILE_BYTES:
        raise MalformedArticle(path, f"larger than {MAX_LIST_FILE_BYTES:,} bytes")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedArticle(path, "not UTF-8 text") from None
    return parse_story(text, path)


def story_template(about: str) -> str:
    """The story.yaml `storybot corpus init` writes: the operator's words, the rest to fill in."""
    about = " ".join(about.split())
    quoted = about.replace('"', "'")
    description = f"Ask about {about}; get quotes from the articles"
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = "Ask about the story; get quotes from the articles"
    return f"""\
# What this corpus's story is (README, "Another story"). Edited by hand; `storybot corpus check`
# reads it, and a running bot reloads when it changes.
about: "{quoted}"
ask_description: "{description.replace('"', "'")}"
summary: "{quoted}."
# Suggested to members who chat or ask for a poem instead of a question.
example: "what happened?"
example_opinion: "what did critics say?"
# A month named without a year is the last such month before this date (YYYY-MM-DD).
# dates_before: 2024-01-01
# The story's events: the month each happened in and the words members use for it
# (lower case; \\w* ends a word any way). A question naming one is read as about its month.
events: []
#  - name: arrested
#    month: 2024-01
#    words: [arrest\\w*, detain\\w*]
"""


class CorpusExists(StorybotError, ValueError):
    """`corpus init` of a folder that already holds a corpus; names the folder."""


def init_corpus(folder: Path | str, about: str) -> Path:
    """Start a corpus for another story: the folder, its `raw/` and a story.yaml telling what
    the story is (to fill in: its events). Refuses a folder that already holds articles or a
    story.yaml, so nothing is overwritten. Returns the story.yaml written."""
    from retrieval.atomic_files import write_atomic

    folder = Path(folder)
    if not " ".join(about.split()):
        raise CorpusExists(f"{folder}: say what the story is (--story \"...\")")
    if (folder / FILE_NAME).exists() or any(folder.glob("*.md")):
        raise CorpusExists(f"{folder}: already a corpus (it holds articles or a {FILE_NAME}); nothing was written")
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    write_atomic(path, story_template(about).encode("utf-8"))
    parse_story(path.read_text(encoding="utf-8"), path)  # what we wrote must read back
    return path


__all__ = ["FILE_NAME", "CorpusExists", "init_corpus", "Story", "StoryEvent", "load_story", "parse_story", "story_template", "MAX_DESCRIPTION_CHARS"]
