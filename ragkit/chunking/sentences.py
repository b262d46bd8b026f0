"""``sentences``: whole sentences packed into chunks of at most ``size`` characters.

The sentence splitter is a small regex, not a model, and it is documented in
:func:`split_sentences` so that its mistakes are predictable.
"""

from __future__ import annotations

import re

from pydantic import Field

from ragkit.chunking.base import Chunker
from ragkit.chunking.boundaries import char_spans, first_non_ws, last_non_ws_end
from ragkit.registry import CHUNKERS, ComponentConfig

# A sentence may end at terminal punctuation (plus closing quotes/brackets) before
# whitespace, and always ends at a newline.
_BOUNDARY = re.compile(r"[.!?…]+[\"')\]}”’»]*(?=\s)|\n")
# Words that end with a period without ending the sentence. "etc" is left out on
# purpose: it ends sentences more often than not.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt vs cf al fig figs eq eqs approx ca resp dept est inc ltd co corp vol pp".split()
)
_INITIALS = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]")  # "J", "e.g", "U.S", "i.e"
_OPENERS = "\"'([{“‘«"
_CLOSERS = "\"')]}”’»"


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at ``dot`` closes an abbreviation or an initial ("Dr.", "e.g.", "J.")."""
    ws = dot - 1
    while ws >= 0 and not text[ws].isspace():
        ws -= 1
    word = text[ws + 1 : dot].lstrip(_OPENERS).lower()
    return word in ABBREVIATIONS or (len(word) < 8 and _INITIALS.fullmatch(word) is not None)


def _ends_sentence(text: str, m: re.Match[str]) -> bool:
    punct = m.group()
    if punct == "\n":
        return True
    nxt = first_non_ws(text, m.end(), len(text))
    if nxt < len(text) and text[nxt].islower():  # "approx. five", "etc. and": the sentence goes on
        return False
    return not (punct.rstrip(_CLOSERS) == "." and _is_abbreviation(text, m.start()))


def split_sentences(text: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[lo:hi]`` (absolute offsets, no surrounding whitespace).

    Rules, in order:

    * a newline always ends a sentence (so do paragraph breaks, headings and list items);
    * ``.``, ``!``, ``?`` or ``…`` (repeats allowed, then optional closing quotes or
      brackets) followed by whitespace ends a sentence, unless the next word starts
      with a lowercase letter;
    * a single ``.`` does not end a sentence after an abbreviation in
      :data:`ABBREVIATIONS` ("Dr.", "vs.", "et al.") or after initials ("J.", "e.g.",
      "i.e.", "U.S.");
    * a period inside a token never ends a sentence ("3.14", "v1.2", "example.com").

    Every non-whitespace character is in exactly one sentence.

    Example:
        >>> t = "Dr. Smith uses v1.2, e.g. for 3.5 kg. Is it new? Yes.\\nNext line"
        >>> [t[s:e] for s, e in split_sentences(t)]
        ['Dr. Smith uses v1.2, e.g. for 3.5 kg.', 'Is it new?', 'Yes.', 'Next line']
    """
    hi = len(text) if hi is None else hi
    spans: list[tuple[int, int]] = []
    cur = lo
    for m in _BOUNDARY.finditer(text, lo, hi):
        if _ends_sentence(text, m):
            _add(text, spans, cur, m.end())
            cur = m.end()
    _add(text, spans, cur, hi)
    return spans


def _add(text: str, spans: list[tuple[int, int]], start: int, end: int) -> None:
    end = last_non_ws_end(text, start, end)
    start = first_non_ws(text, start, end)
    if start < end:
        spans.append((start, end))


def pack(units: list[tuple[int, int]], size: int, overlap_units: int) -> list[tuple[int, int]]:
    """Greedily pack consecutive spans into spans of at most ``size`` characters.

    Each packed span after the first starts with (up to) the last ``overlap_units``
    units of the previous one, fewer when they would not fit with one new unit, and
    never all of them (so starts strictly increase). Every unit must fit in ``size``.

    Example:
        >>> pack([(0, 4), (5, 9), (10, 14)], size=9, overlap_units=1)
        [(0, 9), (5, 14)]
    """
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= size:
            j += 1
        out.append((units[i][0], units[j][1]))
        if j + 1 == len(units):
            break
        i = max(j + 1 - overlap_units, i + 1)
        while units[j + 1][1] - units[i][0] > size:
            i += 1
    return out


@CHUNKERS.register("sentences")
class SentenceChunker(Chunker):
    """Packs whole sentences (see :func:`split_sentences`) into chunks of at most ``size`` characters.

    A sentence longer than ``size`` is split like the ``chars`` chunker does (no
    overlap between its pieces); its pieces are then packed like sentences.

    Args:
        size: the most characters in a chunk.
        overlap_sentences: how many sentences at the end of a chunk the next chunk
            repeats (fewer when they would not fit).

    Example:
        >>> from ragkit.data.types import Document
        >>> chunker = SentenceChunker(size=30)
        >>> [c.text for c in chunker.chunk(Document("d", "One. Two is here. Three is longer."))]
        ['One. Two is here.', 'Three is longer.']
    """

    class Config(ComponentConfig):
        size: int = Field(800, gt=0, description="most characters in a chunk")
        overlap_sentences: int = Field(0, ge=0, description="sentences repeated from the previous chunk")

    def units(self, text: str) -> list[tuple[int, int]]:
        """The sentences of ``text``, overlong ones split into pieces of at most ``size``."""
        size = self.config.size
        out: list[tuple[int, int]] = []
        for s, e in split_sentences(text):
            out.extend([(s, e)] if e - s <= size else char_spans(text, size, 0, s, e))
        return out

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the chunks of ``text``."""
        return pack(self.units(text), self.config.size, self.config.overlap_sentences)
