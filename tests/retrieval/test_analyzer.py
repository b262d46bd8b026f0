from __future__ import annotations

import pickle

import pytest

from ragkit.retrieval.analyzer import ENGLISH_STOPWORDS, Analyzer

RAW = Analyzer(stopwords=False, stem=False)


def test_lowercases_and_splits_on_non_word_characters():
    assert RAW.analyze("Hello, World! LF-ERR-4012 (v2.3)") == ["hello", "world", "lf", "err", "4012", "v2", "3"]


def test_unicode_words_are_kept_whole():
    assert RAW.analyze("Café Ünïcode 東京 naïve") == ["café", "ünïcode", "東京", "naïve"]


def test_identifiers_keep_the_whole_token_then_the_parts():
    assert RAW.analyze("flow.retry.max_backoff_ms") == ["flow", "retry", "max_backoff_ms", "max", "backoff", "ms"]
    assert RAW.analyze("_private __x__") == ["_private", "private", "__x__", "x"]
    assert RAW.analyze("___") == ["___"]
    whole_only = Analyzer(stopwords=False, stem=False, split_identifiers=False)
    assert whole_only.analyze("max_backoff_ms") == ["max_backoff_ms"]


def test_stopwords_are_lucenes_english_set_and_apply_to_identifier_parts():
    assert len(ENGLISH_STOPWORDS) == 33 and "not" in ENGLISH_STOPWORDS
    a = Analyzer(stopwords=True, stem=False)
    assert a.analyze("The cat is on the mat") == ["cat", "mat"]
    assert a.analyze("get_by_id") == ["get_by_id", "get", "id"]


def test_stemming_is_snowball_english_and_leaves_codes_alone():
    a = Analyzer(stopwords=False, stem=True)
    assert a.analyze("running runs ran retries") == ["run", "run", "ran", "retri"]
    assert a.analyze("max_backoff_ms covid19 4012") == ["max_backoff_ms", "max", "backoff", "ms", "covid19", "4012"]


def test_stemming_is_the_same_with_a_warm_cache():
    a = Analyzer()
    text = "Generalizations of organizational theories"
    assert a.analyze(text) == a.analyze(text) == ["general", "organiz", "theori"]


def test_analyze_many_and_empty_text():
    a = Analyzer()
    assert a.analyze_many(["Cats chasing mice", "", "  ...  "]) == [["cat", "chase", "mice"], [], []]
    assert a.analyze_many([]) == []


def test_is_a_frozen_picklable_value():
    a = Analyzer(stopwords=False)
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError):
        a.stem = False  # type: ignore[misc]
