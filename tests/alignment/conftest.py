"""Shared fixtures for the alignment tests."""

from __future__ import annotations

import pytest
import torch

from haetae.alignment.launch_smoke import CORPUS, tiny_policy


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a module on one torch thread: on 2 shared cores, oversubscribed threads make tiny models ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="package")
def legal_tokenizer(tmp_path_factory):
    """A 2,048-token tokenizer trained on the bundled Constitution of Korea (the tiny config's vocabulary)."""
    from haetae.alignment.tokenizer import train_tokenizer

    return train_tokenizer([CORPUS], 2048, tmp_path_factory.mktemp("legal_tok"))


@pytest.fixture(scope="package")
def legal_prompts() -> list[str]:
    """Short prompts: the opening characters of the Constitution's longer lines."""
    lines = [
        line.strip() for line in CORPUS.read_text(encoding="utf-8").splitlines() if len(line.strip()) > 20
    ]
    return [line[:12] for line in lines[:32]]


@pytest.fixture
def make_policy(legal_tokenizer):
    """Factory of fresh tiny policies (seeded) for the trainer tests."""
    return lambda seed=0: tiny_policy(legal_tokenizer, seed)
