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

import datetime as _dt
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ragkit.data.types import Chunk
from ragkit.errors import ConfigError, DataValidationError

log = logging.getLogger(__name__)

SCHEMA_VERSION = "1"
ENV_PREFIX = "$env:"
AnnKind = Literal["ivf_pq", "hnsw"]
_BASE_COLUMNS = ("chunk_id", "doc_id", "text", "start", "end", "vector", "metadata")


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


def _json_default(v: Any) -> Any:
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, (set, frozenset)):
        return sorted(v, key=str)
    if isinstance(v, np.generic):
        return v.item()
    return str(v)


def metadata_json(meta: Mapping[str, Any]) -> str:
    """Canonical JSON of a metadata mapping (sorted keys; dates as ISO strings)."""
    return json.dumps(dict(meta), sort_keys=True, ensure_ascii=False, default=_json_default)


def table_name(fingerprint: str, dim: int, chunks: Sequence[Chunk], texts: Sequence[str]) -> str:
    """Content address of a chunk table: sha256 over the model and every stored field.

    ``texts`` are the texts that were embedded (prefixes included), so a change of
    document prefix, chunker or metadata gives a new table.
    """
    h = hashlib.sha256(f"ragkit-chunks-v{SCHEMA_VERSION}|{fingerprint}|{dim}|{len(chunks)}\n".encode())
    for c, text in zip(chunks, texts):
        row = [c.id, c.doc_id, c.text, text, c.start, c.end, metadata_json(c.metadata)]
        h.update(json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
    return f"chunks_{h.hexdigest()[:32]}"


def _column_name(key: str, taken: set[str]) -> str:
    # lower-case ASCII identifiers need no quoting in LanceDB's SQL (DataFusion)
    base = "meta_" + re.sub(r"[^0-9a-z_]", "_", str(key).lower())
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    taken.add(name)
    return name


def _value_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, np.integer)) and -(2**63) <= int(v) < 2**63:
        return "int"
    if isinstance(v, (float, np.floating)):
        return "float"
    if isinstance(v, (str, _dt.date, _dt.datetime, _dt.time)):
        return "str"
    return "json"


def _merge_kind(a: str | None, b: str) -> str:
    if a is None or a == b:
        return b
    if {a, b} == {"int", "float"}:
        return "float"
    return "json"


def meta_columns(metadatas: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, str]]:
    """metadata key -> (column name, kind) with kind in bool, int, float, str, json."""
    kinds: dict[str, str | None] = {}
    for meta in metadatas:
        for key, v in meta.items():
            if v is not None:
                kinds[key] = _merge_kind(kinds.get(key), _value_kind(v))
            else:
                kinds.setdefault(key, None)
    taken: set[str] = set()
    return {k: (_column_name(k, taken), kind or "str") for k, kind in sorted(kinds.items(), key=lambda kv: str(kv[0]))}


def _cell(v: Any, kind: str) -> Any:
    if v is None:
        return None
    if kind in ("bool", "int", "float"):
        return v.item() if isinstance(v, np.generic) else v
    if kind == "str" or isinstance(v, str):
        return v if isinstance(v, str) else v.isoformat()
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=_json_default)


def _arrow_schema(dim: int, columns: dict[str, tuple[str, str]]):
    import pyarrow as pa

    types = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string(), "json": pa.string()}
    fields = [
        pa.field("chunk_id", pa.string(), nullable=False),
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("start", pa.int64()),
        pa.field("end", pa.int64()),
        pa.field("vector", pa.list_(pa.float32(), dim)),
        pa.field("metadata", pa.string()),
    ]
    fields += [pa.field(col, types[kind]) for col, kind in columns.values()]
    header = {
        "ragkit.schema_version": SCHEMA_VERSION,
        "ragkit.meta_columns": json.dumps({str(k): col for k, (col, _) in columns.items()}),
    }
    return pa.schema(fields, metadata=header)


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
        import pyarrow as pa

        columns = meta_columns([c.metadata for c in chunks])
        schema = _arrow_schema(self.dim, columns)
        reader = pa.RecordBatchReader.from_batches(schema, self._batches(chunks, vectors, columns, schema))
        log.info("writing %d chunks to LanceDB table %s at %s", len(chunks), self.name, self.uri)
        self.db.create_table(self.name, reader, schema=schema, mode="overwrite")

    def _batches(self, chunks, vectors, columns, schema) -> Iterator:
        import pyarrow as pa

        for lo in range(0, len(chunks), self.batch_rows):
            part = chunks[lo : lo + self.batch_rows]
            flat = pa.array(np.ascontiguousarray(vectors[lo : lo + len(part)]).ravel(), type=pa.float32())
            arrays = [
                pa.array([c.id for c in part], pa.string()),
                pa.array([c.doc_id for c in part], pa.string()),
                pa.array([c.text for c in part], pa.string()),
                pa.array([c.start for c in part], pa.int64()),
                pa.array([c.end for c in part], pa.int64()),
                pa.FixedSizeListArray.from_arrays(flat, self.dim),
                pa.array([metadata_json(c.metadata) for c in part], pa.string()),
            ]
            for i, (key, (_, kind)) in enumerate(columns.items(), start=len(_BASE_COLUMNS)):
                cells = [_cell(c.metadata.get(key), kind) for c in part]
                arrays.append(pa.array(cells, type=schema.field(i).type))
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

    def ensure_index(self, kind: AnnKind) -> None:
        """Build an approximate vector index (``ivf_pq`` or ``hnsw``) unless one exists.

        The metric is ``dot``: vectors are unit length, so ``1 - _distance`` is the
        cosine similarity. Index parameters are LanceDB's defaults for the table size.
        """
        from lancedb.index import HnswSq, IvfPq

        if kind not in ("ivf_pq", "hnsw"):
            raise ConfigError(f"ann: unknown index kind '{kind}'; allowed: ivf_pq, hnsw")
        if self.has_index():
            return
        config = IvfPq(distance_type="dot") if kind == "ivf_pq" else HnswSq(distance_type="dot")
        log.info("building %s index on LanceDB table %s", kind, self.name)
        self.open().create_index("vector", config=config)
