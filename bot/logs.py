"""Logging, set up once at the edge: time, level and logger name on every line (discord.py's own
`setup_logging`, coloured on a terminal), and no warnings about voice, which storybot never uses."""
from __future__ import annotations

import logging

import discord

# Libraries that say too much at INFO for an operator reading the bot's log.
NOISY = ("sentence_transformers", "transformers", "httpx", "huggingface_hub", "discord", "trafilatura", "htmldate")


def quiet_voice() -> None:
    """discord.py warns when a client is made without PyNaCl or davey: packages for voice, which
    storybot does not use. The warning is one-shot, guarded by these class flags."""
    for flag in ("warn_nacl", "warn_dave"):
        if hasattr(discord.VoiceClient, flag):
            setattr(discord.VoiceClient, flag, False)


def configure(level: str) -> None:
    number = logging.getLevelName(level or "INFO")
    number = number if isinstance(number, int) else logging.INFO
    discord.utils.setup_logging(level=number, root=True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, number))
    quiet_voice()
