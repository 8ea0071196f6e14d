"""The audit store's values: what every backend returns, and the numbers it is held to."""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from retrieval.articles import Article

VOTE_KINDS = ("helpful", "not_helpful")
FEEDBACK_KINDS = (*VOTE_KINDS, "report")
MODERATION_ACTIONS = ("hide", "unhide")
SOURCES = ("slash", "message", "cli")
MAX_REASON_CHARS = 1000
MAX_LIMIT = 100
MOST_ASKED = 5
# A report asks a moderator to read an answer; a member who files more than this in a day in one
# server is flooding the queue, not flagging mistakes. Five covers a member who reports every
# answer of a long evening's conversation (the cooldown allows one question per 10 s, but members
# ask a handful a day: dev.jsonl's sessions ran 3-6 questions).
REPORTS_PER_MEMBER_PER_DAY = 5
REPORT_WINDOW_HOURS = 24
# Answers the store cannot take yet (another process holds SQLite's write lock; PostgreSQL is
# restarting) wait in memory, in order, and are retried while the process lives. A row with its
# quotes is about 2 KB, so the bound is 2 MB; at the bench's burst of 100 simultaneous /ask it
# covers ten bursts, and at a steady 10 answers a second, a lock held for over a minute and a half.
BACKLOG_CAPACITY = 1000
BACKLOG_RETRY_SECONDS = 1.0
# On close (SIGTERM, the end of `storybot ask`), how long the backlog may still be tried before
# what is left is logged as lost: well inside the 10 s a container runtime waits after SIGTERM.
BACKLOG_FLUSH_SECONDS = 5.0
# Per-server settings (/settings). The cooldown's default is the bot-wide one of bot/settings.py
# (STORYBOT_COOLDOWN_SECONDS); past an hour a pause is a ban, which Discord's own tools do better.
MAX_COOLDOWN_SECONDS = 3600.0
# Discord's channel select menu takes at most 25 values.
MAX_PUBLIC_CHANNELS = 25
# Ids are SQLite INTEGERs and PostgreSQL BIGINTs: a number past this names no entry (and would
# overflow the driver rather than miss).
MAX_ID = 2**63 - 1


_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class AuditQuote:
    rank: int  # 1-based, in the order the answer showed them
    doc_id: str
    start: int
    end: int
    text_sha256: str
    text: str
    score: float


@dataclass(frozen=True)
class Feedback:
    id: int
    created_at: str
    kind: str
    user_id: str | None
    user_name: str | None
    reason: str | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    created_at: str  # ISO-8601, UTC
    guild_id: str | None  # None: a DM or the command line
    channel_id: str | None
    user_id: str | None
    user_name: str | None
    question: str
    mode: str
    abstained: bool
    corpus_version: str
    model: str | None
    latency_ms: float
    status: str  # retrieval.answer.Status's value: answered, uncertain, not_covered
    reason: str | None  # why the engine hedged or abstained, as the answer said it
    source: str  # slash, message, cli
    message_id: str | None  # the message a "Find sources" answer was about
    message_author_id: str | None
    quotes: tuple[AuditQuote, ...]
    feedback: tuple[Feedback, ...]  # oldest first


@dataclass(frozen=True)
class Moderation:
    id: int
    created_at: str
    action: str
    doc_id: str
    start: int
    end: int
    reason: str | None
    answer_id: int | None
    user_id: str | None
    user_name: str | None
    guild_id: str | None  # None: the operator's global hide (corpus/hidden.yaml)


@dataclass(frozen=True)
class GuildHide:
    """A span one server's moderators hid from that server's answers."""

    guild_id: str
    doc_id: str
    start: int
    end: int
    user_id: str | None
    user_name: str | None
    reason: str | None
    created_at: str


@dataclass(frozen=True)
class GuildSettings:
    """One server's choices. `cooldown_seconds` None: the bot-wide default."""

    public_channels: frozenset[str] = frozenset()  # answers are public there, ephemeral elsewhere
    cooldown_seconds: float | None = None
    mod_log_channel: str | None = None  # where reports are posted for the moderators
    find_sources_public: bool = False  # "Find sources" answers public (in public channels) or to the asker only

    def checked(self) -> "GuildSettings":
        """The same settings with ids as text; BadGuildSetting naming the first bad value."""
        from bot.store.errors import BadGuildSetting

        channels = frozenset(_snowflake("public_channels", c) for c in self.public_channels)
        if len(channels) > MAX_PUBLIC_CHANNELS:
            raise BadGuildSetting("public_channels", len(channels), f"at most {MAX_PUBLIC_CHANNELS} channels")
        cooldown = self.cooldown_seconds
        if cooldown is not None:
            if isinstance(cooldown, bool) or not isinstance(cooldown, (int, float)) or not (
                    0 <= cooldown <= MAX_COOLDOWN_SECONDS):
                raise BadGuildSetting("cooldown_seconds", cooldown, f"a number of seconds from 0 to {MAX_COOLDOWN_SECONDS:.0f}")
            cooldown = float(cooldown)
        log_channel = None if self.mod_log_channel is None else _snowflake("mod_log_channel", self.mod_log_channel)
        if not isinstance(self.find_sources_public, bool):
            raise BadGuildSetting("find_sources_public", self.find_sources_public, "true or false")
        return GuildSettings(channels, cooldown, log_channel, self.find_sources_public)


