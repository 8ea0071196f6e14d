"""Chat's slang and filler: words members type around a question that say nothing about it.

One list, kept here, read by the tokenizer (they are stopwords: BM25 and the name check skip
them) and by the reasons (never named as what the articles lack). Function words come from
scikit-learn's English stopword list (retrieval/reason_words.py); these are the words of chat
that list lacks. Add a word when a reason or a miss shows one: "ngl", "bro", "guy" each came
from a member's question that got "The articles never mention ngl."
"""
from __future__ import annotations

CHAT_WORDS = frozenset(
    """lol lmao lmfao rofl haha hahaha pls plz ppl yo u ur idk tbh imo imho btw rn bc cuz coz
    gonna wanna gotta thx omg vs ngl fr frfr smh istg iirc afaik fyi tho bro bruh bros dude
    dudes guy guys fam mate yall ya ye yeah yep yup nah nope hmm hmmm um umm uh ah oh ok okay
    okey kk ty tysm lemme gimme dunno kinda sorta literally basically honestly seriously wtf
    wth ffs jk lowkey highkey""".split()
)

__all__ = ["CHAT_WORDS"]
