"""``markdown``: one chunk per heading section, with the heading path kept as metadata and prefix."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import Field, model_validator

from ragkit.chunking.base import Chunker
from ragkit.chunking.boundaries import char_spans, first_non_ws, last_non_ws_end
from ragkit.chunking.chars import check_overlap
from ragkit.data.types import Chunk, Document
from ragkit.registry import CHUNKERS, ComponentConfig

# ATX heading (CommonMark): up to 3 spaces, 1-6 '#', then whitespace or the end of the line.
_HEADING = re.compile(r" {0,3}(#{1,6})(?=[ \t]|$)(.*)")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")  # "## Title ##" -> "Title"
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_LINE = re.compile(r"[^\n]*\n?")


@dataclass(frozen=True, slots=True)
class Section:
    """A heading's section: ``text[start:end]`` (stripped), from its heading line to the next split heading.

    ``heading_path`` lists the titles from the top-level heading down to this one;
    it is empty for the text before the first heading.
    """

    start: int
    end: int
    heading_path: tuple[str, ...]


def _heading(line: str, max_level: int) -> tuple[int, str] | None:
    """``(level, title)`` when ``line`` is an ATX heading of level <= ``max_level``."""
    m = _HEADING.match(line.rstrip("\r"))
    if m is None or len(m.group(1)) > max_level:
        return None
    return len(m.group(1)), _CLOSING_HASHES.sub("", m.group(2).strip()).strip()


def _closes(line: str, fence: str) -> bool:
    """True when ``line`` closes the code block opened by ``fence`` (same character, at least as long)."""
    m = _FENCE.match(line.rstrip("\r\n"))
    return m is not None and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip()


def split_sections(text: str, max_level: int = 3) -> list[Section]:
    """The sections of a markdown document, split at ATX headings of level <= ``max_level``.

    Headings inside fenced code blocks (``` or ~~~; an unclosed fence runs to the
    end) do not count; nor do deeper headings, which stay inside their section.
    Whitespace-only sections are dropped.

    Example:
        >>> t = "Intro\\n# A\\nx\\n```\\n# not a heading\\n```\\n## B\\ny"
        >>> [(t[s.start:s.end], s.heading_path) for s in split_sections(t)]  # doctest: +NORMALIZE_WHITESPACE
        [('Intro', ()), ('# A\\nx\\n```\\n# not a heading\\n```', ('A',)), ('## B\\ny', ('A', 'B'))]
    """
    starts: list[tuple[int, tuple[str, ...]]] = [(0, ())]
    stack: list[tuple[int, str]] = []
    fence = ""
    for m in _LINE.finditer(text):
        line = m.group()
        if not line:
            break
        if fence:
            fence = "" if _closes(line, fence) else fence
            continue
        opened = _FENCE.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):  # "```x```" is inline code
            fence = opened.group(1)
            continue
        head = _heading(line.rstrip("\n"), max_level)
        if head is not None:
            while stack and stack[-1][0] >= head[0]:
                stack.pop()
            stack.append(head)
            starts.append((m.start(), tuple(title for _, title in stack)))
    bounds = [s for s, _ in starts[1:]] + [len(text)]
    out = []
    for (start, path), end in zip(starts, bounds):
        end = last_non_ws_end(text, start, end)
        start = first_non_ws(text, start, end)
        if start < end:
            out.append(Section(start, end, path))
    return out


def _merged_path(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    """Heading path of merged sections: the last one's if the others are its ancestors, else the common prefix."""
    last = paths[-1]
    if all(last[: len(p)] == p for p in paths):
        return last
    common: tuple[str, ...] = paths[0]
    for p in paths[1:]:
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[:n]
    return common


@CHUNKERS.register("markdown")
class MarkdownChunker(Chunker):
    """One chunk per heading section, long sections sub-split like ``chars``.

    Sections are cut at ATX headings (``#`` .. ``######``) of level <= ``max_level``
    outside fenced code blocks (see :func:`split_sections`); the heading line is part
    of the chunk text, and the text before the first heading is a section of its own.
    Every chunk carries ``metadata["heading_path"]`` (e.g. ``["Travel Policy",
    "Booking", "Flights"]``) and, with ``prefix_headings``, ``prefix`` =
    ``" > ".join(path)``: retrievers see it in ``Chunk.indexed_text`` while ``text``
    and the offsets stay exact. Sections longer than ``size`` are split by the
    ``chars`` logic with ``overlap``, each piece keeping the section's path. With
    ``min_size > 0``, a section shorter than ``min_size`` merges into the next ones
    while the merged text fits in ``size``.

    Args:
        size: the most characters in a chunk.
        overlap: characters shared by consecutive pieces of one long section.
        max_level: the deepest heading level that starts a section (1-6).
        prefix_headings: put the heading path into ``Chunk.prefix``.
        min_size: sections shorter than this merge forward (0: never).

    Example:
        >>> from ragkit.data.types import Document
        >>> doc = Document("d", "# Travel Policy\\n## Booking\\nUse the portal.")
        >>> [(c.text, c.prefix) for c in MarkdownChunker().chunk(doc)]
        [('# Travel Policy', 'Travel Policy'), ('## Booking\\nUse the portal.', 'Travel Policy > Booking')]
    """

    class Config(ComponentConfig):
        size: int = Field(1200, gt=0, description="most characters in a chunk")
        overlap: int = Field(200, ge=0, description="characters shared by pieces of a long section")
        max_level: int = Field(3, ge=1, le=6, description="deepest heading level that starts a section")
        prefix_headings: bool = Field(True, description="put the heading path into Chunk.prefix")
        min_size: int = Field(0, ge=0, description="sections shorter than this merge forward")

        @model_validator(mode="after")
        def _check_sizes(self) -> MarkdownChunker.Config:
            check_overlap(self.overlap, self.size)
            if self.min_size > self.size:
                raise ValueError(
                    f"min_size={self.min_size} must not exceed size={self.size}; lower min_size or raise size"
                )
            return self

    def sections(self, text: str) -> list[Section]:
        """The sections of ``text`` after merging tiny ones forward (see ``min_size``)."""
        secs = split_sections(text, self.config.max_level)
        size, min_size = self.config.size, self.config.min_size
        out: list[Section] = []
        i = 0
        while i < len(secs):
            j = i
            while (
                j + 1 < len(secs)
                and secs[j].end - secs[i].start < min_size
                and secs[j + 1].end - secs[i].start <= size
            ):
                j += 1
            path = _merged_path([s.heading_path for s in secs[i : j + 1]])
            out.append(Section(secs[i].start, secs[j].end, path))
            i = j + 1
        return out

    def _pieces(self, text: str) -> list[tuple[int, int, tuple[str, ...]]]:
        size, overlap = self.config.size, self.config.overlap
        out = []
        for sec in self.sections(text):
            if sec.end - sec.start <= size:
                spans = [(sec.start, sec.end)]
            else:
                spans = char_spans(text, size, overlap, sec.start, sec.end)
            out.extend((s, e, sec.heading_path) for s, e in spans)
        return out

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the chunks of ``text``."""
        return [(s, e) for s, e, _ in self._pieces(text)]

    def chunk(self, doc: Document) -> list[Chunk]:
        """Chunks of ``doc`` with ``metadata["heading_path"]`` and, if enabled, the path as ``prefix``."""
        out = []
        for i, (start, end, path) in enumerate(self._pieces(doc.text)):
            prefix = " > ".join(path) if self.config.prefix_headings and path else ""
            out.append(self.make_chunk(doc, i, start, end, prefix=prefix, heading_path=list(path)))
        return out
