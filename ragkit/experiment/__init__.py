"""Experiments: config schema, grid, validation, cached runner, run folders."""
