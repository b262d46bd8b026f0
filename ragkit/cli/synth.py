"""``ragkit synth``: write a synthetic question set from a corpus and print the gate summary."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ragkit.errors import ConfigError, RagkitError

TOPIC_NEAR_K = 5  # --topics: chunks per weak-topic question (questions.synthetic.target.near_k overrides)


def synth(config: str | None, output: str | None, flags: dict, overrides: list[str]):
    """Generate the set described by ``config`` (an experiment YAML; its ``questions.synthetic``) and/or flags."""
    from ragkit.experiment.inputs import corpus_key, load_documents
    from ragkit.experiment.spec import load_spec
    from ragkit.synth.config import SynthConfig
    from ragkit.synth.generate import synthesize

    if config is None and not flags.get("corpus") and flags.get("run"):
        config = str(Path(flags["run"]) / "config.yaml")  # --topics weakest:N --run RUN: that run's corpus
    if config is None and not flags.get("corpus"):
        raise ConfigError("give a config file (ragkit synth CONFIG.yaml) or --corpus PATH")
    source = config or {"name": "synth", "corpus": {"path": flags["corpus"], "format": flags["format"] or "folder"}}
    sets = [f"corpus.{k}={flags[k]}" for k in ("format",) if config and flags.get(k)]
    if config and flags.get("corpus"):
        sets.append(f"corpus.path={flags['corpus']}")
    llm = {k: v for k, v in (("name", flags.get("backend")), ("model", flags.get("model")), ("base_url", flags.get("base_url"))) if v}
    sets += [f"questions.synthetic.{k}={v}" for k, v in (("n", flags.get("n")), ("seed", flags.get("seed"))) if v is not None]
    sets += [f"questions.synthetic.llm.{k}={v}" for k, v in llm.items()]
    spec = load_spec(source, [*sets, *overrides])
    cfg = spec.questions.synthetic or SynthConfig()
    if cfg.path:
        raise ConfigError("questions.synthetic.path names an existing set; ragkit synth writes a new one (remove path)")
    if flags.get("topics"):  # close the loop: write questions from the chunks nearest to a run's weakest topics
        from ragkit.topics.target import parse_selector, weakest_topic_questions

        if not flags.get("run"):
            raise ConfigError("--topics needs --run RUN_DIR (a run folder with topics.parquet)")
        near = weakest_topic_questions(flags["run"], parse_selector(flags["topics"]))
        # a topic has many questions: a few nearest chunks each keep the sample on the topic
        near_k = cfg.target.near_k if "near_k" in cfg.target.model_fields_set else TOPIC_NEAR_K
        cfg = cfg.model_copy(update={"target": cfg.target.model_copy(update={"near": near, "near_k": near_k})})
    docs = load_documents(spec)
    # default folder: the cache entry `ragkit run` / `ragkit agreement` use for this corpus + config
    return synthesize(docs, cfg, Path(output) if output else None, corpus_key=corpus_key(docs), base_dir=spec.base_dir)


def synth_command(
    config: Optional[Path] = typer.Argument(None, help="Experiment YAML whose questions.synthetic block configures the generator."),
    corpus: Optional[str] = typer.Option(None, "--corpus", help="Corpus path (instead of, or overriding, the config's)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Corpus format: folder | jsonl | beir."),
    n: Optional[int] = typer.Option(None, "-n", "--n", help="Questions to keep after the gates."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Set folder (default: the cache entry that `ragkit run` on the same config reuses); rerun to resume."),
    backend: Optional[str] = typer.Option(None, "--backend", help="LLM backend: transformers | openai."),
    model: Optional[str] = typer.Option(None, "--model", help="LLM: 'default' (bundled SmolLM2), hub name, folder, .gguf, or the served model name."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed (same seed, same questions)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a config value, e.g. questions.synthetic.gates.max_leakage=0.6."),
    topics: Optional[str] = typer.Option(None, "--topics", help="weakest:N = write from the chunks nearest to the questions of the N weakest topics of --run (5 per question; content gaps skipped: they need documents)."),
    run: Optional[str] = typer.Option(None, "--run", help="Run folder with topics.parquet (ragkit run / ragkit monitor); its corpus by default."),
) -> None:
    """Generate synthetic questions (with span qrels) from a corpus, gate them, and print the gate summary."""
    from ragkit.cli.main import _setup_logging
    from ragkit.synth.summary import print_gates

    _setup_logging(False)
    flags = {"corpus": corpus, "format": fmt, "n": n, "backend": backend, "model": model, "base_url": base_url, "seed": seed,
             "topics": topics, "run": run}
    try:
        result = synth(str(config) if config else None, output, flags, list(set_ or ()))
    except RagkitError as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    print_gates(result.gates)
    typer.echo(f"synthetic set: {result.path} ({len(result.queries)} questions)")
