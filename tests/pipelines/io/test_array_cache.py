"""Per-machine cache of built arrays: built once, memory-mapped after, rebuilt when it cannot be used."""

from __future__ import annotations

import numpy as np
import pytest

from haetae.pipelines.io.array_cache import cache_key, cached_arrays


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
    from haetae.pipelines.detectors.language import LanguageIdentifier

    fresh, cached = LanguageIdentifier(), LanguageIdentifier()  # the second one reads the cache
    assert any(cache.glob("py3langid-*/arrays.txt"))
    for text in ("The quick brown fox jumps over the lazy dog.", "Der schnelle braune Fuchs springt.",
                 "El rápido zorro marrón salta.", "Con cáo nâu nhanh nhẹn nhảy qua."):
        assert np.array_equal(fresh._langid._decide(text), cached._langid._decide(text))
        assert fresh.detect(text) == cached.detect(text)


def damage(path, at_from_end: int = 1) -> None:
    """Flip one byte of a file's contents (not its header): sizes and headers still read fine."""
    data = bytearray(path.read_bytes())
    data[-at_from_end] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verified_arrays_with_damaged_contents_are_rebuilt(cache):
    calls = []
    cached_arrays("t", "k", counting_build(calls), verify=True)
    damage(cache / "t-k" / "table.npy")
    unverified = cached_arrays("t", "k", counting_build(calls))  # without verify the damage goes unseen ...
    assert unverified["table"].tolist() != list(range(10)) and len(calls) == 1
    assert cached_arrays("t", "k", counting_build(calls), verify=True)["table"].tolist() == list(range(10))
    assert len(calls) == 2  # ... with it, the folder is rebuilt once
    again = cached_arrays("t", "k", counting_build(calls), verify=True)
    assert again["table"].tolist() == list(range(10)) and isinstance(again["table"], np.memmap) and len(calls) == 2


def test_verified_read_of_a_folder_without_checksums_rebuilds_it(cache):
    calls = []
    cached_arrays("t", "k", counting_build(calls))  # written without checksums
    assert cached_arrays("t", "k", counting_build(calls), verify=True)["table"].tolist() == list(range(10))
    cached_arrays("t", "k", counting_build(calls), verify=True)
    assert len(calls) == 2


@pytest.fixture(scope="module")
def fresh_licence_index():
    from haetae.pipelines.rights.licences import LicenceIndex

    return LicenceIndex(cache=False)


def same_index(a, b) -> bool:
    """Every field equal: arrays by value and dtype, the rest (vocabulary, names, phrases) by value."""
    def same(x, y) -> bool:
        if isinstance(x, np.ndarray):
            return isinstance(y, np.ndarray) and x.dtype == y.dtype and np.array_equal(x, y)
        return type(x) is type(y) and x == y

    return sorted(vars(a)) == sorted(vars(b)) and all(same(getattr(a, f), getattr(b, f)) for f in vars(a))


def test_licence_index_from_the_cache_equals_a_fresh_build(cache, fresh_licence_index):
    from haetae.pipelines.rights.licences import LicenceIndex, detect_licences, find_matches

    first, cached = LicenceIndex(), LicenceIndex()  # the first writes the cache, the second reads it
    assert len(list(cache.glob("licence-index-*/sha256.txt"))) == 1
    assert same_index(first, fresh_licence_index) and same_index(cached, fresh_licence_index)
    for text in ("Licensed under the Apache License, Version 2.0", "SPDX-License-Identifier: MIT OR ISC",
                 "This program is free software; you can redistribute it and/or modify it under the terms of the "
                 "GNU General Public License as published by the Free Software Foundation; either version 2 of "
                 "the License, or (at your option) any later version.", "공공누리 제1유형", "no licence here"):
        assert detect_licences(text, cached) == detect_licences(text, fresh_licence_index)
        assert find_matches(text, cached) == find_matches(text, fresh_licence_index)


def test_damaged_licence_cache_is_rebuilt_not_used(cache, fresh_licence_index):
    from haetae.pipelines.rights.licences import LicenceIndex

    LicenceIndex()
    folder = next(cache.glob("licence-index-*"))
    damage(folder / "post_hashes.npy", at_from_end=100)
    assert same_index(LicenceIndex(), fresh_licence_index)  # rebuilt ...
    assert same_index(LicenceIndex(), fresh_licence_index)  # ... and the repaired folder is read
    (folder / "short_ok.npy").unlink()
    assert same_index(LicenceIndex(), fresh_licence_index)
    assert [p.name for p in cache.iterdir()] == [folder.name]


def test_licence_cache_key_follows_the_data(tmp_path):
    from haetae.pipelines.rights.licences import DATA_FILE, index_cache_key

    copy = tmp_path / "licensedcode.npz"
    copy.write_bytes(DATA_FILE.read_bytes())
    assert index_cache_key(copy) == index_cache_key(DATA_FILE)
    with np.load(DATA_FILE) as data:
        arrays = dict(data)
    arrays["starts"] = arrays["starts"].copy()
    arrays["starts"][-1] -= 1  # the last reference text one token shorter
    np.savez_compressed(copy, **arrays)
    assert index_cache_key(copy) != index_cache_key(DATA_FILE)
