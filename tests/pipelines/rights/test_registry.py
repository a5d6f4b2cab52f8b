"""The protected-works registry: shingle hashing, the split block Bloom filter, the file and the commands.

The "protected" works here are paragraphs of the bundled Constitution (public legal text); the documents
checked against them are copies, edited copies and other paragraphs of the bundled bills.
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path

import numpy as np
import pytest

from haetae.cli import main
from haetae.pipelines.dedup.minhash import shingle_text
from haetae.pipelines.rights import registry as R
from haetae.pipelines.rights.registry import (
    Registry,
    RegistryBuilder,
    RegistryError,
    SplitBlockBloom,
    blocks_for,
    expected_fpr,
    window_hashes,
)

DATA = Path(__file__).resolve().parents[3] / "pipelines" / "data" / "legal"


def _paragraphs(text: str, lo: int = 300) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n(?=제\d+조)", text) if len(p.strip()) >= lo]


@pytest.fixture(scope="module")
def works() -> list[str]:
    return _paragraphs((DATA / "ko_constitution.txt").read_text(encoding="utf-8"), lo=150)[:40]


@pytest.fixture(scope="module")
def others() -> list[str]:
    """400-character pieces of the bills (their lines are wrapped, so whitespace is collapsed first)."""
    bills = " ".join(" ".join(Path(p).read_text(encoding="utf-8").split())
                     for p in sorted(glob.glob(str(DATA / "ko_bills/*.txt"))))
    return [bills[i:i + 400] for i in range(0, min(len(bills), 400 * 60) - 399, 400)]


@pytest.fixture(scope="module")
def registry(works: list[str]) -> Registry:
    builder = RegistryBuilder(fpr=0.001)
    for w in works:
        builder.add_text(w)
    return builder.build()


def _naive(units: list[int], n: int, seed: int) -> list[int]:
    out = []
    for i in range(len(units) - n + 1):
        h = 0
        for u in units[i:i + n]:
            h = (h * 0x100000001B3 + u) % 2**64
        out.append(h ^ seed)
    return R._fmix64(np.array(out, dtype=np.uint64)).tolist() if out else []


@pytest.mark.parametrize("n", [1, 2, 3, 7, 13, 50, 64, 100])
def test_window_hash_is_the_polynomial(n: int) -> None:
    units = np.random.default_rng(n).integers(1, 0xAC00 + 11172, 120).tolist()
    assert window_hashes(np.array(units), n, seed=12345).tolist() == _naive(units, n, 12345)


def test_window_hash_short_input() -> None:
    assert len(window_hashes(np.arange(1, 10), 50)) == 0
    assert len(R.shingle_hashes("짧은 글", n=50)) == 0


def test_sizing_meets_the_target() -> None:
    for keys, fpr in [(1, 0.5), (1000, 0.01), (123_456, 0.001), (10_000_000, 1e-4)]:
        blocks = blocks_for(keys, fpr)
        assert expected_fpr(keys, blocks) <= fpr
        assert blocks == 1 or expected_fpr(keys, blocks - 1) > fpr
    assert 16 < blocks_for(1_000_000, 0.001) * 256 / 1_000_000 < 17.5  # bits per shingle at 0.1 %
    with pytest.raises(ValueError):
        blocks_for(10, 0.0)


@pytest.mark.parametrize("fpr", [0.05, 0.01, 0.001])
def test_measured_false_positive_rate(fpr: float) -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64)
    bloom = SplitBlockBloom.empty(blocks_for(len(keys), fpr))
    bloom.add(keys)
    assert bloom.contains(keys).all()  # no false negatives
    queries = rng.integers(0, 2**64 - 1, 1_000_000, dtype=np.uint64)
    measured = bloom.contains(queries).mean()
    sigma = (fpr * (1 - fpr) / len(queries)) ** 0.5
    # one filter's rate varies around the expectation with its block loads (a few % of it at 1.4k blocks)
    assert abs(measured - expected_fpr(len(keys), bloom.blocks)) < 0.05 * fpr + 5 * sigma


def test_copy_unrelated_and_near_copies(registry: Registry, works: list[str], others: list[str]) -> None:
    for w in works:
        assert registry.fraction(w) == 1.0
        # spacing, punctuation and case do not hide a copy
        assert registry.fraction(re.sub(r"\s+", "  ", w).replace(".", " . ").upper()) == 1.0
    unrelated = [registry.fraction(o) for o in others]
    assert max(unrelated) <= 0.01
    total = sum(registry.match(o).shingles for o in others)
    assert total > 10_000 and sum(registry.match(o).found for o in others) / total <= 0.004

    rng = np.random.default_rng(3)
    for w in works[:10]:
        words = w.split()
        edited = [("가나다" if rng.random() < 0.05 else x) for x in words]  # 5 % of the words replaced
        near = registry.fraction(" ".join(edited))
        assert 0.2 < near < 0.95, near
    for w in [w for w in works if len(w) >= 400][:10]:
        filler = " ".join(others)[: len(w) // 2]
        half = w[: len(w) // 2] + " " + filler  # half copied, half another text
        assert 0.3 < registry.fraction(half) < 0.6


def test_round_trip_and_no_raw_text(tmp_path: Path, registry: Registry, works: list[str]) -> None:
    path = tmp_path / "works.reg"
    size = registry.save(path)
    assert size == path.stat().st_size
    loaded = Registry.load(path)
    assert loaded.header == registry.header
    assert np.array_equal(np.asarray(loaded.bloom.words), registry.bloom.words)
    for w in works[:5]:
        assert loaded.match(w) == registry.match(w)
    header = loaded.header
    assert header["documents"] == len(works) and header["shingles"] <= header["windows"]
    assert header["fpr_expected"] <= 0.001
    raw = path.read_bytes()
    for w in works:
        for word in set(re.findall(r"[가-힣]{2,}", w)) | {shingle_text(w)[:8]}:
            assert word.encode("utf-8") not in raw, word
    assert raw.startswith(R.MAGIC)


def test_capacity_mode_and_word_unit(works: list[str], others: list[str]) -> None:
    b = RegistryBuilder(fpr=0.001, capacity=20_000)
    for w in works:
        b.add_text(w)
    reg = b.build()
    assert reg.header["capacity"] == 20_000 and all(reg.fraction(w) == 1.0 for w in works)

    wb = RegistryBuilder(unit="word")
    for w in works:
        wb.add_text(w)
    words = wb.build()
    assert words.ngram == 13 and words.fraction(works[0]) == 1.0 and words.fraction(others[0]) < 0.01


def test_damaged_files(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "r.reg"
    registry.save(path)
    (tmp_path / "short.reg").write_bytes(path.read_bytes()[:-4])
    (tmp_path / "text.reg").write_text("not a registry")
    for name, message in [("short.reg", "truncated"), ("text.reg", "not a haetae registry"),
                          ("missing.reg", "no such registry")]:
        with pytest.raises(RegistryError, match=message):
            Registry.load(tmp_path / name)


def test_commands(tmp_path: Path, works: list[str], others: list[str], capsys) -> None:
    src = tmp_path / "works"
    src.mkdir()
    (src / "a.txt").write_text(works[0], encoding="utf-8")
    with open(src / "b.jsonl", "w", encoding="utf-8") as fh:
        for w in works[1:]:
            fh.write(json.dumps({"text": w}, ensure_ascii=False) + "\n")
    reg = tmp_path / "works.reg"
    assert main(["registry", "build", str(src), "--out", str(reg), "--fpr", "0.001"]) == 0
    docs = tmp_path / "docs.jsonl"
    with open(docs, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "copy", "text": works[3]}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "other", "text": others[2]}, ensure_ascii=False) + "\n")
        fh.write("{not json\n")
        fh.write(json.dumps({"id": 7, "text": None}) + "\n")
        fh.write("\n")
        fh.write(json.dumps({"id": "short", "text": "짧은 글"}, ensure_ascii=False) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["registry", "check", str(reg), str(docs), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["copy", "other", None, 7, "short"]
    assert rows[0]["registry_fraction"] == 1.0 and rows[0]["found"] == rows[0]["shingles"] > 0
    assert rows[1]["registry_fraction"] < 0.01
    assert rows[2]["line"] == 3 and "not JSON" in rows[2]["error"]
    assert rows[3]["line"] == 4 and "not a string" in rows[3]["error"]
    assert rows[4] == {"id": "short", "registry_fraction": 0.0, "shingles": 0, "found": 0}
    assert main(["registry", "info", str(reg)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["documents"] == len(works) and info["unit"] == "char" and info["ngram"] == 50

    (tmp_path / "bad.reg").write_text("nope")
    assert main(["registry", "check", str(tmp_path / "bad.reg"), str(docs), "--out", str(out)]) == 2
    assert main(["registry", "build", str(tmp_path / "missing"), "--out", str(reg)]) == 2
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    assert main(["registry", "build", str(tmp_path / "latin1.txt"), "--out", str(reg)]) == 2
    err = capsys.readouterr().err
    assert "latin1.txt: not UTF-8" in err and "missing: no such file" in err
