"""Index a stream of chunks into a LanceDB chunk table, in this process or on a Ray cluster.

Both engines take record batches of chunk rows plus the text to embed (built by
:func:`~ragkit.retrieval.lance_store.chunk_batches`, or read from Parquet files of
that schema), embed them batch by batch and stream the rows with their vectors into
one LanceDB commit (:meth:`~ragkit.retrieval.lance_store.ChunkTable.write_stream`).
Memory holds the batches in flight, never the corpus or its vectors, so a corpus
larger than RAM can be indexed.

- :func:`index_stream`: in this process, through the shared embedder.
- :func:`index_stream_ray`: Ray Data ``map_batches`` over an actor pool (one model per
  actor, a GPU each when the cluster has them); embeddings flow back to this process,
  which writes them. With ``uri: s3://...`` every worker then reads the same table.
- :func:`index_chunks_ray`: what ``execution: {engine: ray}`` runs for a dense
  retriever: the chunks of an experiment, into the very table ``DenseRetriever.index``
  reads, so the retriever then finds it complete and embeds nothing.

Example:
    >>> from ragkit.data.types import Chunk
    >>> from ragkit.retrieval.chunk_rows import chunk_batches, chunk_schema
    >>> from ragkit.retrieval.lance_store import ChunkTable
    >>> chunks = [Chunk("a#0", "a", "cats purr", 0, 9), Chunk("b#0", "b", "stocks fell", 0, 11)]
    >>> schema = chunk_schema(384, [c.metadata for c in chunks])
    >>> table = ChunkTable("demo", dim=384, uri=__import__("tempfile").mkdtemp())
    >>> index_stream(table, chunk_batches(chunks, [c.text for c in chunks], schema), schema, device="cpu")
    2
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ragkit.data.types import Chunk
from ragkit.errors import ConfigError
from ragkit.retrieval.chunk_rows import EMBED_TEXT, chunk_batches, chunk_schema
from ragkit.retrieval.lance_store import ChunkTable

if TYPE_CHECKING:
    from ragkit.retrieval.dense import DenseRetriever

log = logging.getLogger(__name__)


def _check_dim(table: ChunkTable, dim: int, model: str) -> None:
    if table.dim != dim:
        raise ConfigError(f"table {table.name} holds {table.dim}-d vectors but model '{model}' gives {dim}-d ones")


def index_stream(
    table: ChunkTable,
    batches: Iterable,
    schema,
    *,
    model: str = "default",
    device: str = "auto",
    batch_size: int | None = None,
    use_cache: bool = True,
) -> int:
    """Embed each batch (column ``embed_text``) in this process and stream it into ``table``; returns rows written."""
    import pyarrow as pa

    from ragkit.core.models import get_embedder

    emb = get_embedder(model, device)
    _check_dim(table, emb.dim, model)

    def embedded():
        for batch in batches:
            texts = batch.column(EMBED_TEXT).to_pylist()
            vecs = emb.encode(texts, batch_size=batch_size, use_cache=use_cache, show_progress_bar=False)
            flat = pa.array(vecs.ravel(), pa.float32())
            yield batch.append_column("vector", pa.FixedSizeListArray.from_arrays(flat, emb.dim))

    return table.write_stream(embedded(), schema)


def index_stream_ray(
    table: ChunkTable,
    dataset,
    schema,
    *,
    model: str = "default",
    device: str = "auto",
    batch_size: int | None = None,
    use_cache: bool = True,
    rows_per_batch: int = 1024,
    num_workers: int | None = None,
    num_cpus: float = 1.0,
    num_gpus: float | None = None,
) -> int:
    """Embed a Ray Dataset of chunk rows (column ``embed_text``) on an actor pool and stream it into ``table``.

    ``dataset`` is e.g. ``ray.data.read_parquet("s3://bucket/chunks/")`` of files with
    :func:`~ragkit.retrieval.lance_store.input_schema`'s columns, or
    :func:`chunk_dataset`. Ray must be connected (:func:`ragkit.core.ray_embed.init_ray`,
    which also sets Ray Data's block size so the corpus spreads over the actors; create
    the dataset after it).
    Returns the number of rows written.
    """
    from ragkit.core.ray_embed import embed_dataset

    embedded = embed_dataset(
        dataset, model=model, device=device, batch_size=batch_size, use_cache=use_cache, text_column=EMBED_TEXT,
        rows_per_batch=rows_per_batch, num_workers=num_workers, num_cpus=num_cpus, num_gpus=num_gpus,
    )
    # one block at a time from the actors into LanceDB's writer: the corpus is never materialised here
    return table.write_stream(embedded.iter_batches(batch_size=None, batch_format="pyarrow"), schema)


def chunk_dataset(chunks: Sequence[Chunk], texts: Sequence[str], schema, *, rows_per_block: int = 8192):
    """A Ray Dataset of the rows of ``chunks`` to embed (``texts``), in blocks of ``rows_per_block``."""
    import pyarrow as pa

    from ragkit.core.ray_embed import import_ray

    ray = import_ray()
    blocks = [pa.Table.from_batches([b]) for b in chunk_batches(chunks, texts, schema, batch_rows=rows_per_block)]
    return ray.data.from_arrow(blocks)


def index_chunks_ray(retriever: DenseRetriever, chunks: Sequence[Chunk], **options: Any) -> ChunkTable | None:
    """Embed ``chunks`` on Ray into the table ``retriever.index(chunks)`` will look for.

    The table name is the content address of the chunks and the model's fingerprint
    as the workers load it, so a dense retriever running on a worker finds the table
    complete and embeds nothing. Does nothing when the table is already complete.
    ``options``: :func:`index_stream_ray`'s keyword arguments (workers, CPUs, GPUs, ...).
    """
    from ragkit.core.ray_embed import embedder_identity

    if not chunks:
        return None
    cfg = retriever.config
    fingerprint, dim = embedder_identity(cfg.model, cfg.device, options.get("num_cpus", 1.0), options.get("num_gpus"))
    table = retriever.table_for(chunks, fingerprint=fingerprint, dim=dim)
    if table.is_complete(len(chunks)):
        log.info("LanceDB table %s already complete (%d chunks); nothing to embed", table.name, len(chunks))
        return table
    texts = retriever.document_texts(chunks)
    schema = chunk_schema(dim, (c.metadata for c in chunks))
    dataset = chunk_dataset(chunks, texts, schema, rows_per_block=options.get("rows_per_batch", 1024))
    options.setdefault("batch_size", cfg.batch_size)
    index_stream_ray(table, dataset, schema, model=cfg.model, device=cfg.device, **options)
    return table
