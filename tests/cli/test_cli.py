from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragkit.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.mark.parametrize("cmd", [[], ["run"], ["validate"], ["chunks"], ["compare"], ["version"]])
def test_every_command_has_help(cmd):
    res = runner.invoke(app, [*cmd, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output


def test_validate_quickstart_ok():
    res = runner.invoke(app, ["validate", str(ROOT / "experiments" / "quickstart.yaml")])
    assert res.exit_code == 0, res.output
    assert "3 chunker(s) x 4 retriever(s) x 2 rerank option(s) = 24 configurations" in res.output


def test_validate_reports_bad_override_and_exits_2():
    res = runner.invoke(app, ["validate", str(ROOT / "experiments" / "quickstart.yaml"), "--set", "retrievers.bm25.name=bm52"])
    assert res.exit_code == 2
    assert "unknown retriever 'bm52'" in res.output and "Did you mean 'bm25'" in res.output


def test_chunks_reports_overlong(embedder):
    res = runner.invoke(app, ["chunks", str(ROOT / "experiments" / "quickstart.yaml")])
    assert res.exit_code == 0, res.output
    assert "tokens" in res.output and "0 (> 256 tokens)" in res.output  # token windows fit the model exactly
