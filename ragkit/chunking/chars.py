"""``chars``: overlapping windows of at most ``size`` characters, cut at natural boundaries."""

from __future__ import annotations

from pydantic import Field, model_validator

from ragkit.chunking.base import Chunker
from ragkit.chunking.boundaries import char_spans, slack_for
from ragkit.registry import CHUNKERS, ComponentConfig


def check_overlap(overlap: int, size: int, overlap_name: str = "overlap", size_name: str = "size") -> None:
    """Raise ValueError (turned into a ConfigError by pydantic/Component) unless ``overlap < size``."""
    if overlap >= size:
        raise ValueError(
            f"{overlap_name}={overlap} must be smaller than {size_name}={size}, or the chunker makes no "
            f"progress; lower {overlap_name} (e.g. {overlap_name}={size * 3 // 10}, 30% of {size_name})"
        )


@CHUNKERS.register("chars")
class CharChunker(Chunker):
    """Windows of at most ``size`` characters, consecutive windows sharing about ``overlap``.

    A window ends at the best boundary in its last quarter (the *slack*,
    ``size // 4`` characters): a paragraph break, else a sentence end, else
    whitespace; with no whitespace there, at the last whitespace of the window;
    with none at all (a long URL), exactly at ``size``. The next window starts
    ``overlap`` characters before the previous end, moved to a word start (by at most
    the slack when one is that close). Chunks never begin or end with whitespace.
    The exact guarantees are in :mod:`ragkit.chunking.boundaries`.

    Args:
        size: the most characters in a chunk.
        overlap: characters shared by consecutive chunks (before snapping to a word start).

    Example:
        >>> from ragkit.data.types import Document
        >>> chunker = CharChunker(size=12, overlap=0)
        >>> [c.text for c in chunker.chunk(Document("d", "One two. Three four five."))]
        ['One two.', 'Three four', 'five.']
    """

    class Config(ComponentConfig):
        size: int = Field(800, gt=0, description="most characters in a chunk")
        overlap: int = Field(240, ge=0, description="characters shared by consecutive chunks")

        @model_validator(mode="after")
        def _overlap_below_size(self) -> CharChunker.Config:
            check_overlap(self.overlap, self.size)
            return self

    @property
    def slack(self) -> int:
        """How far a cut or a start may move to reach a boundary: ``size // 4`` characters."""
        return slack_for(self.config.size)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the chunks of ``text``."""
        return char_spans(text, self.config.size, self.config.overlap)
