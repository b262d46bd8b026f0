"""ragkit: evidence for the retrieval half of RAG systems.

``import ragkit`` is light: torch, sentence-transformers and LanceDB load only when a
component that needs them runs.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "run", "validate"]


def run(config: Any, **kwargs: Any):
    """Run an experiment (a YAML path, a dict or an ExperimentSpec); see :func:`ragkit.experiment.runner.run`."""
    from ragkit.experiment.runner import run as _run

    return _run(config, **kwargs)


def validate(config: Any, overrides: tuple[str, ...] = ()):
    """Validate an experiment without running it; raises ConfigError listing every problem."""
    from ragkit.experiment.spec import ExperimentSpec, load_spec
    from ragkit.experiment.validate import validate_experiment

    spec = config if isinstance(config, ExperimentSpec) else load_spec(config, overrides)
    return validate_experiment(spec)
