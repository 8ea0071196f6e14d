"""Which words of a question a reason may name ("No passage speaks of “founded”.").

A reason tells the member what the articles lack, in the member's own spelling, so it must
name a word that carries what is asked. Never:

- a number ("2021"): the kind check speaks to dates and numbers;
- a function word: scikit-learn's English stopword list (ENGLISH_STOP_WORDS, 318 words from
  the Glasgow Information Retrieval Group's list), already installed with the scorer's
  dependencies; it is broader than the tokenizer's list ("never", "first", "part", "side"),
  which BM25 was tuned with and which stays as it is;
- chat's slang and filler (retrieval/chat_words.py: "ngl", "lol", "guy");
- a generic word (GENERIC_WORDS below): one that says how or how much of something is asked
  ("a particular reason", "a close call"), not what;
- a term the story's thesaurus knows, or the initials of a name the articles use ("AI" for
  Amnesty International): the articles hold its equivalent, so they do not lack it;
"""
from __future__ import annotations

from functools import lru_cache
from typing import Collection

from retrieval.chat_words import CHAT_WORDS
from retrieval.tokenize import STOPWORDS, fold, words

# Words that qualify or situate what is asked rather than name it. Each came from a reason a
# member saw ("The articles don't name a close.", "… a particular.", "… a service.", "No
# passage speaks of “row”.", "… of “year”.", "… of “old”."), or is of the same sort: the
# words "how old", "what year", "how many people" ask with, which the kind check speaks to; "row" and "deal" are British chat for a
# dispute and an affair, which the articles tell in their own words; "like" is chat's filler
# ("in like three sentences"), which a fresh set's reason named.
GENERIC_WORDS = frozenset(
    """particular specific certain exact exactly actual actually real really main general whole
    overall entire close closely kind sort type way ways stuff thing things bit lot lots matter
    point case situation issue issues deal row service services reason reasons example info
    information detail details happen happened happening stuff question questions answer
    answers time times day days year years number numbers place places people person old far
    long use used using ask asked asking add added like""".split()
)


@lru_cache(maxsize=1)
def _function_words() -> frozenset[str]:
    # The list is one literal in scikit-learn's _stop_words.py; importing it the documented way
    # imports scikit-learn (0.9 s, most of a one-question `storybot ask`), so the file is read
    # as data (literal_eval, never executed), and imported only if its layout ever changes.
    import ast
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # finds the package without running its __init__
    if spec is not None and spec.submodule_search_locations:
        source = Path(spec.submodule_search_locations[0]) / "feature_extraction" / "_stop_words.py"
        try:
            tree = ast.parse(source.read_text(encoding="utf-8"))
            [assign] = [n for n in tree.body if isinstance(n, ast.Assign)
                        and [getattr(t, "id", None) for t in n.targets] == ["ENGLISH_STOP_WORDS"]]
            call = assign.value
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "frozenset" and len(call.args) == 1:
                return frozenset(ast.literal_eval(call.args[0]))
        except (OSError, SyntaxError, ValueError):
            pass
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def never_named() -> frozenset[str]:
    """Every folded word a reason never names, whatever the story."""
    return _function_words() | STOPWORDS | CHAT_WORDS | GENERIC_WORDS


def nameable(word: str, known_terms: Collection[str] = ()) -> bool:
    """May a reason name `word` (as the member wrote it)? `known_terms`: the folded words of
    the story's thesaurus and the initials of the articles' names."""
    found = words(word)
    if not found:
        return False
    excluded = never_named()
    return (not any(w in excluded or w in known_terms or len(w) <= 1 or w.isdigit() for w in found)
            and fold(word) not in known_terms)


__all__ = ["CHAT_WORDS", "GENERIC_WORDS", "nameable", "never_named"]
