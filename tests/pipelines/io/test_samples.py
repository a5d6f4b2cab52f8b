"""Sample and benchmark corpora: deterministic, mixed Korean/English, committed demo corpus up to date."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from haetae.pipelines.io.samples import sample_corpus, synthetic_corpus

ROOT = Path(__file__).resolve().parents[3]


def test_synthetic_corpus_is_the_same_in_another_process():
    here = synthetic_corpus(300, seed=3)
    code = ("import json, warnings, logging; logging.captureWarnings(True);"
            "from haetae.pipelines.io.samples import synthetic_corpus;"
            "print(json.dumps(synthetic_corpus(300, seed=3)))")
    there = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                      timeout=120, check=True).stdout)
    assert here == there
    texts = [json.loads(line)["text"] for line in here]
    hangul = sum(any("\uac00" <= ch <= "\ud7a3" for ch in t) for t in texts)
    assert 0.4 < hangul / len(texts) < 0.8
    assert 700 < sum(len(t.encode("utf-8")) for t in texts) / len(texts) < 1600


def test_committed_demo_corpus_matches_its_generator():
    committed = (ROOT / "pipelines" / "data" / "sample_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    assert committed == sample_corpus()