def _snowflake(name: str, value: object) -> str:
    from bot.store.errors import BadGuildSetting

    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**64:
        raise BadGuildSetting(name, value, "a Discord id (digits)")
    return text


@dataclass(frozen=True)
class MemberFeedback:
    answer_id: int
    id: int
    created_at: str
    kind: str
    reason: str | None


@dataclass(frozen=True)
class MemberData:
    """What the store holds about one member, in one scope (/mydata)."""

    user_id: str
    questions: tuple[AuditEntry, ...]  # asked by them, oldest first
    from_their_messages: tuple[AuditEntry, ...]  # "Find sources" on a message they wrote
    feedback: tuple[MemberFeedback, ...]  # their votes and reports
    moderation: tuple[Moderation, ...]  # their hides and unhides, as a moderator
    labels: int = 0  # answers they labelled, as a moderator (bot/store/labels.py)


@dataclass(frozen=True)
class Forgotten:
    """What forget() or delete_older_than() removed or pseudonymised."""

    questions: int  # answers whose question (and asker, or message author) were removed
    feedback: int  # votes and reports deleted
    moderation: int  # moderation records and hides whose moderator was pseudonymised
    # The bot's posts that show what was removed (bot/store/posts.py's PostToEdit), for the bot to edit.
    posts: tuple = ()


@dataclass(frozen=True)
class AuditStats:
    questions: int
    abstained: int
    abstention_rate: float  # 0.0 when nothing was asked yet
    helpful: int
    not_helpful: int
    reports: int
    by_mode: dict[str, int]
    by_status: dict[str, int]
    most_asked: list[tuple[str, int]]  # (latest wording, count), most asked first


@dataclass(frozen=True)
class QuoteCheck:
    rank: int
    doc_id: str
    start: int
    end: int
    ok: bool
    problem: str | None


class _Corpus(Protocol):
    def article(self, doc_id: str) -> "Article": ...


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def verify(entry: AuditEntry, corpus: _Corpus) -> tuple[QuoteCheck, ...]:
    """Whether the corpus still holds each quoted text at the offsets the answer cited."""
    checks = []
    for quote in entry.quotes:
        try:
            body = corpus.article(quote.doc_id).body
        except KeyError:
            problem: str | None = f"article {quote.doc_id} is no longer in the corpus"
        else:
            changed = sha256_text(body[quote.start : quote.end]) != quote.text_sha256
            problem = f"the text at {quote.doc_id}[{quote.start}:{quote.end}] has changed" if changed else None
        checks.append(QuoteCheck(quote.rank, quote.doc_id, quote.start, quote.end, problem is None, problem))
    return tuple(checks)


def as_json(entry: AuditEntry) -> dict:
    data = asdict(entry)
    data["quotes"] = list(data["quotes"])
    data["feedback"] = list(data["feedback"])
    return data


def fold(question: str | None) -> str | None:
    """The key under which repeats of a question are counted (SQL's lower() only folds ASCII)."""
    return None if question is None else " ".join(question.split()).casefold()


def clamp(limit: int) -> int:
    return max(1, min(MAX_LIMIT, int(limit)))


def text_id(value: int | str | None) -> str | None:
    # Discord snowflakes exceed what JavaScript and some JSON readers hold exactly: keep them as text.
    return None if value is None else str(value)


def storable(text: str | None) -> str | None:
    """The text with lone surrogates (invalid UTF-8 read with surrogateescape, a broken Discord
    client) as U+FFFD: neither SQLite nor PostgreSQL can hold them, and the record must not be lost."""
    return None if text is None else _SURROGATES.sub("\ufffd", text)


def trimmed(reason: str | None) -> str | None:
    return storable((reason or "").strip()[:MAX_REASON_CHARS] or None)


def now() -> str:
    # Both backends store this text: the same export on both, and ISO-8601 in UTC compares as time.
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def since(hours: float) -> str:
    from datetime import timedelta

    return (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="milliseconds")
