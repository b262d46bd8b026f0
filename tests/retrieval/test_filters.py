from __future__ import annotations

import datetime as dt

import pytest

from ragkit.errors import ConfigError
from ragkit.retrieval.filters import compile_filter, filter_mask

META = [
    {"department": "Finance", "tags": ["billing", "pricing"], "last_modified": "2024-05-01", "version": 3},
    {"department": "Engineering", "tags": ["deploy"], "last_modified": "2025-02-10T09:00:00", "version": 10},
    {"department": "Finance", "last_modified": "2023-12-31", "version": "n/a"},
    {"tags": []},
]


@pytest.mark.parametrize(
    "where, expected",
    [
        (None, None),
        ({"department": "Finance"}, [1, 0, 1, 0]),
        ({"department": {"ne": "Finance"}}, [0, 1, 0, 1]),
        ({"tags": {"in": ["pricing", "deploy"]}}, [1, 1, 0, 0]),
        ({"tags": "billing"}, [1, 0, 0, 0]),
        ({"department": {"nin": ["Finance"]}}, [0, 1, 0, 1]),
        ({"last_modified": {"gte": dt.date(2024, 1, 1), "lt": "2025-12-31"}}, [1, 1, 0, 0]),
        ({"last_modified": {"gte": "2025-02-10"}}, [0, 1, 0, 0]),
        ({"version": {"gt": 5}}, [0, 1, 0, 0]),  # "n/a" > 5 is a type mismatch: no match, no crash
        ({"department": "Finance", "version": {"lte": 3}}, [1, 0, 0, 0]),
    ],
)
def test_filter_golden(where, expected):
    mask = filter_mask(where, META)
    assert (mask is None and expected is None) or mask.astype(int).tolist() == expected


def test_filter_errors_name_field_and_operator():
    with pytest.raises(ConfigError, match=r"where.version: unknown operator 'gtx'; allowed: eq, ne"):
        compile_filter({"version": {"gtx": 1}})
    with pytest.raises(ConfigError, match=r"where.tags.in: expected a list"):
        compile_filter({"tags": {"in": "x"}})
