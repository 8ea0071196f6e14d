"""storybot's surfaces: the command line, the REPL, the Discord bot and the audit log."""
