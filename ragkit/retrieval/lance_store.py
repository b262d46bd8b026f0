"""Chunks and their embeddings in one LanceDB table, named after its content.

Each table holds one row per chunk: ``chunk_id``, ``doc_id``, ``text``, ``start``,
``end``, ``vector`` (fixed-size float32 list), ``metadata`` (JSON of the whole chunk
metadata) and one ``meta_<key>`` column per metadata key, so users can write SQL
such as ``meta_author = 'ana' AND meta_year >= 2020`` against the table. Bools and
numbers keep their type; strings and dates are strings (dates in ISO-8601); lists,
dicts and mixed-type keys are JSON text.

The table name is a hash of the model fingerprint, the vector size and every
stored field of every chunk, so a table that exists under that name with the
expected row count *is* the index of those chunks embedded by that model: it is
reused without embedding or writing anything.

Crash safety. LanceDB OSS has no ``rename_table``, so we cannot write under a
temporary name and rename. We do not need to: a Lance write is one commit. Data
files are written first and the manifest of the new version last; readers only
ever see committed versions. A process that dies while writing leaves a folder
with data files and no manifest, which ``open_table`` refuses ("not found"), so it
can never pass for a complete table. The next writer replaces it with
``mode="overwrite"``. As a second guard, reuse also requires the row count to
match. Rows are streamed to LanceDB in record batches of ``batch_rows`` rows, so
building the Arrow data never holds more than one batch of Python objects.

Streaming. :meth:`ChunkTable.write_stream` takes any iterable of record batches
(e.g. embeddings arriving from a Ray actor pool, see
:mod:`ragkit.retrieval.stream_index`) and still commits once, so a corpus never has
to be held in memory to be indexed. The row format (schema, typed metadata columns,
batches) lives in :mod:`ragkit.retrieval.chunk_rows`.

Example:
    >>> import numpy as np, tempfile
    >>> from ragkit.data.types import Chunk
    >>> chunks = [Chunk("d1#0", "d1", "hello", 0, 5, {"lang": "en"})]
    >>> vecs = np.ones((1, 2), dtype=np.float32) / np.sqrt(2)
    >>> table = ChunkTable.for_chunks(chunks, ["hello"], fingerprint="m", dim=2, uri=tempfile.mkdtemp())
    >>> table.is_complete(1)
    False
    >>> table.write(chunks, vecs)
    >>> table.load_vectors()[1]
    ['d1#0']
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ragkit.data.types import Chunk
from ragkit.errors import ConfigError, DataValidationError
from ragkit.retrieval.chunk_rows import SCHEMA_VERSION, VECTOR_POS, arrow_schema, conform, row_arrays
from ragkit.retrieval.chunk_rows import meta_columns, metadata_json  # noqa: F401 - public here since v0.1

log = logging.getLogger(__name__)

ENV_PREFIX = "$env:"
AnnKind = Literal["ivf_pq", "hnsw"]


def import_lancedb():
    """``import lancedb``, shielded from a ``datasets`` namespace package.

    lancedb registers Hugging Face ``datasets`` converters when a module named
    ``datasets`` is already imported. Run from a checkout of ragkit, the repo's own
    ``datasets/`` folder is importable as a namespace package (transformers imports
    it while probing for HF datasets), and lancedb's import then fails. We hide such
    a namespace package (it has no ``__file__``) for the duration of the import.
    """
    import sys

    if "lancedb" in sys.modules:
        return sys.modules["lancedb"]
    import os

    os.environ.setdefault("LANCEDB_LOG", "error")  # "No existing dataset ... will be created" is not a warning for us
    shadow = sys.modules.get("datasets")
    hide = shadow is not None and getattr(shadow, "__file__", None) is None
    if hide:
        del sys.modules["datasets"]
    try:
        import lancedb
    finally:
        if hide:
            sys.modules["datasets"] = shadow
    return lancedb


def default_uri() -> str:
    """``cache_root() / "lancedb"``, read at call time so ``RAGKIT_CACHE_DIR`` is honoured."""
    from ragkit.core.cache import cache_root

    return str(cache_root() / "lancedb")


def resolve_storage_options(options: Mapping[str, str] | None) -> dict[str, str]:
    """Replace ``$env:NAME`` values by the environment variable ``NAME``.

    Secrets stay out of configs: ``{"aws_secret_access_key": "$env:AWS_SECRET"}``
    is resolved only when the database is opened. Error messages name the variable,
    never a value.

    >>> os.environ["RAGKIT_DOCTEST_KEY"] = "s3cr3t"
    >>> resolve_storage_options({"key": "$env:RAGKIT_DOCTEST_KEY", "region": "eu"})
    {'key': 's3cr3t', 'region': 'eu'}
    """
    out: dict[str, str] = {}
    for key, value in (options or {}).items():
        value = str(value)
        if value.startswith(ENV_PREFIX):
            var = value[len(ENV_PREFIX) :]
            if var not in os.environ:
                raise ConfigError(
                    f"storage_options.{key}: environment variable '{var}' is not set "
                    f"(got '{ENV_PREFIX}{var}'); export {var}=... or give the value directly"
                )
            value = os.environ[var]
        out[str(key)] = value
    return out


def table_name(
    fingerprint: str, dim: int, chunks: Iterable[Chunk], texts: Iterable[str], n: int | None = None
) -> str:
    """Content address of a chunk table: sha256 over the model and every stored field.

    ``texts`` are the texts that were embedded (prefixes included), so a change of
    document prefix, chunker or metadata gives a new table. ``chunks`` and ``texts``
    may be one-pass iterators (a corpus streamed from disk) when ``n``, their length,
    is given.
    """
    n = len(chunks) if n is None else n  # type: ignore[arg-type]
    h = hashlib.sha256(f"ragkit-chunks-v{SCHEMA_VERSION}|{fingerprint}|{dim}|{n}\n".encode())
    for c, text in zip(chunks, texts):
        row = [c.id, c.doc_id, c.text, text, c.start, c.end, metadata_json(c.metadata)]
        h.update(json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return f"chunks_{h.hexdigest()[:32]}"


class ChunkTable:
    """One LanceDB table of chunks and their L2-normalised embeddings.

    Args:
        name: table name (use :meth:`for_chunks` to derive it from the content).
        dim: vector size.
        uri: database location: a folder, or an object-store URI (``s3://bucket/path``,
            ``gs://...``, ``az://...``). Defaults to :func:`default_uri`.
        storage_options: passed to ``lancedb.connect``; ``$env:NAME`` values are read
            from the environment when the database is opened.
        batch_rows: rows per Arrow record batch when writing and reading.

    Example:
        >>> import tempfile
        >>> t = ChunkTable("chunks_demo", dim=384, uri=tempfile.mkdtemp())
        >>> t.is_complete(10)
        False
    """

    def __init__(
        self,
        name: str,
        *,
        dim: int,
        uri: str | None = None,
        storage_options: Mapping[str, str] | None = None,
        batch_rows: int = 8192,
    ) -> None:
        self.name = name
        self.dim = int(dim)
        self.uri = uri or default_uri()
        self._storage_options = dict(storage_options or {})  # unresolved: may hold $env: refs only
        self.batch_rows = max(1, int(batch_rows))
        self._db = None

    @classmethod
    def for_chunks(
        cls, chunks: Sequence[Chunk], texts: Sequence[str], *, fingerprint: str, dim: int, **kwargs: Any
    ) -> ChunkTable:
        """The table whose name is the content address of ``chunks`` embedded as ``texts``."""
        return cls(table_name(fingerprint, dim, chunks, texts), dim=dim, **kwargs)

    def __repr__(self) -> str:  # never shows storage option values (they may be secrets)
        return f"ChunkTable(name={self.name!r}, uri={self.uri!r}, dim={self.dim})"

    @property
    def db(self):
        """The ``lancedb`` connection (opened on first use)."""
        if self._db is None:
            lancedb = import_lancedb()
            if "://" not in self.uri:
                os.makedirs(self.uri, exist_ok=True)
            self._db = lancedb.connect(self.uri, storage_options=resolve_storage_options(self._storage_options) or None)
        return self._db

    def open(self):
        """The LanceDB table; ``ValueError`` if it has no committed version."""
        return self.db.open_table(self.name)

    def is_complete(self, n_rows: int) -> bool:
        """True when a committed table of this name holds ``n_rows`` rows of the right width."""
        db = self.db  # outside the try: a bad config (ConfigError is a ValueError) must surface
        try:
            table = db.open_table(self.name)
        except (ValueError, FileNotFoundError, OSError):  # absent, or a crashed write without a manifest
            return False
        field = table.schema.field("vector") if "vector" in table.schema.names else None
        width = getattr(field.type, "list_size", -1) if field is not None else -1
        return width == self.dim and table.count_rows() == n_rows

    def write(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Write ``chunks`` with their ``vectors`` as the table's single committed version.

        Replaces any table of the same name (with the content-addressed name, that is
        only ever a broken or truncated copy of the same data).
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(chunks), self.dim):
            raise DataValidationError(
                f"ChunkTable.write: expected vectors of shape ({len(chunks)}, {self.dim}) for "
                f"{len(chunks)} chunks, got {vectors.shape}; pass one {self.dim}-d row per chunk"
            )
        columns = meta_columns([c.metadata for c in chunks])
        schema = arrow_schema(self.dim, columns)
        self.write_stream(self._batches(chunks, vectors, columns, schema), schema)

    def write_stream(self, batches: Iterable, schema) -> int:
        """Write record batches (chunk rows with a ``vector`` column) as the table's single committed version.

        ``batches`` may be a generator fed by an embedding pipeline: LanceDB consumes it
        as it goes, so only the batches in flight are in memory, and a crash before the
        end leaves no committed version. ``schema`` is :func:`chunk_schema`'s; extra
        columns in the batches are dropped. Returns the number of rows written.
        """
        import pyarrow as pa

        rows, failure = 0, None

        def conformed():
            nonlocal rows, failure
            try:
                for batch in batches:
                    for part in conform(batch, schema, self.dim):
                        rows += part.num_rows
                        yield part
            except Exception as err:  # LanceDB wraps it in a RuntimeError: keep the original to re-raise
                failure = err
                raise

        log.info("writing chunks to LanceDB table %s at %s", self.name, self.uri)
        reader = pa.RecordBatchReader.from_batches(schema, conformed())
        try:
            self.db.create_table(self.name, reader, schema=schema, mode="overwrite")
        except Exception:
            if failure is not None:
                raise failure from None
            raise
        log.info("wrote %d chunks to LanceDB table %s", rows, self.name)
        return rows

    def _batches(self, chunks, vectors, columns, schema) -> Iterator:
        import pyarrow as pa

        for lo in range(0, len(chunks), self.batch_rows):
            part = chunks[lo : lo + self.batch_rows]
            flat = pa.array(np.ascontiguousarray(vectors[lo : lo + len(part)]).ravel(), type=pa.float32())
            arrays = row_arrays(part, columns, schema)
            arrays.insert(VECTOR_POS, pa.FixedSizeListArray.from_arrays(flat, self.dim))
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def load_vectors(self) -> tuple[np.ndarray, list[str], list[str], list[dict[str, Any]]]:
        """``(vectors (n, dim) float32, chunk_ids, doc_ids, metadatas)`` in table order.

        Metadata comes back from its JSON column, so dates are ISO strings.
        """
        table = self.open()
        n = table.count_rows()
        vectors = np.empty((n, self.dim), dtype=np.float32)
        chunk_ids: list[str] = []
        doc_ids: list[str] = []
        metas: list[dict[str, Any]] = []
        query = table.search().select(["chunk_id", "doc_id", "vector", "metadata"])
        row = 0
        for batch in query.to_batches(self.batch_rows):
            m = batch.num_rows
            vec = batch.column("vector").flatten().to_numpy(zero_copy_only=False)
            vectors[row : row + m] = vec.reshape(m, self.dim)
            chunk_ids += batch.column("chunk_id").to_pylist()
            doc_ids += batch.column("doc_id").to_pylist()
            metas += [json.loads(s) if s else {} for s in batch.column("metadata").to_pylist()]
            row += m
        return vectors[:row], chunk_ids, doc_ids, metas

    def has_index(self) -> bool:
        """True when the ``vector`` column has a vector index."""
        return any("vector" in list(ix.columns) for ix in self.open().list_indices())

    def ensure_index(self, kind: AnnKind, params: Mapping[str, Any] | None = None) -> bool:
        """Build an approximate vector index (``ivf_pq`` or ``hnsw``) unless the same one exists.

        The metric is ``dot``: vectors are unit length, so ``1 - _distance`` is the
        cosine similarity. ``params`` go to LanceDB's ``IvfPq`` / ``HnswSq`` (e.g.
        ``num_partitions``, ``num_sub_vectors``, ``m``, ``ef_construction``); LanceDB
        picks defaults for the table size otherwise. The index is named after its kind
        and params, so asking for a different one replaces it. Returns True when built.
        """
        from ragkit.registry import config_hash

        config = index_config(kind, params)
        name = f"vector_{kind}_{config_hash(dict(params or {}))[:8]}"
        table = self.open()
        existing = [ix.name for ix in table.list_indices() if "vector" in list(ix.columns)]
        if name in existing:
            return False
        for old in existing:  # one vector index per column, or searches would pick either
            table.drop_index(old)
        log.info("building %s index %s on LanceDB table %s", kind, dict(params or {}), self.name)
        table.create_index("vector", config=config, name=name, replace=True)
        return True


# keys accepted by lancedb.index.IvfPq / HnswSq besides distance_type (a test keeps them in sync)
ANN_PARAMS = {
    "ivf_pq": ("num_partitions", "num_sub_vectors", "num_bits", "max_iterations", "sample_rate", "target_partition_size"),
    "hnsw": ("num_partitions", "m", "ef_construction", "max_iterations", "sample_rate", "target_partition_size"),
}


def check_index_params(kind: str, params: Mapping[str, Any] | None) -> None:
    """ConfigError unless ``kind`` is an index kind and every key of ``params`` is one of its parameters."""
    if kind not in ANN_PARAMS:
        raise ConfigError(f"ann: unknown index kind '{kind}'; allowed: {', '.join(ANN_PARAMS)}")
    unknown = sorted(set(params or {}) - set(ANN_PARAMS[kind]))
    if unknown:
        raise ConfigError(
            f"ann_params: unknown key(s) {unknown} for ann: {kind}; allowed: {', '.join(ANN_PARAMS[kind])}"
        )


def index_config(kind: str, params: Mapping[str, Any] | None = None):
    """The LanceDB index config for ``kind`` (``dot`` metric) with ``params``."""
    from lancedb.index import HnswSq, IvfPq

    check_index_params(kind, params)
    cls = IvfPq if kind == "ivf_pq" else HnswSq
    return cls(distance_type="dot", **dict(params or {}))
