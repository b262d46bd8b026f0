"""Exceptions raised by ragkit. Each message says what was received, what is allowed, and the fix."""

from __future__ import annotations


class RagkitError(Exception):
    """Base class of every error ragkit raises on purpose."""


class ConfigError(RagkitError, ValueError):
    """A configuration value is missing, unknown or of the wrong type."""


class DataValidationError(RagkitError, ValueError):
    """Input data (documents, questions, qrels) is malformed; the message names file and line."""


class MissingDependencyError(RagkitError, ImportError):
    """An optional dependency is not installed; the message gives the pip command."""
