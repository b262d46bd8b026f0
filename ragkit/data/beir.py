"""BEIR-format datasets: ``corpus.jsonl[.gz]``, ``queries.jsonl[.gz]``, ``qrels/<split>.tsv``."""

from __future__ import annotations

import os
from pathlib import Path

from ragkit.data.jsonl import check_qrels, load_documents_jsonl, load_qrels, load_queries_jsonl
from ragkit.data.problems import OnError
from ragkit.data.types import Document, Qrels, Query
from ragkit.errors import DataValidationError


def _find(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        if (folder / name).is_file():
            return folder / name
    raise DataValidationError(f"BEIR folder '{folder}' has no {stem}.jsonl or {stem}.jsonl.gz")


def load_beir(
    folder: str | os.PathLike, split: str = "test", *, on_error: OnError = "warn", title_in_text: bool = True
) -> tuple[list[Document], list[Query], Qrels]:
    """(documents, queries, qrels) of a BEIR dataset; only queries judged in ``split`` are kept.

    Titles are prepended to document text by default (as BEIR baselines do) and also kept in
    ``metadata["title"]``. CRLF line endings and gzip are handled.

    Example:
        >>> docs, queries, qrels = load_beir("../shared/benchdata/scifact")  # doctest: +SKIP
        >>> len(queries)  # doctest: +SKIP
        300
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DataValidationError(f"BEIR folder '{folder}' does not exist; check the path")
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        have = sorted(p.stem for p in (root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
        raise DataValidationError(f"BEIR folder '{folder}' has no qrels/{split}.tsv; available splits: {have or 'none'}")
    docs = load_documents_jsonl(_find(root, "corpus"), on_error=on_error, title_in_text=title_in_text)
    qrels = load_qrels(qrels_path, on_error=on_error)
    queries = [q for q in load_queries_jsonl(_find(root, "queries"), on_error=on_error) if q.id in qrels]
    qrels = check_qrels(qrels, queries, docs, on_error=on_error, source=str(qrels_path))
    return docs, queries, qrels
