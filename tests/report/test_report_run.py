"""``ragkit run`` ends by writing the report (unless ``report: false``), a failing report never loses the run,
and ``ragkit report`` re-renders any run folder or saved report data."""

from __future__ import annotations

import logging

from hostile_data import write_hostile_inputs
from typer.testing import CliRunner

import ragkit
from ragkit.cli.main import app
from ragkit.report.model import ReportData
from ragkit.report.render import render

cli = CliRunner()


def test_run_writes_report_and_its_data(hostile_run):
    for name in ("report.html", "report_data.json", "questions.parquet", "qrels.parquet", "chunks.parquet"):
        assert (hostile_run / name).is_file(), name
    assert "Leaderboard" in (hostile_run / "report.html").read_text(encoding="utf-8")


def test_report_false_turns_it_off(tmp_path, hostile_run):
    res = ragkit.run({**write_hostile_inputs(tmp_path), "report": False}, show_progress=False)
    assert res.report is None and not (res.run_dir / "report.html").exists()
    assert (res.run_dir / "questions.parquet").is_file()  # the snapshot is part of the run either way


def test_a_failing_report_only_warns(tmp_path, hostile_run, monkeypatch, caplog):
    import ragkit.report

    def broken(run_dir):
        raise RuntimeError("template exploded")

    monkeypatch.setattr(ragkit.report, "write_report", broken)
    with caplog.at_level(logging.WARNING, logger="ragkit"):
        res = ragkit.run(write_hostile_inputs(tmp_path), show_progress=False)
    assert res.report is None and (res.run_dir / "results.parquet").is_file()
    assert "could not write the HTML report (RuntimeError: template exploded)" in caplog.text
    assert "ragkit report" in (res.run_dir / "run.log").read_text()


def test_cli_report(hostile_run, tmp_path):
    out = tmp_path / "r.html"
    configs = ReportData.load(hostile_run / "report_data.json").drilldown["configs"]
    res = cli.invoke(app, ["report", str(hostile_run), "-o", str(out), "--baseline", configs[1]])
    assert res.exit_code == 0, res.output
    assert f"report: {out}" in res.output and (tmp_path / "r.json").is_file()
    assert ReportData.load(tmp_path / "r.json").leaderboard["baseline"] == configs[1]


def test_cli_rerenders_saved_data(hostile_run, tmp_path):
    out = tmp_path / "again.html"
    res = cli.invoke(app, ["report", str(hostile_run / "report_data.json"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text(encoding="utf-8") == render(ReportData.load(hostile_run / "report_data.json"))


def test_cli_report_errors(tmp_path):
    res = cli.invoke(app, ["report", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "does not exist" in res.output
    res = cli.invoke(app, ["report", "--help"])
    assert res.exit_code == 0 and "--include" in res.output


def test_unlabelled_questions_rank_by_top1_cosine(tmp_path, hostile_run):
    from ragkit.report.model import build_report_data

    config = write_hostile_inputs(tmp_path)
    config["questions"].pop("qrels")  # a query log: no labels, only the label-free signals
    res = ragkit.run(config, show_progress=False)
    data = build_report_data(res.run_dir)
    assert data.leaderboard["primary"] == "monitor:top1_cosine" and data.curves is None
    assert data.drilldown["failures"] == [] and data.drilldown["qrels"] == [[], [], [], []]
    assert any(r["test"] for r in data.leaderboard["rows"])  # the paired test runs on the signal itself
    assert "<section id=\"drilldown\">" in (res.run_dir / "report.html").read_text(encoding="utf-8")
