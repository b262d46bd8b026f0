"""The chunker contract: ``Chunker.chunk(doc) -> list[Chunk]``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ragkit.data.types import Chunk, Document
from ragkit.registry import Component


class Chunker(Component):
    """Splits a document into chunks with exact character offsets.

    Every chunker guarantees: ``doc.text[c.start:c.end] == c.text``; every
    non-whitespace character of the document is in some chunk; chunks are in
    document order. Subclasses implement :meth:`spans`; ids and metadata are
    filled in here so they are the same for every chunker.
    """

    kind = "chunker"

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans ``[start, end)`` of the chunks of ``text``, in order."""
        raise NotImplementedError

    def chunk(self, doc: Document) -> list[Chunk]:
        """Chunks of ``doc``; ids are ``"{doc.id}#{i}"``, metadata inherits the document's."""
        return [self.make_chunk(doc, i, s, e) for i, (s, e) in enumerate(self.spans(doc.text))]

    def make_chunk(self, doc: Document, i: int, start: int, end: int, prefix: str = "", **extra) -> Chunk:
        meta = {**doc.metadata, **extra} if extra else doc.metadata
        return Chunk(f"{doc.id}#{i}", doc.id, doc.text[start:end], start, end, meta, prefix)

    def chunk_all(self, docs: Iterable[Document]) -> list[Chunk]:
        """Chunks of every document, in order."""
        return [c for d in docs for c in self.chunk(d)]


def count_overlong(chunks: Sequence[Chunk], model: str = "default") -> dict[str, int]:
    """How many chunks exceed the embedder's max sequence length (their tails are invisible to it).

    Returns ``{"chunks": n, "overlong": m, "max_seq_length": L}``, counting tokens with
    the very tokenizer of ``model`` (special tokens included, as the model sees them).
    """
    from ragkit.core.models import get_embedder

    emb = get_embedder(model)
    lengths = emb.count_tokens([c.indexed_text for c in chunks])
    limit = emb.max_seq_length
    return {"chunks": len(chunks), "overlong": int(sum(n > limit for n in lengths)), "max_seq_length": limit}
