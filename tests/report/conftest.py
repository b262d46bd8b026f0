"""Fixtures: a real run of the hostile corpus (see ``hostile_data``), and a copy with every study file added."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_data import write_hostile_inputs, write_study_files


@pytest.fixture(scope="session")
def hostile_run(tmp_path_factory) -> Path:
    """A finished ``ragkit run`` (BM25 over two chunkers) of the hostile corpus; its report is written by the run."""
    import ragkit

    res = ragkit.run(write_hostile_inputs(tmp_path_factory.mktemp("hostile")), show_progress=False)
    return res.run_dir


@pytest.fixture(scope="session")
def full_run(hostile_run: Path, tmp_path_factory) -> Path:
    """A copy of the hostile run with the study files added and its report re-rendered (every section present)."""
    import pandas as pd

    from ragkit.report import write_report

    run_dir = tmp_path_factory.mktemp("full") / "run"
    shutil.copytree(hostile_run, run_dir)
    config = str(pd.read_parquet(run_dir / "per_query.parquet")["config"].iloc[0])
    ids = [str(q) for q in pd.read_parquet(run_dir / "questions.parquet")["query_id"]]
    write_study_files(run_dir, config, ids)
    write_report(run_dir)
    return run_dir
