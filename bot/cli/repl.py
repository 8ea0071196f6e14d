"""The interactive loop: line editing and history, sources, a JSON toggle, a clean exit."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, TextIO

from retrieval.answer import Answer, answer
from retrieval.errors import BadQuestion
from retrieval.index import Index

from bot.cli import formatting
from bot.inert_text import json_line

HELP = """Type a question about the story and press Enter. Answers are quotes from the articles, never generated text.
Each answer starts with its status: Answered; Uncertain (the nearest passages, and what the articles don't say);
or Not covered (nothing in the articles is related, or the message is not a question about the story).
  :sources   list the articles quoted from
  :json      switch JSON output on or off
  :help      this text
  :quit      leave (Ctrl-D and Ctrl-C also leave)"""


def _enable_history(history: Path | None) -> Callable[[], None]:
    """Arrow keys and a history file where readline exists; the returned function saves it."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return lambda: None
    if history is None:
        return lambda: None
    try:
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
    except OSError:
        return lambda: None
    readline.set_history_length(1000)

    def save() -> None:
        try:
            readline.write_history_file(history)
        except OSError:
            pass  # history is a convenience; failing to save it must not end the session badly

    return save


def run_repl(
    index: Index,
    *,
    history: Path | None = None,
    record: Callable[[Answer], object] = lambda _: None,
    read: Callable[[str], str] = input,
    out: TextIO | None = None,
) -> int:
    import sys

    out = out or sys.stdout
    save_history = _enable_history(history) if read is input else (lambda: None)
    as_json = False
    print(f"storybot: {len(index.corpus.articles)} articles, mode {index.mode}. :help for commands.", file=out)
    try:
        while True:
            try:
                line = read("? ").strip()
            except (EOFError, KeyboardInterrupt):
                print(file=out)
                return 0
            if not line:
                continue
            if line in (":quit", ":q", ":exit"):
                return 0
            if line == ":help":
                print(HELP, file=out)
            elif line == ":sources":
                print(formatting.sources_text(index.corpus), file=out)
            elif line == ":json":
                as_json = not as_json
                print(f"JSON output {'on' if as_json else 'off'}", file=out)
            else:
                try:
                    result = answer(index, line)
                except BadQuestion as exc:
                    print(f"storybot: {exc}", file=out)
                    continue
                record(result)
                print(json_line(result.to_json()) if as_json else formatting.answer_text(result), file=out)
    finally:
        save_history()
