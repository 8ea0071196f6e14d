"""Specific errors of the answer engine. Each names the bad value; the edges turn them into messages."""
from __future__ import annotations

from retrieval.limits import shorten_error


class StorybotError(Exception):
    """Base of every error the engine raises on purpose."""


class BadQuestion(StorybotError, ValueError):
    """The question cannot be asked as it is (empty, or too long)."""


class MalformedArticle(StorybotError, ValueError):
    """A file the operator edits (an article, hidden.yaml, a cache) is not what its format
    promises; names the file and, when known, the line."""

    def __init__(self, path: object, problem: str, line: int | None = None) -> None:
        problem = shorten_error(problem)  # a value quoted from a file may be any length
        super().__init__(f"{path}, line {line}: {problem}" if line else f"{path}: {problem}")
        self.path = path
        self.problem = problem
        self.line = line

    @property
    def where(self) -> str:
        """The problem with its line, for lists that already name the file."""
        return f"line {self.line}: {self.problem}" if self.line else self.problem


class UnsafeRawPath(MalformedArticle):
    """An article's `raw` field points outside the corpus's raw/ folder."""


class CorpusNotFound(StorybotError, FileNotFoundError):
    """The corpus folder is missing or holds no article."""


class ModelUnavailable(StorybotError, RuntimeError):
    """The embedding model could not be loaded; callers fall back to BM25."""


class MalformedThesaurus(StorybotError, ValueError):
    """A line of the corpus's thesaurus is not a group of comma-separated terms."""

    def __init__(self, path: object, line: int, problem: str) -> None:
        problem = shorten_error(problem)
        super().__init__(f"{path}, line {line}: {problem}" if line else f"{path}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem
