"""Shared fixtures: an isolated cache dir for the whole session, paths to shipped and benchmark data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ACME = ROOT / "datasets" / "acme"
BENCHDATA = ROOT.parent / "shared" / "benchdata"

# Every test shares one temporary embedding cache, never the user's ~/.cache/ragkit.
_SESSION_CACHE = Path(os.environ.setdefault("RAGKIT_CACHE_DIR", str(Path(__import__("tempfile").mkdtemp(prefix="ragkit-test-cache-")))))
os.environ.setdefault("RAGKIT_DISABLE_TQDM", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def embedder():
    """The shared bundled all-MiniLM-L6-v2 on CPU (loaded once per test session)."""
    from ragkit.core.models import get_embedder

    return get_embedder("default", device="cpu")


@pytest.fixture(scope="session")
def acme_dir() -> Path:
    return ACME


def _benchdata(name: str) -> Path:
    path = BENCHDATA / name
    if not (path / "qrels").is_dir():
        pytest.skip(f"benchmark data '{name}' not found at {path} (it lives in the developers' shared/ folder)")
    return path


@pytest.fixture(scope="session")
def benchdata():
    """``benchdata(name)``: path of a BEIR dataset in ../shared/benchdata, or skip the test with the reason."""
    return _benchdata
