"""Cut-point search shared by the character-based chunkers (``chars``, ``sentences``, ``markdown``).

The main public function, :func:`char_spans`, slides a window of at most ``size``
characters over ``text[lo:hi]`` and returns the chunk spans. Where to cut and where
to start the next window are decided by the two private kernels below, with one
number, the *slack* (:func:`slack_for`, a quarter of the window), bounding how far
either decision may move away from the ideal position:

* **cut**: the end of a window is searched for in its last ``slack`` characters,
  preferring a paragraph break (a whitespace run holding two newlines), then a
  sentence end (``.``, ``!``, ``?`` or ``…``, optionally followed by closing quotes
  or brackets, then whitespace), then any whitespace. Failing that, the last
  whitespace anywhere in the window is used (a short chunk rather than a cut word);
  only a window without whitespace (a long URL, a base64 blob) is cut hard, and so
  is a window whose last whitespace is followed by an unbroken run longer than
  ``size`` (the run has to be cut anyway; cutting before it would only add a
  chunk of a few characters).
* **next start**: ``overlap`` characters before the previous end, snapped to a word
  start: forward by at most ``slack``, else backward by at most ``slack``, else
  forward to the first word start after the previous end (a smaller overlap rather
  than a chunk starting mid-word); inside an unbroken token it starts mid-word.
  When the window so started could only end by cutting the unbroken run that
  follows the previous chunk, and that run fits in a window of its own, the
  window restarts at the run, without overlap (a word is not cut to keep overlap).

So for two consecutive chunks ``p`` and ``n`` the overlap ``p.end - n.start`` is at
most ``overlap + slack``, and at least ``overlap - slack`` unless the previous chunk
is shorter than ``overlap + slack``, or no word starts within ``slack`` characters
of ``p.end - overlap``, or ``n`` is such a restart (no overlap, and no whitespace
from ``n.start`` to ``p.end - overlap - slack + size``). Spans never begin or end
with whitespace, and each one ends after the previous one.
"""

from __future__ import annotations

import re

# A whitespace run that starts right after a non-whitespace character: the candidate cut points.
_CUT = re.compile(r"(?<=\S)\s")
# A non-whitespace character right after whitespace: a word start.
_WORD_START = re.compile(r"(?<=\s)\S")
_WS_RUN = re.compile(r"\s+")
_NON_WS = re.compile(r"\S")
_WS = re.compile(r"\s")
_SENTENCE_PUNCT = ".!?…"
_CLOSERS = "\"')]}”’»"

# cut-point preference, higher is better
_PLAIN, _SENTENCE, _PARAGRAPH = 0, 1, 2


def slack_for(size: int) -> int:
    """The boundary-snapping slack for a window of ``size`` characters: ``size // 4``.

    Example:
        >>> slack_for(800)
        200
    """
    return size // 4


def first_non_ws(text: str, pos: int, hi: int) -> int:
    """Index of the first non-whitespace character in ``text[pos:hi]``, or ``hi`` if none."""
    m = _NON_WS.search(text, pos, hi)
    return m.start() if m else hi


def last_non_ws_end(text: str, lo: int, hi: int) -> int:
    """``hi`` moved back over trailing whitespace, not below ``lo``."""
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return hi


def cut_kind(text: str, cut: int, lo: int) -> int:
    """How good a cut at ``cut`` is: 2 paragraph break, 1 sentence end, 0 other whitespace.

    ``text[cut]`` is whitespace and ``text[cut - 1]`` is not; ``lo`` bounds the look-back.

    Example:
        >>> cut_kind("Done. Next", 5, 0), cut_kind("Done\\n\\nNext", 4, 0), cut_kind("a b", 1, 0)
        (1, 2, 0)
    """
    run = _WS_RUN.match(text, cut)
    if run is not None and run.group().count("\n") >= 2:
        return _PARAGRAPH
    j = cut - 1
    while j > lo and text[j] in _CLOSERS:  # 'end." Next' is a sentence end too
        j -= 1
    return _SENTENCE if text[j] in _SENTENCE_PUNCT else _PLAIN


