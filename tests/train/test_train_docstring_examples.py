"""The examples in the train docstrings run and give what they show (model-loading ones are skipped)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["mining", "evaluate", "data", "reranker", "spec"])
def test_docstring_examples(name):
    module = importlib.import_module(f"ragkit.train.{name}")
    globs = {**vars(module)}
    if name == "data":
        from ragkit.data.types import Qrels, Query

        globs.update(Query=Query, Qrels=Qrels)
    result = doctest.testmod(module, globs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
