"""Hybrid KV cache: sliding layers hold W - 1 positions, global layers everything; byte accounting and formula."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from transformers import ExaoneMoeForCausalLM

import haetae.alignment.attention  # noqa: F401  (registers haetae_hybrid)
from haetae.alignment.kv_cache import HybridKVCache, cache_nbytes, kv_cache_bytes, relative_kv_cache

from .test_attention_model import WINDOW, tiny_config


def test_generate_keeps_window_for_sliding_layers_and_all_for_global():
    torch.manual_seed(0)
    cfg = tiny_config()
    model = ExaoneMoeForCausalLM(cfg).eval()
    model.set_attn_implementation("haetae_hybrid")
    cache = HybridKVCache(cfg)
    prompt, new = 17, 9
    ids = torch.randint(3, 96, (2, prompt))
    model.generate(ids, max_new_tokens=new, do_sample=False, cache=cache)
    seen = prompt + new - 1  # the last generated token is never fed back
    lengths = [layer.keys.shape[2] for layer in cache.layers]
    assert lengths == [WINDOW - 1] * 3 + [seen]
    per_position = 2 * cfg.num_key_value_heads * cfg.head_dim * 4 * 2  # K+V, fp32, batch 2
    assert cache.nbytes() == cache_nbytes(cache) == per_position * sum(lengths)
    assert cache.nbytes() < kv_cache_bytes(cfg, seen, batch=2, bytes_per_value=4, all_global=True) / 2


def test_prefill_does_not_pin_the_whole_prompt_in_sliding_layers():
    """transformers' own sliding layer keeps a view of the prefill (all L positions stay allocated); ours copies."""
    from transformers import DynamicCache

    torch.manual_seed(0)
    cfg = tiny_config()
    model = ExaoneMoeForCausalLM(cfg).eval()
    ids = torch.randint(3, 96, (1, 200))
    held = {}
    for name, cache in (("stock", DynamicCache(config=cfg)), ("hybrid", HybridKVCache(cfg))):
        with torch.no_grad():
            model(ids, cache=cache, use_cache=True)
        held[name] = cache_nbytes(cache)
    per_position = 2 * cfg.num_key_value_heads * cfg.head_dim * 4
    assert held["hybrid"] == per_position * (3 * (WINDOW - 1) + 200)
    assert held["stock"] == per_position * 4 * 200  # every layer still backed by 200 positions


def test_bytes_formula_matches_methods_md_for_the_236b_layout():
    from transformers import ExaoneMoeConfig

    cfg = ExaoneMoeConfig(
        num_hidden_layers=48, sliding_window=128, sliding_window_pattern=4, num_attention_heads=64,
        num_key_value_heads=8, head_dim=128, hidden_size=6144, vocab_size=1000, num_experts=8, n_group=1,
        topk_group=1,
    )  # fmt: skip
    assert cfg.layer_types.count("full_attention") == 12
    for context in (32_768, 131_072, 262_144):
        ratio = kv_cache_bytes(cfg, context) / kv_cache_bytes(cfg, context, all_global=True)
        assert ratio == pytest.approx(relative_kv_cache(3, 128, context))
    assert kv_cache_bytes(cfg, 262_144, all_global=True) == 48 * 262_144 * 2 * 8 * 128 * 2  # 48 GiB in bf16
    assert relative_kv_cache(3, 128, 262_144) < 0.2504


def test_refuses_sliding_layers_without_a_window():
    cfg = SimpleNamespace(layer_types=["sliding_attention", "full_attention"], sliding_window=None, num_hidden_layers=2)
    with pytest.raises(ValueError, match="no sliding_window"):
        HybridKVCache(cfg)
