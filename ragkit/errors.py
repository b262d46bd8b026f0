"""Exceptions raised by ragkit. Each message says what was received, what is allowed, and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class RagkitError(Exception):
    """Base class of every error ragkit raises on purpose."""


class ConfigError(RagkitError, ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


class DataValidationError(RagkitError, ValueError):
    """Input data (documents, questions, qrels) is malformed; the message names file and line."""


class MissingDependencyError(RagkitError, ImportError):
    """An optional dependency is not installed; the message gives the pip command."""


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest choice, or ``""`` when none is close.

    >>> did_you_mean("bm52", ["bm25", "dense"])
    " Did you mean 'bm25'?"
    """
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
