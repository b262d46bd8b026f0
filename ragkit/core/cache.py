"""On-disk embedding cache keyed by (model fingerprint, sha256 of text).

Layout: ``<root>/embeddings/<fingerprint>/shard-<n>-<uuid>.npz``, each shard an
npz with ``keys`` (N x 32 uint8, the sha256 digests) and ``vectors`` (N x D float32). Shards are
written to a temporary file and renamed, so a crash never leaves a half shard;
concurrent writers only ever add shards.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def cache_root() -> Path:
    """``$RAGKIT_CACHE_DIR``, else ``~/.cache/ragkit``."""
    env = os.environ.get("RAGKIT_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ragkit"


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class EmbeddingCache:
    """A persistent map sha256(text) -> vector for one model fingerprint.

    >>> import tempfile
    >>> c = EmbeddingCache(tempfile.mkdtemp(), "m1")
    >>> c.put([text_key("a")], np.ones((1, 2), dtype=np.float32))
    >>> c.get([text_key("a"), text_key("b")])[0].tolist()
    [True, False]
    """

    def __init__(self, directory: str | os.PathLike, fingerprint: str) -> None:
        self.dir = Path(directory) / fingerprint
        self._index: dict[bytes, int] = {}
        self._blocks: list[np.ndarray] = []
        self._rows: np.ndarray | None = None  # concatenation of _blocks, built lazily
        self._lock = threading.Lock()
        self._load()

    def _load(self) -> None:
        if not self.dir.is_dir():
            return
        for shard in sorted(self.dir.glob("shard-*.npz")):
            try:
                with np.load(shard) as z:
                    self._add([r.tobytes() for r in z["keys"]], z["vectors"])
            except Exception:  # a foreign or corrupt file: ignore it, the texts get re-encoded
                continue

    def _add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        base = sum(len(b) for b in self._blocks)
        self._blocks.append(np.asarray(vectors, dtype=np.float32))
        self._rows = None
        for i, k in enumerate(keys):
            self._index[bytes(k)] = base + i

    def __len__(self) -> int:
        return len(self._index)

    def get(self, keys: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray | None]:
        """(found mask, vectors of the found keys in order) — vectors is None when nothing was found."""
        pos = np.fromiter((self._index.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        found = pos >= 0
        if not found.any():
            return found, None
        if self._rows is None:
            self._rows = np.concatenate(self._blocks) if len(self._blocks) > 1 else self._blocks[0]
            self._blocks = [self._rows]
        return found, self._rows[pos[found]]

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Add vectors (in memory and as one new shard on disk, atomically)."""
        new = [i for i, k in enumerate(keys) if k not in self._index]
        if not new:
            return
        keys = [keys[i] for i in new]
        vectors = np.asarray(vectors, dtype=np.float32)[new]
        with self._lock:
            self._add(keys, vectors)
            self.dir.mkdir(parents=True, exist_ok=True)
            name = f"shard-{len(list(self.dir.glob('shard-*.npz'))):06d}-{uuid.uuid4().hex[:8]}.npz"
            tmp = self.dir / f".{name}.tmp"
            with open(tmp, "wb") as f:
                np.savez(f, keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 32), vectors=vectors)
            os.replace(tmp, self.dir / name)
