"""Every input limit, in one place, with where its number came from (README: "Limits").

Each is enforced before the work it bounds: a file's size before it is parsed, a page's
element count before trafilatura builds its tree, a question's length and word count
before it is searched.
"""
from __future__ import annotations

# The five seed articles are 4-13 KB of text and their saved pages under 400 KB; a news
# page with its scripts inlined rarely passes 2 MB. 5 MB leaves room for that and keeps
# `corpus add` within seconds (a 1 MB page is added in about a second: README, "Limits").
MAX_ARTICLE_BYTES = 5_000_000
# A real news page has a few thousand elements (the gazette test page 150, a saved LBC
# page about 3,000). 100,000 is far beyond any article and still parses in about a second;
# 10^6 `<p>` took trafilatura minutes and 1.6 GB (issue 13).
MAX_HTML_ELEMENTS = 100_000
# A paragraph: the longest of the seed articles has 539 characters. The sentence splitter
# (pysbd) grows faster than linearly with a paragraph's length (5,000 characters: 0.1 s,
# 20,000: 1.3 s, a 1 MB hard-wrapped text with no blank line: over ten minutes, issue 13).
MAX_PARAGRAPH_CHARS = 5000
# A question: 1,000 characters (the limit since the first release), and at most 40 words.
# Each word costs a thesaurus lookup, a spelling correction and, for the factoid and name
# checks, a forward pass with the word left out: 1,000 characters of story words took 1.76 s
# against 37 ms for a normal question (issue 13). The longest question of the four question
# sets has 18 words; 40 is twice that and more. Measured: README, "Limits".
MAX_QUESTION_CHARS = 1000
MAX_QUESTION_WORDS = 40
# One line of `storybot ask -`: a question and then some. A longer line is refused without
# being read whole (a 100 MB line was read into memory, issue 13).
MAX_INPUT_LINE_BYTES = 16_384
# An error shown to a user or moderator: Discord refuses messages over 2,000 characters, and
# a message needs room around the error.
MAX_ERROR_CHARS = 1500
# hidden.yaml and thesaurus.txt are hand-edited lists; a megabyte is thousands of entries.
MAX_LIST_FILE_BYTES = 1_000_000


def shorten_error(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """An error message cut to `limit` characters, the cut said, never silent."""
    if len(text) <= limit:
        return text
    return text[: limit - 30].rstrip() + f"… ({len(text):,} characters in all)"
