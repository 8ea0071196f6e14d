"""Reading YAML an operator wrote, with every failure named by its line.

PyYAML raises `YAMLError` (with a line) for bad syntax, but a value that parses and then
fails to convert (`published: 2021-02-30`, `title: !!int abc`) raises a bare ValueError or
TypeError with no line at all. Those are found again by constructing the document's values
one by one, so the message can say where the bad one stands.
"""
from __future__ import annotations

import yaml

from retrieval.errors import MalformedArticle


def _failing_line(text: str) -> int | None:
    """The 1-based line of the first value that fails to convert, or None."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    pending = [root] if root is not None else []
    while pending:
        node = pending.pop(0)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                pending.extend((key, value))
            continue
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
            continue
        try:
            yaml.SafeLoader("").construct_object(node, deep=True)
        except Exception:  # noqa: BLE001 - any failure of this value is the one we look for
            return node.start_mark.line + 1
    return None


def load_yaml(text: str, path: object, *, first_line: int = 1, what: str = "the file") -> object:
    """The YAML document in `text`; MalformedArticle naming `path` and the line when it
    cannot be read. `first_line` is the file line `text` starts on (front matter starts on 2)."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark is not None else None
        raise MalformedArticle(path, f"{what} is not valid YAML: {exc.problem or exc.context}", line) from None
    except yaml.YAMLError as exc:
        raise MalformedArticle(path, f"{what} is not valid YAML ({exc.__class__.__name__})") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        found = _failing_line(text)
        line = found + first_line - 1 if found else None
        raise MalformedArticle(path, f"{what}: a value cannot be read ({str(exc)[:200]})", line) from None
