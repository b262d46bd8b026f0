"""``ragkit classify``: the topic of new questions, from a run's topic classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragkit.errors import ConfigError, RagkitError


def _read_questions(questions: list[str], file: Optional[Path]) -> list[str]:
    texts = list(questions)
    if file is not None:
        from ragkit.data.jsonl import load_queries_jsonl

        if str(file).endswith((".jsonl", ".jsonl.gz")):
            texts += [q.text for q in load_queries_jsonl(file)]
        else:
            texts += [line.strip() for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ConfigError('give questions as arguments (ragkit classify MODEL_DIR "question" ...) or --file PATH')
    return texts


def classify_command(
    model_dir: Path = typer.Argument(
        ..., help="A run folder (its classifier is fitted on first use) or a topic_classifier/ folder."
    ),
    questions: Optional[list[str]] = typer.Argument(None, help="Questions to classify."),
    file: Optional[Path] = typer.Option(
        None, "--file", "-f", help="More questions: a .jsonl query file or a text file, one per line."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines {text, topic, label, gap} instead of a table."),
    features: str = typer.Option(
        "static", "--features", help="When fitting from a run: static (fast, no transformer) | encoder (closest to BERTopic)."
    ),
) -> None:
    """Predict the topic of each question with a fitted topic classifier (no transformer needed)."""
    import json

    from ragkit.topics.classifier import QuestionClassifier

    try:
        texts = _read_questions(questions or [], file)
        clf = QuestionClassifier.open(model_dir, features=features)
    except RagkitError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    topics = clf.predict(texts)
    gaps = {int(t["topic"]): str(t.get("gap", "")) for t in clf.topics}
    if as_json:
        for t, k in zip(texts, topics):
            typer.echo(json.dumps({"text": t, "topic": k, "label": clf.label(k), "gap": gaps.get(k, "")}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("question", "topic", "label", "gap", pad_edge=False)
    for t, k in zip(texts, topics):
        table.add_row(t, str(k), clf.label(k), gaps.get(k, ""))
    Console().print(table)
