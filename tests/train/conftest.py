"""Tiny mined sets for the training tests (hand-written rows; training runs a few steps on CPU)."""

from __future__ import annotations

import pandas as pd
import pytest

from ragkit.train.mining import MinedSet

_ROWS = [
    ("what do solar panels make", "Solar panels make electricity from sunlight.", "Wind farms are built offshore.", "Bread needs flour."),
    ("how do bees make honey", "Bees make honey from flower nectar.", "Wasps build paper nests.", "Rivers flow to the sea."),
    ("why is the sky blue", "Air scatters blue light more than red light.", "Sunsets look red and orange.", "Cats sleep a lot."),
    ("what melts ice", "Heat and salt both melt ice.", "Ice floats on water.", "Trains run on rails."),
    ("who wrote hamlet", "Hamlet was written by William Shakespeare.", "Macbeth is set in Scotland.", "Tea grows in India."),
    ("what do cows eat", "Cows mostly eat grass and hay.", "Horses can sleep standing up.", "Glass is made from sand."),
    ("how fast is light", "Light travels at about 300,000 km per second.", "Sound is slower in air.", "Maps show roads."),
    ("what is rust", "Rust is iron oxide formed by oxidation.", "Steel is an alloy of iron.", "Owls hunt at night."),
]


def tiny_mined_set() -> MinedSet:
    """Eight hand-written (question, positive, 2 negatives) rows."""
    frame = pd.DataFrame(_ROWS, columns=["anchor", "positive", "negative_1", "negative_2"])
    frame["query_id"] = [f"q{i}" for i in range(len(frame))]
    return MinedSet(frame, n_negatives=2, stats={"rows": len(frame)})


@pytest.fixture(scope="session")
def tiny_mined() -> MinedSet:
    return tiny_mined_set()
