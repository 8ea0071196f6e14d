"""storybot's benchmark suite: `python -m bench.run` (see bench/README.md).

One module per part (latency, startup, discord_load, scale, quality), each with a `run()`
returning a frozen dataclass of figures; `report` turns them into Markdown and plots.
"""
