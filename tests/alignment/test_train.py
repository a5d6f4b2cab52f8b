"""A tiny K-EXAONE (with MTP) trains with attn_implementation="haetae_hybrid" and LoRA on the fused experts.

Data: the bundled Constitution of Korea (public legal text, pipelines/data/legal/PROVENANCE.md), tokenised with a
tokenizer trained here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import haetae.alignment.attention  # noqa: F401  (registers "haetae_hybrid")
from haetae.alignment.configs import get_config
from haetae.alignment.lora import ExaoneLoraConfig, apply_lora
from haetae.alignment.mtp import ExaoneMoeWithMTP
from haetae.alignment.tokenizer import train_tokenizer

CORPUS = Path(__file__).resolve().parents[2] / "pipelines" / "data" / "legal" / "ko_constitution.txt"
SEQ = 48  # three windows of the tiny config (16): sliding layers really slide


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def batches(tmp_path_factory):
    tok = train_tokenizer([CORPUS], 2048, tmp_path_factory.mktemp("tok"))
    ids = tok(CORPUS.read_text(encoding="utf-8"), add_special_tokens=False)["input_ids"]
    chunks = torch.tensor(ids[: len(ids) // SEQ * SEQ]).view(-1, SEQ)
    assert chunks.shape[0] >= 32
    return [chunks[i : i + 8] for i in range(0, 32, 8)]


def build(impl: str) -> ExaoneMoeWithMTP:
    torch.manual_seed(0)
    model = ExaoneMoeWithMTP(get_config("tiny"))
    model.set_attn_implementation(impl)
    return model


def test_haetae_hybrid_matches_eager_with_mtp_loss(batches):
    x = batches[0]
    with torch.no_grad():
        want = build("eager")(input_ids=x, labels=x)
        got = build("haetae_hybrid")(input_ids=x, labels=x)
    torch.testing.assert_close(got.main_loss, want.main_loss, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got.mtp_loss, want.mtp_loss, rtol=1e-5, atol=1e-5)


def test_lora_on_experts_trains_with_haetae_hybrid(batches):
    model = apply_lora(build("haetae_hybrid"), ExaoneLoraConfig(r=8, alpha=16, train_mtp=True))
    assert model.config._attn_implementation == "haetae_hybrid"
    expert_lora = [p for n, p in model.named_parameters() if ".experts." in n and "lora_" in n]
    assert expert_lora and all(p.requires_grad for p in expert_lora)
    before = [p.detach().clone() for p in expert_lora]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    losses, mtp_losses = [], []
    for step in range(16):
        x = batches[step % len(batches)]
        out = model(input_ids=x, labels=x)
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        torch.testing.assert_close(out.loss, out.main_loss + 0.05 * out.mtp_loss)
        losses.append(out.loss.item())
        mtp_losses.append(out.mtp_loss.item())
    # Each 4-step window covers the four batches once: the window means must fall monotonically.
    windows = [sum(losses[i : i + 4]) / 4 for i in range(0, 16, 4)]
    mtp_windows = [sum(mtp_losses[i : i + 4]) / 4 for i in range(0, 16, 4)]
    assert all(b < a for a, b in zip(windows, windows[1:])), losses
    assert all(b < a for a, b in zip(mtp_windows, mtp_windows[1:])), mtp_losses
    assert windows[-1] < windows[0] - 0.15 and mtp_windows[-1] < mtp_windows[0] - 0.2
    assert all(not torch.equal(a, b) for a, b in zip(before, expert_lora, strict=True))
