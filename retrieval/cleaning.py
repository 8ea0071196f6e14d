"""Turn an article as saved from a web page or PDF into its headline and whole paragraphs.

The rules never change a word: they drop lines that are not the story (captions, credits,
"Read more", link lists, bylines, datelines, sidebars) and rejoin what copying broke apart
(hard-wrapped lines, quotations split over several lines). Whitespace is the only thing
rewritten, which is what `provenance_holds` checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_WS = re.compile(r"\s+")

# Everything from one of these lines on is site furniture (related links, comment boxes,
# the LBC sidebar of unrelated headlines), never the story.
_CUT_MARKERS = re.compile(
    r"^(More Latest News|See more More Latest News|On the same subject|Related (articles|stories)"
    r"|Got something to add\?.*|Show comments|Most (read|popular)|Recommended)$",
    re.IGNORECASE,
)

# Whole paragraphs that are page furniture. Matched against the unwrapped paragraph.
_BOILERPLATE = [
    r"read more(:.*)?",
    # Links to other stories between paragraphs: "Read: ...", "Read also: ...", "Watch: ...".
    r"(read|read also|read next|watch|listen|see also|related|more on this|more on this story)\s*:.*",
    r"advertisement",
    r"show comments",
    r"i subscribe",
    r"subscribe( now)?",
    r"receive all .* in your mailbox",
    r"follow all .* application",
    r"text by: .*",
    r"\d+ min( read)?",
    r"related article: .*",
    r"\W*also read: .*",
    r"(https?://\S+\s*)+",
    r"[•·▪]\s*\S.*",
    r"share( this)?( article)?",
    r"(photo|picture|image|photograph|credit|photo credit|image credit|caption)s?\s*: .*",
    r"\(?(photo|picture|image)s? by .*",
    # Datelines and times such as "25 February 2021, 13:52" or "10:15 PM".
    r"\d{1,2} [A-Z][a-z]+ \d{4}(, \d{1,2}:\d{2})?",
    r"[A-Z][a-z]+ \d{1,2}, \d{4}",
    r"\d{1,2}:\d{2}( ?[AP]M)?",
    # Bylines: "By Megan White".
    r"by( [A-Z][\w'’.-]+){1,4}",
]
_BOILERPLATE_RE = re.compile("^(?:" + "|".join(_BOILERPLATE) + r")$", re.IGNORECASE)

# Photo credits that end a caption line: "... / Getty Images", "(AP Photo/Rick Scuteri)".
_CREDIT_RE = re.compile(
    r"(©|Picture: \w+\.?$|\(\w[\w ]*/\w*\)$|/ YouTube$"
    r"|(?:/|\bvia|\bPhoto:.*)\s*(?:Getty Images|AFP|Reuters|EPA|AP|AP Photo|Shutterstock|Alamy|TASS|Sputnik|PA|PA Images|Bloomberg)\)?\.?$)"
)

# A byline on its own line, with the writer's role or outlet after it ("By Megan White,
# Evening Standard"); not a sentence, so it never ends like one ("By Friday, Amnesty had
# withdrawn it." is story text). Case matters: "By" and capitalised names.
_BYLINE_RE = re.compile(r"^By(?: [A-Z][\w'’.-]+){1,4}(?:(?:,| and| \|| [-–—]) .{0,60})?(?<![.!?\"”’])$")

# A dateline before the first words of a wire story: "Moscow, 25 February 2021 (Reuters) -",
# "MOSCOW (AFP) —". Dropped from the paragraph's start (what follows is still one stretch of
# the raw file), or with its line when it stands alone.
_DATELINE_RE = re.compile(
    r"^[A-Z][\w.'’ -]{1,40}?(?:, [\w ,.]{3,30}?)? \((?:Reuters|AFP|AP|RFI|Interfax|TASS|dpa|Bloomberg|[A-Z]{2,6})\)\s*[-–—]+\s*"
)

# A file pasted with one paragraph a line and no blank line between: in a block of at least
# LINE_LAYOUT_MIN_LINES lines, the lines of more than LINE_LAYOUT_WORDS words (not a
# headline, a byline, a credit) mostly (LINE_LAYOUT_SHARE) end a sentence. A hard-wrapped
# paragraph's long lines end one only by chance: at most a third in any block of the seed
# articles and test pages, none in most. A wrapped line taken for a paragraph is joined to
# the next anyway, as a sentence copied in pieces (clean()).
LINE_LAYOUT_MIN_LINES = 3
LINE_LAYOUT_WORDS = 8
LINE_LAYOUT_SHARE = 0.6

# A paragraph ends where a sentence does, or on a closing quotation mark (a quote that ends
# without a full stop, as in "... release’").
_TERMINAL_RE = re.compile(r"([.!?…][\"'”’)\]]*|\S[\"”’])$")

# A short line with no end punctuation between finished paragraphs is a heading or a
# byline ("The previous Mandela", "Daniel Vallot"): not a sentence anyone would quote.
_HEADING_MAX_WORDS = 6


@dataclass(frozen=True)
class CleanedArticle:
    headline: str
    paragraphs: tuple[str, ...]
    # What stood after a sidebar marker: other stories' headlines and captions. Not the story,
    # and so good evidence of what a question is about when it is not the story.
    sidebar: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True)
class _Block:
    lines: tuple[str, ...]
    blank_lines_before: int


def squash(text: str) -> str:
    """Collapse every run of whitespace (non-breaking spaces too) to one space."""
    return _WS.sub(" ", text).strip()


def without_whitespace(text: str) -> str:
    return _WS.sub("", text)


def provenance_holds(paragraph: str, raw: str) -> bool:
    """True when the paragraph's words stand, in order and unchanged, in the raw file."""
    return without_whitespace(paragraph) in without_whitespace(raw)


