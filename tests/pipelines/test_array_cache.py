"""Per-machine cache of built arrays: built once, memory-mapped after, rebuilt when it cannot be used."""

from __future__ import annotations

import numpy as np
import pytest

from haetae.pipelines.array_cache import cache_key, cached_arrays


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HAETAE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def counting_build(calls):
    def build():
        calls.append(1)
        return {"table": np.arange(10, dtype=np.uint8), "names": np.array(["ko", "en"])}
    return build


def test_arrays_are_built_once_then_memory_mapped(cache):
    calls = []
    first = cached_arrays("t", cache_key("v1"), counting_build(calls))
    second = cached_arrays("t", cache_key("v1"), counting_build(calls))
    assert len(calls) == 1
    assert isinstance(second["table"], np.memmap) and not second["table"].flags.writeable
    for name in first:
        assert np.array_equal(first[name], second[name]) and first[name].dtype == second[name].dtype
    cached_arrays("t", cache_key("v2"), counting_build(calls))  # another key: built again
    assert len(calls) == 2 and len(list(cache.glob("t-*"))) == 2


def test_an_incomplete_folder_is_rebuilt_and_replaced(cache):
    calls = []
    cached_arrays("t", "k", counting_build(calls))
    (cache / "t-k" / "arrays.txt").unlink()  # as if it had been damaged
    assert cached_arrays("t", "k", counting_build(calls))["table"].tolist() == list(range(10))
    assert cached_arrays("t", "k", counting_build(calls))["table"].tolist() == list(range(10))
    assert len(calls) == 2  # rebuilt once, then read from the repaired folder


def test_an_unwritable_cache_builds_every_time(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("HAETAE_CACHE_DIR", str(blocker / "cache"))
    calls = []
    for _ in range(2):
        assert cached_arrays("t", "k", counting_build(calls))["table"].tolist() == list(range(10))
    assert len(calls) == 2 and blocker.read_text() == "x"


def test_language_model_from_the_cache_scores_like_a_fresh_load(cache):
    from haetae.pipelines.langid import LanguageIdentifier

    fresh, cached = LanguageIdentifier(), LanguageIdentifier()  # the second one reads the cache
    assert any(cache.glob("py3langid-*/arrays.txt"))
    for text in ("The quick brown fox jumps over the lazy dog.", "Der schnelle braune Fuchs springt.",
                 "El rápido zorro marrón salta.", "Con cáo nâu nhanh nhẹn nhảy qua."):
        assert np.array_equal(fresh._langid._decide(text), cached._langid._decide(text))
        assert fresh.detect(text) == cached.detect(text)
