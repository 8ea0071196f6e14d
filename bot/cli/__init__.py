"""The command line: `storybot` (and `python -m bot`), its subcommands and the REPL."""
from bot.cli.main import main

__all__ = ["main"]