def _blocks(raw: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: list[str] = []
    blanks = 0
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            current.append(line)
            continue
        if current:
            blocks.extend(_laid_out(tuple(current), blanks))
            current, blanks = [], 0
        blanks += 1
    if current:
        blocks.extend(_laid_out(tuple(current), blanks))
    return blocks


def is_line_layout(lines: tuple[str, ...]) -> bool:
    """Is this block one paragraph a line (a paste without blank lines), not hard-wrapped text?"""
    if len(lines) < LINE_LAYOUT_MIN_LINES:
        return False
    long = [squash(line) for line in lines if len(line.split()) > LINE_LAYOUT_WORDS]
    return len(long) >= 2 and sum(map(is_terminal, long)) >= LINE_LAYOUT_SHARE * len(long)


def _laid_out(lines: tuple[str, ...], blanks: int) -> list[_Block]:
    """The block, or in a one-paragraph-a-line layout each line a block of its own (the
    lines after the first as if one blank line stood before each)."""
    if not is_line_layout(lines):
        return [_Block(lines, blanks)]
    return [_Block((line,), blanks if n == 0 else 1) for n, line in enumerate(lines)]


def paragraph_blocks(text: str) -> list[str]:
    """The text's blocks as clean() reads them, each unwrapped: the first is the headline."""
    return [_unwrap(block.lines) for block in _blocks(text)]


def _unwrap(lines: tuple[str, ...]) -> str:
    text = ""
    for line in (line.strip() for line in lines):
        if text.endswith("-") and line[:1].islower():
            text += line  # a word hyphenated at the line's end ("anti-" / "immigrant")
        else:
            text = f"{text} {line}" if text else line
    return squash(text)


def _headline(lines: tuple[str, ...]) -> str:
    # In a PDF copy a new text box (the photo caption under the headline) starts indented.
    kept = [lines[0]]
    for line in lines[1:]:
        if line[:1].isspace():
            break
        kept.append(line)
    return _unwrap(tuple(kept))


# A caption with its repeat is two or three lines; comparing every pair of a long block's
# lines would be quadratic (a 1 MB hard-wrapped article took 90 s).
_CAPTION_MAX_LINES = 6


def _is_caption_block(lines: tuple[str, ...]) -> bool:
    # Web copies repeat a caption on the next line with its credit appended.
    if not 1 < len(lines) <= _CAPTION_MAX_LINES:
        return False
    stripped = [squash(line) for line in lines]
    return any(
        later.startswith(earlier) for i, earlier in enumerate(stripped) for later in stripped[i + 1 :]
    )


def is_terminal(paragraph: str) -> bool:
    return bool(_TERMINAL_RE.search(paragraph))


def _is_heading(text: str, previous: str | None) -> bool:
    ends_open = text.endswith((",", ":", ";", "-", "\"", "“", "‘"))
    return (
        len(text.split()) <= _HEADING_MAX_WORDS
        and not is_terminal(text)
        and not ends_open
        and (previous is None or is_terminal(previous))
    )


def clean(raw: str) -> CleanedArticle:
    """Split a raw article into its headline (the first block) and its own paragraphs."""
    blocks = _blocks(raw)
    if not blocks:
        return CleanedArticle("", ())
    headline = _headline(blocks[0].lines)
    captions: list[str] = []
    paragraphs: list[str] = []
    joinable = False  # may the next piece continue the last paragraph?
    for number, block in enumerate(blocks[1:], 1):
        first = squash(block.lines[0])
        if _CUT_MARKERS.match(first):
            sidebar = tuple(_unwrap(b.lines) for b in blocks[number + 1 :] if not _CUT_MARKERS.match(squash(b.lines[0])))
            return CleanedArticle(headline, tuple(paragraphs), sidebar)
        if _is_caption_block(block.lines):
            captions.extend(squash(line) for line in block.lines)
            joinable = False
            continue
        text = _DATELINE_RE.sub("", _unwrap(block.lines), count=1)
        if (
            not text
            or _BOILERPLATE_RE.match(text)
            or _BYLINE_RE.match(text)
            or _CREDIT_RE.search(text)
            or (captions and text.startswith(tuple(captions)))
        ):
            # Whatever stood on either side of dropped furniture was not one sentence.
            joinable = False
            continue
        previous = paragraphs[-1] if paragraphs else None
        if joinable and block.blank_lines_before == 1:
            # A quotation or sentence copied in pieces, one blank line apart.
            paragraphs[-1] = f"{previous} {text}"
        elif _is_heading(text, previous):
            continue
        else:
            paragraphs.append(text)
        joinable = not is_terminal(paragraphs[-1])
    return CleanedArticle(headline, tuple(paragraphs))
