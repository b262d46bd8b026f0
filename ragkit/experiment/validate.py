"""Check a whole experiment before anything expensive runs, reporting every problem at once.

Resolves every component name through its registry (with did-you-mean), validates
every expanded component config, parses every metric, checks that files exist and
that the device is available. Loading data (queries/qrels overlap) is checked by
the runner right after loading, before any model or index is built.
"""

from __future__ import annotations

from pydantic import ValidationError

from ragkit.errors import ConfigError, did_you_mean
from ragkit.experiment.grid import ComponentSpec, Grid, expand_components
from ragkit.experiment.spec import ExperimentSpec
from ragkit.registry import CHUNKERS, RERANKERS, RETRIEVERS, Registry, format_validation_error


def _check_components(field: str, specs: list[dict], registry: Registry, problems: list[str]) -> list[ComponentSpec]:
    out: list[ComponentSpec] = []
    for i, spec in enumerate(specs):
        try:
            concrete = expand_components([spec], registry)
        except ConfigError as err:
            problems.append(f"{field}[{i}]: {err}")
            continue
        for cs in concrete:
            try:
                cfg = registry.get(cs.name).Config(**cs.params)
            except ValidationError as err:
                problems += [f"{field}[{i}] ({cs.name}).{line}" for line in format_validation_error(err)]
            except ConfigError as err:
                problems.append(f"{field}[{i}] ({cs.name}): {err}")
            else:
                out.append(cs)
                # a hybrid's sub-retrievers are components too: check their names and params now
                subs = [{"name": s.name, **s.params} for s in getattr(cfg, "retrievers", None) or [] if hasattr(s, "params")]
                if subs:
                    _check_components(f"{field}[{i}].retrievers", subs, RETRIEVERS, problems)
    return out


def _check_paths(spec: ExperimentSpec, problems: list[str]) -> None:
    corpus = spec.resolve(spec.corpus.path)
    if corpus is not None and not corpus.exists():
        problems.append(f"corpus.path: '{spec.corpus.path}' does not exist (resolved to {corpus})")
    q = spec.questions
    for fld in ("path", "qrels"):
        value = getattr(q, fld)
        if value is not None and not spec.resolve(value).exists():
            problems.append(f"questions.{fld}: '{value}' does not exist (resolved to {spec.resolve(value)})")
    if spec.corpus.format != "beir" and q.qrels is not None and q.path is None:
        problems.append("questions: 'qrels' needs 'path' (the questions they label); 'path' alone means unlabelled questions")


def _check_metrics(spec: ExperimentSpec, problems: list[str]) -> None:
    from ragkit.metrics.ir import validate_metrics

    try:
        validate_metrics(spec.metric_names())
    except ConfigError as err:
        problems.append(f"metrics: {err}")
    level, _, metric = spec.primary.rpartition(":")
    if level not in spec.levels or metric not in spec.metric_names():
        problems.append(
            f"primary: '{spec.primary}' is not computed; use LEVEL:METRIC@K from levels {spec.levels} "
            f"and metrics {spec.metric_names()[:4]}..., e.g. '{spec.levels[0] if spec.levels else 'doc'}:{spec.metric_names()[0]}'"
        )


def _rerankers(spec: ExperimentSpec, problems: list[str]) -> list[ComponentSpec | None]:
    if not spec.rerankers:
        return [None]
    real = [r for r in spec.rerankers if r.get("name") != "none"]
    out: list[ComponentSpec | None] = [None] if len(real) < len(spec.rerankers) else []
    return out + _check_components("rerankers", real, RERANKERS, problems)


def _check_config_name(problems: list[str], field: str, value: str | None, names: list[str], extra: str) -> None:
    """A field that names one configuration of the grid (``chunker | retriever [| reranker]``)."""
    if value is None or not names or value in names or (extra and value == "best"):
        return
    listed = f"{', '.join(names[:6])}{' ...' if len(names) > 6 else ''}"
    problems.append(f"{field}: '{value}' is not a configuration of this grid; use {extra}one of: {listed}.{did_you_mean(value, names)}")


def validate_experiment(spec: ExperimentSpec) -> Grid:
    """The expanded grid of a valid experiment; ConfigError listing every problem otherwise."""
    problems: list[str] = []
    chunkers = _check_components("chunkers", spec.chunkers, CHUNKERS, problems)
    retrievers = _check_components("retrievers", spec.retrievers, RETRIEVERS, problems)
    rerankers = _rerankers(spec, problems)
    _check_paths(spec, problems)
    _check_metrics(spec, problems)
    try:
        from ragkit.core.runtime import resolve_device

        resolve_device(spec.device)
    except ConfigError as err:
        problems.append(f"device: {err}")
    grid = Grid(chunkers, retrievers, rerankers)
    names = [c.name for c in grid.cells()] if not problems else []
    _check_config_name(problems, "topics.config", spec.topics.config, names, "'best' or ")
    _check_config_name(problems, "report.baseline", spec.report.baseline, names, "")
    if problems:
        raise ConfigError(f"{len(problems)} problem(s) in experiment '{spec.name}':\n  " + "\n  ".join(problems))
    return grid