def _find_cut(text: str, start: int, limit: int, floor: int, slack: int, size: int) -> int:
    """Where the chunk ``[start, ...)`` ends: a position in ``[floor, limit]``.

    ``text[limit]`` exists (the document goes on past the window).
    """
    region = max(limit - slack, floor)
    best, best_kind = -1, -1
    for m in _CUT.finditer(text, region, limit + 1):
        kind = cut_kind(text, m.start(), start)
        if kind >= best_kind:
            best, best_kind = m.start(), kind
    if best >= 0:
        return best
    for m in _CUT.finditer(text, floor, region):  # no whitespace near the end: last one in the window
        best = m.start()
    if best < 0:
        return limit
    # Cutting early only pays when it keeps the unbroken run that follows whole; a run
    # longer than a window is cut anyway, so a hard cut at the limit saves a tiny chunk.
    word = first_non_ws(text, best, len(text))
    run_is_long = word + size < len(text) and _WS.search(text, word, word + size + 1) is None
    return limit if run_is_long else best


def _next_start(text: str, start: int, cut: int, hi: int, overlap: int, slack: int, size: int) -> int:
    """Start of the window after the chunk ``[start, cut)``: about ``overlap`` characters before ``cut``."""
    resume = first_non_ws(text, cut, hi)  # the start with no overlap at all
    lowest = max(start + 1, cut - size + 1)  # starts strictly increase; the next window reaches past cut
    p = max(cut - overlap, lowest)
    m = _WORD_START.search(text, p, min(p + slack, resume) + 1)
    if m:
        return m.start()
    if overlap > 0:
        before = None
        for before in _WORD_START.finditer(text, max(p - slack, lowest), p):
            pass
        if before is not None:
            return before.start()
    m = _WORD_START.search(text, p, resume + 1)
    return m.start() if m else first_non_ws(text, p, hi)


def char_spans(text: str, size: int, overlap: int = 0, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Spans of at most ``size`` characters covering every non-whitespace character of ``text[lo:hi]``.

    Consecutive spans share about ``overlap`` characters (see the module docstring
    for the exact bounds). Offsets are absolute (into ``text``). Always terminates:
    every span starts after the previous one, for any ``0 <= overlap < size``.

    Args:
        text: the whole document.
        size: the most characters in a span (> 0).
        overlap: characters shared by consecutive spans, before snapping (< size).
        lo: where the region to split starts.
        hi: where it ends (default: the end of ``text``).

    Example:
        >>> char_spans("One two. Three four five.", size=12, overlap=0)
        [(0, 8), (9, 19), (20, 25)]
    """
    hi = len(text) if hi is None else hi
    end = last_non_ws_end(text, lo, hi)
    start = first_non_ws(text, lo, end)
    slack = slack_for(size)
    spans: list[tuple[int, int]] = []
    prev_end = lo
    while start < end:
        stop = _window_end(text, start, end, prev_end, size, slack)
        if start < prev_end and (stop <= prev_end or _is_hard(text, stop, end)) and text[prev_end].isspace():
            # The overlapped window reaches no whitespace past the previous chunk: restart
            # after it (no overlap) when that keeps the next unbroken run whole, and
            # always when the overlapped window would add nothing new.
            resume = first_non_ws(text, prev_end, end)
            alt = _window_end(text, resume, end, prev_end, size, slack)
            if stop <= prev_end or not _is_hard(text, alt, end):
                start, stop = resume, alt
        spans.append((start, stop))
        if stop >= end:
            break
        start, prev_end = _next_start(text, start, stop, end, overlap, slack, size), stop
    return spans


def _window_end(text: str, start: int, end: int, prev_end: int, size: int, slack: int) -> int:
    """End of the chunk starting at ``start`` (``end`` for the last one)."""
    if start + size >= end:
        return end
    cut = _find_cut(text, start, start + size, max(start + 1, prev_end + 1), slack, size)
    return last_non_ws_end(text, start, cut)


def _is_hard(text: str, stop: int, end: int) -> bool:
    """True when a chunk ending at ``stop`` cuts an unbroken run of characters."""
    return stop < end and not text[stop].isspace()
