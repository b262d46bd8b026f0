"""Chunks as Arrow rows: typed metadata columns, the chunk-table schema, record batches.

A chunk table row is ``chunk_id``, ``doc_id``, ``text``, ``start``, ``end``, ``vector``
(fixed-size float32 list), ``metadata`` (JSON of the whole chunk metadata) and one
``meta_<key>`` column per metadata key, typed by the values seen (bools and numbers
keep their type; strings and dates are strings, dates in ISO-8601; lists, dicts and
mixed-type keys are JSON text). The schema header records the key -> column mapping
and each column's kind, so batches can be built from the schema alone.

Batches still to be embedded have every column but ``vector``, plus ``embed_text``
(:func:`input_schema`); :func:`chunk_batches` builds them lazily, one batch at a time.

Example:
    >>> from ragkit.data.types import Chunk
    >>> schema = chunk_schema(2, [{"year": 2024}])
    >>> schema.field("meta_year").type
    DataType(int64)
    >>> next(chunk_batches([Chunk("d#0", "d", "hi", 0, 2, {"year": 2024})], ["hi"], schema)).num_rows
    1
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ragkit.data.types import Chunk
from ragkit.errors import DataValidationError

SCHEMA_VERSION = "1"
EMBED_TEXT = "embed_text"  # column of to-be-embedded batches: the text the model sees (prefixes included)
BASE_COLUMNS = ("chunk_id", "doc_id", "text", "start", "end", "vector", "metadata")
VECTOR_POS = BASE_COLUMNS.index("vector")


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


def arrow_schema(dim: int, columns: dict[str, tuple[str, str]]):
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
        "ragkit.meta_kinds": json.dumps({str(k): kind for k, (_, kind) in columns.items()}),
    }
    return pa.schema(fields, metadata=header)


def columns_of(schema) -> dict[str, tuple[str, str]]:
    """The ``meta_columns`` mapping a schema was built from (read back from its header)."""
    header = schema.metadata or {}
    cols = json.loads(header.get(b"ragkit.meta_columns", b"{}"))
    kinds = json.loads(header.get(b"ragkit.meta_kinds", b"{}"))
    return {k: (col, kinds.get(k, "json")) for k, col in cols.items()}


def chunk_schema(dim: int, metadatas: Iterable[Mapping[str, Any]]):
    """The Arrow schema of a chunk table whose chunks carry these metadata mappings (one pass over them)."""
    return arrow_schema(int(dim), meta_columns(list(metadatas)))


def input_schema(schema):
    """``schema`` without ``vector``, plus ``embed_text``: the rows of a batch still to be embedded."""
    import pyarrow as pa

    return schema.remove(schema.get_field_index("vector")).append(pa.field(EMBED_TEXT, pa.string()))


def row_arrays(part: Sequence[Chunk], columns: dict[str, tuple[str, str]], schema) -> list:
    """Arrays of every column of ``schema`` but ``vector``, in schema order, for ``part``."""
    import pyarrow as pa

    arrays = [
        pa.array([c.id for c in part], pa.string()),
        pa.array([c.doc_id for c in part], pa.string()),
        pa.array([c.text for c in part], pa.string()),
        pa.array([c.start for c in part], pa.int64()),
        pa.array([c.end for c in part], pa.int64()),
        pa.array([metadata_json(c.metadata) for c in part], pa.string()),
    ]
    for key, (col, kind) in columns.items():
        arrays.append(pa.array([_cell(c.metadata.get(key), kind) for c in part], type=schema.field(col).type))
    return arrays


def chunk_batches(chunks: Iterable[Chunk], texts: Iterable[str], schema, *, batch_rows: int = 8192) -> Iterator:
    """Record batches of :func:`input_schema` ``(schema)``: the rows of ``chunks`` without
    vectors, and ``embed_text`` = ``texts`` (the texts to embed). Lazy: holds one batch.

    Example:
        >>> chunks = [Chunk("d1#0", "d1", "hello", 0, 5)]
        >>> batch = next(chunk_batches(chunks, ["hello"], chunk_schema(2, [{}])))
        >>> batch.column("embed_text").to_pylist(), "vector" in batch.schema.names
        (['hello'], False)
    """
    import itertools

    import pyarrow as pa

    columns, out_schema = columns_of(schema), input_schema(schema)
    pairs = iter(zip(chunks, texts))
    while part := list(itertools.islice(pairs, max(1, batch_rows))):
        arrays = row_arrays([c for c, _ in part], columns, schema)
        arrays.append(pa.array([t for _, t in part], pa.string()))
        yield pa.RecordBatch.from_arrays(arrays, schema=out_schema)


def conform(batch, schema, dim: int) -> list:
    """``batch`` (an Arrow RecordBatch or Table holding at least ``schema``'s columns) as batches of ``schema``."""
    import pyarrow as pa

    missing = [n for n in schema.names if n not in batch.schema.names]
    if missing:
        raise DataValidationError(
            f"ChunkTable.write_stream: batch lacks column(s) {missing}; got {batch.schema.names}. "
            "Build rows with chunk_batches() and add a 'vector' column"
        )
    width = getattr(batch.schema.field("vector").type, "list_size", None)
    if width != dim:
        raise DataValidationError(
            f"ChunkTable.write_stream: 'vector' must be a fixed-size list of {dim} floats, got "
            f"{batch.schema.field('vector').type}; embed with the model the table was named after"
        )
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    return table.select(schema.names).cast(schema).to_batches()
