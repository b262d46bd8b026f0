"""Documents, chunks, queries, qrels and rankings; loaders for folders, JSONL and BEIR."""

from ragkit.data.types import Chunk, Document, Hit, Judgment, Qrels, Query, Run

__all__ = ["Chunk", "Document", "Hit", "Judgment", "Qrels", "Query", "Run"]
