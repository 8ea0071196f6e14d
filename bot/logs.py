"""Logging, set up once at the edge: time, level and logger name on every line (discord.py's own
`setup_logging`, coloured on a terminal), and no warnings about voice, which storybot never uses."""
from __future__ import annotations

import logging

# Libraries that say too much at INFO for an operator reading the bot's log.
NOISY = ("sentence_transformers", "transformers", "httpx", "huggingface_hub", "discord", "trafilatura", "htmldate")


def quiet_voice() -> None:
    """discord.py warns when a client is made without PyNaCl or davey: packages for voice, which
    storybot does not use. The warning is one-shot, guarded by these class flags."""
    import discord

    for flag in ("warn_nacl", "warn_dave"):
        if hasattr(discord.VoiceClient, flag):
            setattr(discord.VoiceClient, flag, False)


# discord.py's own plain format, for when stderr is not a terminal: its colour formatter is
# also chosen inside containers (it treats Docker as a terminal), which puts escape codes in files.
PLAIN = logging.Formatter("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")


def configure(level: str, *, bot: bool = True) -> None:
    """`bot=False` (a command that answers and exits): plain lines, without importing discord.py
    (half a second of a one-question `storybot ask`)."""
    import sys

    number = logging.getLevelName(level or "INFO")
    number = number if isinstance(number, int) else logging.INFO
    on_terminal = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    # setup_logging adds a handler each call; like basicConfig(force=True), replace what was
    # there, so a second configuration (in-process runs of the CLI) never writes to a closed stream.
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    if bot:
        import discord

        discord.utils.setup_logging(level=number, root=True, formatter=None if on_terminal else PLAIN)
        quiet_voice()
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(PLAIN)
        root.addHandler(handler)
        root.setLevel(number)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, number))
