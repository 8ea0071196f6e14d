"""Text views of the audit log, shared by `/audit` (rendered `for_discord`) and `storybot audit`
(rendered `for_terminal`)."""
from __future__ import annotations

from collections import Counter
from contextvars import ContextVar
from typing import Callable

from bot.inert_text import for_discord, for_terminal
from bot.store import AuditEntry, AuditStats, QuoteCheck

# Every value a member or a file could have put there (a question, a name, a reason, an
# article id or quote) goes through _shown or _short, which render it for where the view is
# read: a terminal view never carries an escape sequence, a Discord view never markup or a link.
Render = Callable[[str], str]
_render: ContextVar[Render] = ContextVar("audit_view_render", default=for_terminal)


def for_discord_view(view: Callable[..., str], *args: object) -> str:
    """`view(*args)` with every value rendered for Discord (the /audit commands)."""
    token = _render.set(for_discord)
    try:
        return view(*args)
    finally:
        _render.reset(token)


def _shown(value: object) -> str:
    return _render.get()(str(value)) if value is not None else "?"


def _short(text: str, limit: int) -> str:
    # Cut before rendering: a cut never splits an escape.
    text = " ".join(for_terminal(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return _render.get()(text) if _render.get() is not for_terminal else text


def _who(entry: AuditEntry) -> str:
    return _shown(entry.user_name or entry.user_id or "?")


def _feedback_counts(entry: AuditEntry) -> str:
    counts = Counter(f.kind for f in entry.feedback)
    return f"+{counts['helpful']} -{counts['not_helpful']} reports {counts['report']}"


def entry_line(entry: AuditEntry) -> str:
    outcome = "no answer" if entry.abstained else f"{len(entry.quotes)} quotes"
    if entry.status == "uncertain":
        outcome += ", uncertain"
    return (
        f"#{entry.id} {entry.created_at[:19]} {_who(entry)} in {_shown(entry.channel_id)} [{_shown(entry.mode)}] "
        f"{outcome}, {_feedback_counts(entry)}: {_short(entry.question, 80)}"
    )


def entries_text(entries: list[AuditEntry], empty: str = "Nothing recorded yet.") -> str:
    return "\n".join(entry_line(e) for e in entries) or empty


def entry_text(entry: AuditEntry) -> str:
    lines = [
        f"Answer #{entry.id} at {entry.created_at}",
        f"asked by {_who(entry)} (user {_shown(entry.user_id)}) in guild {_shown(entry.guild_id or '-')}, channel {_shown(entry.channel_id)}",
        f"question: {_shown(entry.question)}",
        f"mode {_shown(entry.mode)}, model {_shown(entry.model or 'none')}, corpus {_shown(entry.corpus_version)}, {entry.latency_ms:.1f} ms",
        f"status: {_shown(entry.status)}" + (f" ({_shown(entry.reason)})" if entry.reason else "") + f", from {_shown(entry.source)}"
        + (f" on message {_shown(entry.message_id)} by user {_shown(entry.message_author_id)}" if entry.message_id else ""),
        "abstained: the articles did not cover it" if entry.abstained else f"{len(entry.quotes)} quotes:",
    ]
    for q in entry.quotes:
        lines.append(f"  [{q.rank}] {_shown(q.doc_id)}[{q.start}:{q.end}] score {q.score:.3f} sha256 {_shown(q.text_sha256[:12])}")
        lines.append(f"      {_short(q.text, 300)}")
    for f in entry.feedback:
        reason = f": {_short(f.reason, 200)}" if f.reason else ""
        lines.append(f"  {_shown(f.kind)} by {_shown(f.user_name or f.user_id or '?')} at {f.created_at[:19]}{reason}")
    return "\n".join(lines)


def reported_text(entries: list[AuditEntry]) -> str:
    if not entries:
        return "No reports."
    lines = []
    for entry in entries:
        lines.append(entry_line(entry))
        for f in entry.feedback:
            if f.kind == "report":
                lines.append(f"  reported by {_shown(f.user_name or f.user_id or '?')}: {_short(f.reason or '(no reason given)', 200)}")
    return "\n".join(lines)


def stats_text(stats: AuditStats) -> str:
    modes = ", ".join(f"{_shown(mode)} {n}" for mode, n in sorted(stats.by_mode.items())) or "none"
    asked = "\n".join(f"  {n}x {_short(q, 80)}" for q, n in stats.most_asked) or "  none yet"
    statuses = ", ".join(f"{_shown(status)} {n}" for status, n in sorted(stats.by_status.items())) or "none"
    return (
        f"questions: {stats.questions} (modes: {modes})\n"
        f"statuses: {statuses}\n"
        f"abstained: {stats.abstained} ({stats.abstention_rate:.0%})\n"
        f"feedback: {stats.helpful} helpful, {stats.not_helpful} not helpful, {stats.reports} reports\n"
        f"most asked:\n{asked}"
    )


def verify_text(entry: AuditEntry, checks: tuple[QuoteCheck, ...]) -> str:
    if not checks:
        return f"Answer #{entry.id} quoted nothing: nothing to verify."
    lines = [f"Answer #{entry.id}: {sum(c.ok for c in checks)}/{len(checks)} quotes still verbatim in today's corpus"]
    for c in checks:
        lines.append(f"  [{c.rank}] {_shown(c.doc_id)}[{c.start}:{c.end}] " + ("verbatim" if c.ok else f"CHANGED: {_shown(c.problem)}"))
    return "\n".join(lines)


def label_line(label) -> str:
    """One label (bot/store/labels.py) on one line: id, answer, verdict, who, the question."""
    which = f" (quote {label.quote_rank})" if label.quote_rank is not None else ""
    question = _short(label.question, 80) if label.question else "(question removed: it teaches nothing)"
    where = f"server {_shown(label.guild_id)}" if label.guild_id else "DM/command line"
    note = f" — note: {_short(label.note, 80)}" if label.note else ""
    who = _shown(label.user_name or label.user_id or "?")
    return (f"label {label.id}: answer #{label.answer_id} in {where}: {label.verdict_name}{which}, by {who} "
            f"at {label.created_at[:19]}: {question}{note}")


def labels_text(labels, empty: str = "No labels yet.") -> str:
    return "\n".join(label_line(x) for x in labels) or empty


def entry_with_labels_text(entry: AuditEntry, labels) -> str:
    """One answer in full, and the label a moderator gave it, if any."""
    text = entry_text(entry)
    return text + "".join(f"\n{label_line(x)}" for x in labels)
