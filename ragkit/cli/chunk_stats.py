"""``ragkit chunks``: per-chunker statistics, including chunks the embedder cannot see whole."""

from __future__ import annotations


def chunk_stats(config: str, model: str, overrides: tuple[str, ...]) -> None:
    from rich.console import Console
    from rich.table import Table

    from ragkit.chunking.base import count_overlong
    from ragkit.experiment.inputs import _load_corpus
    from ragkit.experiment.spec import load_spec
    from ragkit.experiment.validate import validate_experiment
    from ragkit.registry import CHUNKERS

    spec = load_spec(config, overrides)
    chunkers = validate_experiment(spec).chunkers
    docs = _load_corpus(spec)[0]
    table = Table(title=f"Chunks of {len(docs)} documents (model: {model})")
    for col in ("chunker", "chunks", "mean chars", "max chars", "over max_seq_length"):
        table.add_column(col, justify="right" if col != "chunker" else "left")
    for cs in chunkers:
        chunks = CHUNKERS.create(cs.name, cs.params).chunk_all(docs)
        sizes = [len(c.text) for c in chunks] or [0]
        over = count_overlong(chunks, model)
        table.add_row(cs.label, str(len(chunks)), f"{sum(sizes) / len(sizes):.0f}", str(max(sizes)),
                      f"{over['overlong']} (> {over['max_seq_length']} tokens)")
    Console().print(table)
