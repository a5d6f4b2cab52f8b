"""haetae_hybrid inside a tiny ExaoneMoeForCausalLM (3 sliding + 1 global layer) vs transformers' eager."""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import ExaoneMoeConfig, ExaoneMoeForCausalLM

import haetae.alignment.attention as hybrid
from haetae.alignment.kv_cache import HybridKVCache

WINDOW = 5


def tiny_config(window: int = WINDOW, layers: int = 4, heads: int = 8, kv_heads: int = 2) -> ExaoneMoeConfig:
    """Small window so 20-30 token sequences exercise both layer kinds; the last layer is global."""
    return ExaoneMoeConfig(
        vocab_size=96, hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=16, num_experts=4, num_experts_per_tok=2,
        num_shared_experts=1, first_k_dense_replace=1, n_group=1, topk_group=1, sliding_window=window,
        sliding_window_pattern=4, layer_types=["sliding_attention"] * (layers - 1) + ["full_attention"],
        max_position_embeddings=256, pad_token_id=0, eos_token_id=None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = tiny_config()
    assert cfg.layer_types == ["sliding_attention"] * 3 + ["full_attention"]
    return ExaoneMoeForCausalLM(cfg).eval()


def batch_with_left_padding(seed: int = 0, length: int = 23):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, 96, (3, length), generator=gen)
    mask = torch.ones(3, length, dtype=torch.long)
    mask[1, :6] = 0
    mask[2, :length - 2] = 0  # a 2-token prompt
    return ids, mask


def test_register_is_idempotent():
    from transformers import AttentionInterface

    hybrid.register()
    hybrid.register()
    assert AttentionInterface._global_mapping[hybrid.NAME] is hybrid.haetae_hybrid_attention


def logits(model, impl, ids, mask):
    model.set_attn_implementation(impl)
    with torch.no_grad():
        return model(ids, attention_mask=mask).logits


def test_forward_matches_eager_with_padding(model):
    ids, mask = batch_with_left_padding()
    want, got = logits(model, "eager", ids, mask), logits(model, hybrid.NAME, ids, mask)
    valid = mask.bool()
    torch.testing.assert_close(got[valid], want[valid], rtol=1e-4, atol=1e-5)
    # and without any mask (pure causal path)
    torch.testing.assert_close(logits(model, hybrid.NAME, ids, None), logits(model, "eager", ids, None),
                               rtol=1e-4, atol=1e-5)


def test_sliding_window_changes_the_result(model):
    """Guard against a silently global 'sliding' layer: a wider window must change the logits."""
    ids, _ = batch_with_left_padding(seed=1)
    wide = ExaoneMoeForCausalLM(tiny_config(window=64)).eval()
    wide.load_state_dict(model.state_dict())
    a, b = logits(model, hybrid.NAME, ids, None), logits(wide, hybrid.NAME, ids, None)
    assert torch.allclose(a[:, :WINDOW], b[:, :WINDOW], atol=1e-5)
    assert not torch.allclose(a[:, WINDOW:], b[:, WINDOW:], atol=1e-3)


def test_gradients_match_eager_and_training_reduces_loss(model):
    ids, mask = batch_with_left_padding(seed=2)
    # logits at a padding position predict the first real token; eager fills rows that see only padding with an
    # average of masked values, haetae_hybrid with zeros, so those targets are excluded (pad rows are undefined).
    prev_is_real = torch.cat([torch.ones_like(mask[:, :1]), mask[:, :-1]], dim=1)
    labels = ids.masked_fill((mask == 0) | (prev_is_real == 0), -100)
    train = ExaoneMoeForCausalLM(copy.deepcopy(model.config)).train()
    train.load_state_dict(model.state_dict())
    per_impl = {}
    for impl in ("eager", hybrid.NAME):
        train.set_attn_implementation(impl)
        train.zero_grad()
        train(ids, attention_mask=mask, labels=labels).loss.backward()
        per_impl[impl] = {n: p.grad.clone() for n, p in train.named_parameters() if p.grad is not None}
    assert any("q_norm" in n for n in per_impl[hybrid.NAME])
    for name, g in per_impl["eager"].items():
        torch.testing.assert_close(per_impl[hybrid.NAME][name], g, rtol=1e-3, atol=1e-5, msg=name)

    train.set_attn_implementation(hybrid.NAME)
    opt = torch.optim.AdamW(train.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = train(ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.1, losses


@pytest.mark.parametrize("cache_kind", ["default", "hybrid"])
def test_greedy_generate_equals_eager(model, cache_kind):
    ids, mask = batch_with_left_padding(seed=3, length=9)
    model.set_attn_implementation("eager")
    want = model.generate(ids, attention_mask=mask, max_new_tokens=14, do_sample=False)
    model.set_attn_implementation(hybrid.NAME)
    extra = {"cache": HybridKVCache(model.config)} if cache_kind == "hybrid" else {}
    got = model.generate(ids, attention_mask=mask, max_new_tokens=14, do_sample=False, **extra)
    assert got.shape == (3, 9 + 14)
    assert torch.equal(got, want)


def test_fused_prologue_matches_eager_forward_and_grads(model, monkeypatch):
    import haetae.alignment.attention_blocked as blocked

    fused_calls = []
    original = blocked.BlockedHybridAttention.apply

    def spy(*args):
        fused_calls.append(args[3] is not None and args[4] is not None)  # norm weights reached the kernel
        return original(*args)

    monkeypatch.setattr(blocked.BlockedHybridAttention, "apply", spy)
    ids, mask = batch_with_left_padding(seed=4)
    prev_is_real = torch.cat([torch.ones_like(mask[:, :1]), mask[:, :-1]], dim=1)
    labels = ids.masked_fill((mask == 0) | (prev_is_real == 0), -100)
    fused = ExaoneMoeForCausalLM(copy.deepcopy(model.config)).train()
    fused.load_state_dict(model.state_dict())
    assert hybrid.fuse_qk_prologue(fused) == 4
    fused.set_attn_implementation(hybrid.NAME)
    plain = ExaoneMoeForCausalLM(copy.deepcopy(model.config)).train()
    plain.load_state_dict(model.state_dict())
    plain.set_attn_implementation("eager")
    losses, grads = [], []
    for m in (fused, plain):
        out = m(ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        losses.append(out.loss.detach())
        grads.append({n: p.grad for n, p in m.named_parameters() if p.grad is not None})
    assert fused_calls[:4] == [True] * 4  # every layer (padding keeps the global one on the blocked path)
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)
    assert grads[0].keys() == grads[1].keys()
    for name in grads[1]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-3, atol=1e-5, msg=name)
    # with a cache (generation) the patched modules fall back to the stock forward and stay exact
    fused.eval()
    plain.eval()
    gen_ids, gen_mask = batch_with_left_padding(seed=5, length=8)
    a = fused.generate(gen_ids, attention_mask=gen_mask, max_new_tokens=8, do_sample=False)
    b = plain.generate(gen_ids, attention_mask=gen_mask, max_new_tokens=8, do_sample=False)
    assert torch.equal(a, b)
