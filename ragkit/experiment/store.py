"""Run folders and atomic writes: a file is either complete or absent, never half written."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(df, path: Path, compression: str = "snappy") -> None:
    """Write a DataFrame to parquet atomically (``compression``: snappy, zstd, gzip or none)."""
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False, compression=None if compression == "none" else compression)
    atomic_write_bytes(path, buf.getvalue())


def write_json(obj: Any, path: Path) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())


def write_yaml(obj: Any, path: Path) -> None:
    atomic_write_bytes(path, yaml.safe_dump(obj, sort_keys=False, allow_unicode=True).encode())


def commit_dir(tmp: Path, final: Path) -> None:
    """Move a fully written temporary folder into place (replacing an older one)."""
    if final.exists():
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, final)


def new_run_dir(output_dir: Path, name: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name) or "run"
    path = output_dir / f"{safe}-{stamp}"
    n = 1
    while path.exists():
        n += 1
        path = output_dir / f"{safe}-{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def find_resumable(output_dir: Path, name: str, config_key: str) -> Path | None:
    """The newest unfinished run folder of ``name`` whose config matches ``config_key``."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name) or "run"
    for path in sorted(output_dir.glob(f"{safe}-*"), reverse=True):
        state = path / "state.json"
        if state.is_file():
            s = json.loads(state.read_text())
            if s.get("config_key") == config_key and not s.get("finished"):
                return path
    return None
