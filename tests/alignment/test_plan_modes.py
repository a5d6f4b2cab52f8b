"""`haetae model plan --mode train|lora|serve`: memory terms computed by hand for a small config, the adapter count
against PEFT, and hints that name a layout or mode that fits."""

from __future__ import annotations

import pytest
import torch
from transformers import ExaoneMoeConfig

from haetae.alignment.configs import count_parameters, get_config
from haetae.alignment.plan import (
    fits,
    kv_cache_bytes,
    lora_parameters,
    make_layout,
    parse_gpus,
    plan_memory,
    suggest,
)
from haetae.cli import main


def small_config() -> ExaoneMoeConfig:
    """h=8, 2 heads x 4 (1 KV head), layers [sliding + dense FFN 16, global + 4 experts of 4 and 1 shared], vocab 32."""
    return ExaoneMoeConfig(
        vocab_size=32, hidden_size=8, intermediate_size=16, moe_intermediate_size=4, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=4, num_experts=4, num_experts_per_tok=2,
        num_shared_experts=1, first_k_dense_replace=1, n_group=1, topk_group=1, sliding_window=3,
        layer_types=["sliding_attention", "full_attention"], tie_word_embeddings=False,
    )  # fmt: skip


# By hand: embedding 32*8 = 256, lm head 256, attention 2 x (8*8 + 2*8*4 + 8*8 + 2*4) = 400, dense FFN 3*8*16 = 384,
# routed experts 4 * 3*8*4 = 384, shared expert 3*8*4 = 96, router 4*8 = 32, norms 2*2*8 + 8 = 40: 1848 in all.
TOTAL, ROUTED = 1848, 384


def test_hand_count_of_the_small_config():
    counts = count_parameters(small_config())
    assert (counts.total, counts.routed_experts) == (TOTAL, ROUTED)


def test_serve_is_weights_plus_kv_cache():
    c = small_config()
    one = plan_memory(c, make_layout(c, parse_gpus("1xH200"), seq_len=10, micro_batch=2, zero=3, mode="serve"))
    # KV: 2 (K, V) x 1 head x 4 x 2 B x batch 2 = 32 B per token; sliding layer min(3, 10) + global 10 = 13 tokens.
    assert (one.parameters, one.kv_cache, one.total) == (2 * TOTAL, 416, 2 * TOTAL + 416)
    assert one.gradients == one.optimizer == one.activations == 0
    # EP=2 over 2 GPUs: experts halved, the rest replicated (serving has no ZeRO even if asked).
    two = plan_memory(c, make_layout(c, parse_gpus("2xH200"), ep=2, seq_len=10, micro_batch=2, zero=3, mode="serve"))
    assert two.parameters == 2 * (TOTAL - ROUTED) + 2 * ROUTED / 2 == 3312
    assert two.total == 3312 + 416


def test_lora_is_frozen_weights_plus_adapter_states_plus_activations():
    c = small_config()
    # rank 2: attention 2 layers x 2 x ((8+8) + 2(8+4) + (8+8)) = 224; experts 1 layer x 4 x 2 x ((8+8) + (4+8)) = 224
    assert lora_parameters(c, 2) == (224, 224)
    train = plan_memory(c, make_layout(c, parse_gpus("1xH200"), seq_len=16, zero=0))
    lora = plan_memory(c, make_layout(c, parse_gpus("1xH200"), seq_len=16, zero=0, mode="lora", lora_rank=2))
    assert (lora.parameters, lora.gradients, lora.optimizer) == (2 * TOTAL, 0, 0)
    assert lora.adapters == 16 * 448
    assert lora.activations == train.activations  # the backward still runs through every frozen layer
    assert lora.total == 2 * TOTAL + 16 * 448 + train.activations
    # 2 GPUs, EP=2, ZeRO-3: dense weights and attention adapters sharded over DP=2, experts (and their adapters)
    # split by EP with one replica each.
    two = plan_memory(c, make_layout(c, parse_gpus("2xH200"), ep=2, seq_len=16, zero=3, mode="lora", lora_rank=2))
    assert two.parameters == 2 * (TOTAL - ROUTED) / 2 + 2 * ROUTED / 2 == 1848
    assert two.adapters == 16 * 224 / 2 + 16 * 224 / 2 == 3584


def test_adapter_count_matches_peft_on_the_tiny_model():
    from haetae.alignment.lora import ExaoneLoraConfig, apply_lora
    from haetae.alignment.mtp import ExaoneMoeWithMTP

    torch.manual_seed(0)
    config = get_config("tiny")
    model = apply_lora(ExaoneMoeWithMTP(config), ExaoneLoraConfig(r=4))  # the MTP block stays frozen
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == sum(lora_parameters(config, 4))


def test_236b_on_one_a100_node_says_what_can_help():
    c = get_config("k-exaone-236b-a23b")
    node = parse_gpus("8xA100-80G")
    layout = make_layout(c, node, tp=8, ep=8, zero=3, recompute="full", seq_len=8192)
    hint = suggest(plan_memory(c, layout), node, layout, c)
    assert "--ep/--pp" not in hint and "no TP/PP/EP/ZeRO layout of 8 GPUs fits" in hint
    assert "nodes of 8" in hint and "--mode lora" in hint and "--mode serve" in hint
    # every layout the hint names really fits
    for part in hint.split("--mode ")[1:]:
        mode, *flags = part.split(" fits")[0].split()
        options = dict(zip(flags[::2], flags[1::2]))
        named = make_layout(c, node, tp=int(options["--tp"]), pp=int(options["--pp"]), ep=int(options["--ep"]),
                            zero=int(options.get("--zero", 1)), recompute=options.get("--recompute", "none"),
                            seq_len=8192, mode=mode)
        assert fits(plan_memory(c, named), node), part
    # in LoRA mode the same node fits once the layout shards: the hint names that layout
    lora = make_layout(c, node, seq_len=8192, mode="lora")
    lora_hint = suggest(plan_memory(c, lora), node, lora, c)
    assert lora_hint.split(": try ")[1].startswith("--tp ") and "GiB per GPU" in lora_hint


def test_plan_cli_modes(capsys):
    args = ["model", "plan", "--config", "k-exaone-236b-a23b", "--gpus", "8xA100-80G", "--seq-len", "8192"]
    assert main([*args, "--tp", "8", "--ep", "8", "--zero", "3", "--recompute", "full"]) == 0
    captured = capsys.readouterr()
    assert "training: DOES NOT FIT" in captured.out and "--mode lora" in captured.err
    assert main([*args, "--mode", "lora", "--tp", "8", "--zero", "3", "--recompute", "full"]) == 0
    captured = capsys.readouterr()
    assert "LoRA fine-tuning: fits" in captured.out and "LoRA adapters r=8" in captured.out and captured.err == ""
    assert main([*args, "--mode", "serve", "--tp", "8", "--ep", "8", "--micro-batch", "16"]) == 0
    captured = capsys.readouterr()
    assert "serving: fits" in captured.out and "gradients" not in captured.out
    c = get_config("k-exaone-236b-a23b")
    kv = kv_cache_bytes(c, 8192, 16, tp=8)
    assert f"{kv / 2**30:.2f}" in captured.out
    assert main([*args, "--mode", "lora", "--lora-rank", "0"]) == 2
    assert "--lora-rank must be >= 1" in capsys.readouterr().err


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="--mode must be one of train, lora, serve"):
        make_layout(small_config(), parse_gpus("1xH200"), mode="fly")
