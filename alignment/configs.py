"""Named K-EXAONE configurations (tiny, small, the published 236B-A23B) and an analytic parameter count.

Every config is a transformers ``ExaoneMoeConfig``: layer types follow the "LLLG" pattern (three sliding-window
layers with RoPE, then one global layer without positional encoding), the first layer has a dense SwiGLU FFN and
every other layer is a sigmoid-routed MoE with one shared expert. Extra fields in ``config.json`` describe the MTP
block (``num_nextn_predict_layers``, ``mtp_layer_types``, ``mtp_loss_weight``); transformers ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformers import ExaoneMoeConfig

MTP_LOSS_WEIGHT = 0.05


def hybrid_layer_types(num_layers: int, pattern: str = "LLLG") -> list[str]:
    """Expand a pattern such as "LLLG" to transformers layer types; the last layer is always global."""
    if not pattern or set(pattern) - {"L", "G"}:
        raise ValueError(f"layer pattern must be a non-empty string of 'L' and 'G', got {pattern!r}")
    kinds = [pattern[i % len(pattern)] for i in range(num_layers)]
    kinds[-1] = "G"
    return ["sliding_attention" if k == "L" else "full_attention" for k in kinds]


def _exaone_config(**overrides: Any) -> ExaoneMoeConfig:
    num_layers = overrides["num_hidden_layers"]
    pattern = overrides.pop("pattern", "LLLG")
    base: dict[str, Any] = {
        "hidden_act": "silu",
        "rms_norm_eps": 1e-5,
        "initializer_range": 0.02,
        "first_k_dense_replace": 1,
        "num_shared_experts": 1,
        "norm_topk_prob": True,
        "routed_scaling_factor": 2.5,
        "n_group": 1,
        "topk_group": 1,
        "tie_word_embeddings": False,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0},
        "layer_types": hybrid_layer_types(num_layers, pattern),
        "sliding_window_pattern": len(pattern),
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "num_nextn_predict_layers": 1,
        "mtp_layer_types": ["sliding_attention"],
        "mtp_loss_weight": MTP_LOSS_WEIGHT,
    }
    base.update(overrides)
    return ExaoneMoeConfig(**base)


def tiny() -> ExaoneMoeConfig:
    """~1M parameters: 4 layers (LLLG), window 16, 16 experts top-2 + 1 shared. For CPU tests."""
    return _exaone_config(
        vocab_size=2048,
        hidden_size=64,
        intermediate_size=256,
        moe_intermediate_size=64,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        num_experts=16,
        num_experts_per_tok=2,
        sliding_window=16,
        max_position_embeddings=1024,
    )


def small() -> ExaoneMoeConfig:
    """~110M parameters: 8 layers (LLLG), window 128, 32 experts top-4 + 1 shared. For one GPU."""
    return _exaone_config(
        vocab_size=32_000,
        hidden_size=512,
        intermediate_size=2048,
        moe_intermediate_size=192,
        num_hidden_layers=8,
        num_attention_heads=8,
        num_key_value_heads=2,
        head_dim=64,
        num_experts=32,
        num_experts_per_tok=4,
        sliding_window=128,
        max_position_embeddings=32_768,
    )


def k_exaone_236b_a23b() -> ExaoneMoeConfig:
    """The published K-EXAONE 236B-A23B architecture (methods.md section 1)."""
    return _exaone_config(
        vocab_size=153_600,
        hidden_size=6144,
        intermediate_size=18_432,
        moe_intermediate_size=2048,
        num_hidden_layers=48,
        num_attention_heads=64,
        num_key_value_heads=8,
        head_dim=128,
        num_experts=128,
        num_experts_per_tok=8,
        sliding_window=128,
        max_position_embeddings=262_144,
        eos_token_id=53,
    )


NAMED_CONFIGS = {"tiny": tiny, "small": small, "k-exaone-236b-a23b": k_exaone_236b_a23b}


def get_config(name: str, **overrides: Any) -> ExaoneMoeConfig:
    """Build a named config; ``overrides`` replace single fields (e.g. ``vocab_size`` from a tokenizer)."""
    try:
        factory = NAMED_CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown config {name!r}; choose one of: {', '.join(NAMED_CONFIGS)}") from None
    config = factory()
    if overrides:
        data = config.to_dict()
        data.update(overrides)
        for key in ("model_type", "transformers_version"):
            data.pop(key, None)
        config = ExaoneMoeConfig(**data)
    return config


@dataclass(frozen=True)
class ParameterCount:
    """Parameter counts of an ExaoneMoe config; ``active`` counts what one token passes through."""

    embedding: int
    lm_head: int
    attention: int
    dense_ffn: int
    routed_experts: int
    shared_experts: int
    router: int
    norms: int
    mtp: int
    total: int
    active: int


def attention_params(config: ExaoneMoeConfig) -> int:
    """q/k/v/o projections and per-head Q/K RMSNorm weights of one layer."""
    h, d = config.hidden_size, config.head_dim
    q, kv = config.num_attention_heads * d, config.num_key_value_heads * d
    return h * q + 2 * h * kv + q * h + 2 * d


def swiglu_params(hidden: int, ffn: int) -> int:
    return 3 * hidden * ffn


def mtp_block_params(config: ExaoneMoeConfig) -> int:
    """One dense MTP block: two input norms, the 2h -> h projection, a dense decoder layer and its final norm."""
    h = config.hidden_size
    layer = attention_params(config) + swiglu_params(h, config.intermediate_size) + 2 * h
    return 2 * h + 2 * h * h + layer + h


def count_parameters(config: ExaoneMoeConfig, include_mtp: bool = False) -> ParameterCount:
    """Count parameters analytically (no weights are built); matches ``sum(p.numel())`` of the model."""
    h, n_layers = config.hidden_size, config.num_hidden_layers
    mlp_types = config.mlp_layer_types
    n_sparse = sum(t == "sparse" for t in mlp_types)
    n_dense = n_layers - n_sparse
    expert = swiglu_params(h, config.moe_intermediate_size)
    embedding = config.vocab_size * h
    lm_head = 0 if config.tie_word_embeddings else config.vocab_size * h
    attention = n_layers * attention_params(config)
    dense_ffn = n_dense * swiglu_params(h, config.intermediate_size)
    routed = n_sparse * config.num_experts * expert
    shared = n_sparse * swiglu_params(h, config.moe_intermediate_size * config.num_shared_experts)
    router = n_sparse * config.num_experts * h
    norms = 2 * n_layers * h + h
    mtp = mtp_block_params(config) if include_mtp else 0
    total = embedding + lm_head + attention + dense_ffn + routed + shared + router + norms + mtp
    # Active: every non-expert weight (the embedding row lookup counted in full, as the reports do) plus top-k experts.
    active = total - routed + n_sparse * config.num_experts_per_tok * expert
    return ParameterCount(embedding, lm_head, attention, dense_ffn, routed, shared, router, norms, mtp, total, active)
