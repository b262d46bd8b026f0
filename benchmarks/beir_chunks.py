"""Shared by the benchmarks: a BEIR folder as one chunk per document, its queries and doc-level qrels."""

from __future__ import annotations

from pathlib import Path

from ragkit.data.beir import load_beir
from ragkit.data.types import Chunk, Query


def load_beir_chunks(
    folder: Path, split: str = "test", *, title_in_text: bool = False
) -> tuple[list[Chunk], list[Query], dict[str, dict[str, int]]]:
    """Chunks (one per document; the title in ``metadata["title"]``, and prepended when ``title_in_text``)."""
    docs, queries, qrels = load_beir(folder, split, title_in_text=title_in_text)
    chunks = [Chunk(d.id, d.id, d.text, 0, len(d.text), d.metadata) for d in docs]
    return chunks, queries, qrels.doc_level()
