"""Named configs, analytic parameter counts, `haetae model init` and `haetae model plan`."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM, ExaoneMoeForCausalLM

from haetae.alignment.configs import count_parameters, get_config, hybrid_layer_types
from haetae.alignment.plan import (
    GIB,
    kv_cache_bytes,
    kv_cache_fraction,
    make_layout,
    parse_gpus,
    plan_memory,
)
from haetae.cli import main


def numel(config) -> int:
    with torch.device("meta"):
        model = ExaoneMoeForCausalLM(config)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", ["tiny", "small", "k-exaone-236b-a23b"])
def test_analytic_count_equals_model_numel(name):
    config = get_config(name)
    assert count_parameters(config).total == numel(config)


def test_k_exaone_published_architecture():
    c = get_config("k-exaone-236b-a23b")
    assert (c.num_hidden_layers, c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim) == (
        48, 6144, 64, 8, 128)
    assert [i for i, t in enumerate(c.layer_types) if t == "full_attention"] == list(range(3, 48, 4))
    assert c.sliding_window == 128 and c.rope_parameters["rope_theta"] == 1e6
    assert (c.num_experts, c.num_experts_per_tok, c.num_shared_experts, c.moe_intermediate_size) == (128, 8, 1, 2048)
    assert c.mlp_layer_types[0] == "dense" and set(c.mlp_layer_types[1:]) == {"sparse"}
    assert c.intermediate_size == 18_432 and c.vocab_size == 153_600 and c.max_position_embeddings == 262_144
    counts = count_parameters(c, include_mtp=True)
    main_total = counts.total - counts.mtp
    assert 234e9 < main_total < 238e9  # published: 236B
    assert 22e9 < counts.active - counts.mtp < 24.5e9  # published: 23B active
    assert 0.50e9 < counts.mtp < 0.55e9  # published MTP block: ~0.52B


def test_global_layers_are_nope_and_sliding_layers_use_rope():
    with torch.device("meta"):
        model = ExaoneMoeForCausalLM(get_config("k-exaone-236b-a23b"))
    kinds = [layer.self_attn.is_sliding for layer in model.model.layers]
    assert kinds == [(i + 1) % 4 != 0 for i in range(48)]


def test_tiny_has_both_layer_kinds_moe_and_about_a_million_parameters():
    c = get_config("tiny")
    assert {"sliding_attention", "full_attention"} == set(c.layer_types)
    assert "sparse" in c.mlp_layer_types and c.num_experts > c.num_experts_per_tok
    assert 0.5e6 < count_parameters(c).total < 2e6
    assert 80e6 < count_parameters(get_config("small")).total < 130e6


def test_layer_pattern_and_overrides():
    assert hybrid_layer_types(6, "LLG") == ["sliding_attention", "sliding_attention", "full_attention"] * 2
    assert hybrid_layer_types(3, "L")[-1] == "full_attention"  # the last layer is always global
    with pytest.raises(ValueError, match="pattern"):
        hybrid_layer_types(4, "LXG")
    assert get_config("tiny", vocab_size=999).vocab_size == 999
    with pytest.raises(ValueError, match="unknown config"):
        get_config("huge")


def test_model_init_saves_loadable_deterministic_checkpoint(tmp_path, capsys):
    assert main(["model", "init", "--config", "tiny", "--out", str(tmp_path / "a"), "--seed", "3"]) == 0
    assert main(["model", "init", "--config", "tiny", "--out", str(tmp_path / "b"), "--seed", "3"]) == 0
    a = AutoModelForCausalLM.from_pretrained(tmp_path / "a")
    b = AutoModelForCausalLM.from_pretrained(tmp_path / "b")
    assert isinstance(a, ExaoneMoeForCausalLM) and a.config.layer_types == get_config("tiny").layer_types
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    assert "mtp" in capsys.readouterr().out.lower()


def test_model_init_refuses_236b_on_cpu_and_writes_config_only(tmp_path, capsys):
    assert main(["model", "init", "--config", "k-exaone-236b-a23b", "--out", str(tmp_path / "big")]) == 2
    assert "--config-only" in capsys.readouterr().err
    assert not (tmp_path / "big").exists()
    out = tmp_path / "cfg"
    assert main(["model", "init", "--config", "k-exaone-236b-a23b", "--out", str(out), "--config-only"]) == 0
    loaded = AutoConfig.from_pretrained(out)
    assert loaded.model_type == "exaone_moe" and loaded.num_experts == 128 and loaded.mtp_loss_weight == 0.05
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]


def test_parse_gpus():
    assert parse_gpus("32xA100-80G") == parse_gpus("32 x a100-80GB")
    g = parse_gpus("8xH200")
    assert (g.count, g.name, g.memory_gib) == (8, "H200", 141)
    for bad, hint in (("A100-80G", "COUNTxNAME"), ("32xA100", "several sizes"), ("4xFOO", "unknown GPU"),
                      ("0xH100-80G", "at least 1")):
        with pytest.raises(ValueError, match=hint):
            parse_gpus(bad)


def test_layout_validation():
    c = get_config("k-exaone-236b-a23b")
    gpus = parse_gpus("32xA100-80G")
    assert make_layout(c, gpus, tp=8, pp=2).dp == 2
    for kwargs, msg in (({"tp": 3}, "not divisible"), ({"tp": 8, "dp": 2}, "does not match"),
                        ({"ep": 3}, "does not divide the 128 experts"),
                        ({"ep": 64}, "must divide TP x DP"), ({"zero": 4}, "--zero")):
        with pytest.raises(ValueError, match=msg):
            make_layout(c, gpus, **kwargs)


def test_plan_by_hand_on_tiny():
    c = get_config("tiny")
    counts = count_parameters(c, include_mtp=True)
    one = plan_memory(c, make_layout(c, parse_gpus("1xH200"), zero=0))
    assert one.parameters == 2 * counts.total and one.gradients == 2 * counts.total
    assert one.optimizer == 12 * counts.total
    four = plan_memory(c, make_layout(c, parse_gpus("4xH200"), ep=4, zero=3))
    # Experts split over 4 EP ranks (one replica each); the rest sharded over DP=4 by ZeRO-3.
    dense = counts.total - counts.routed_experts
    assert four.parameters == pytest.approx(2 * (dense / 4 + counts.routed_experts / 4))
    recompute = plan_memory(c, make_layout(c, parse_gpus("1xH200"), seq_len=64, recompute="full"))
    assert recompute.activations == (4 * 2 * 64 * 64 + 4 * 64 * c.vocab_size)


def test_kv_cache_matches_methods_formula():
    c = get_config("k-exaone-236b-a23b")
    for context in (32_768, 131_072, 262_144):
        ratio = kv_cache_bytes(c, context) / kv_cache_bytes(c, context, all_global=True)
        assert ratio == pytest.approx(kv_cache_fraction(3, 128, context))
    assert kv_cache_fraction(3, 128, 262_144) < 0.2505
    # 8 KV heads x 128 x 2 (K, V) x 2 bytes x (12 x 256K + 36 x 128) tokens.
    assert kv_cache_bytes(c, 262_144) == 8 * 128 * 2 * 2 * (12 * 262_144 + 36 * 128)


def test_plan_cli(capsys):
    assert main(["model", "plan", "--config", "k-exaone-236b-a23b", "--gpus", "32xA100-80G"]) == 0
    captured = capsys.readouterr()
    assert "DOES NOT FIT" in captured.out and "warning" in captured.err
    for row in ("parameters", "gradients", "optimizer", "activations", "KV cache"):
        assert row in captured.out
    assert main(["model", "plan", "--config", "k-exaone-236b-a23b", "--gpus", "256xH100-80G", "--tp", "8",
                 "--pp", "4", "--ep", "8", "--zero", "3", "--recompute", "full"]) == 0
    captured = capsys.readouterr()
    assert "training: fits" in captured.out and captured.err == ""
    total = float(captured.out.split("training total")[1].split()[0])
    assert 5 < total < 80
    assert main(["model", "plan", "--config", "tiny", "--gpus", "lots"]) == 2
    assert "bad GPU spec" in capsys.readouterr().err


def test_config_json_records_mtp_fields(tmp_path):
    get_config("small").save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["num_nextn_predict_layers"] == 1 and data["sliding_window"] == 128
    assert GIB == 2**30


def test_cli_lists_every_named_config_without_importing_transformers():
    import subprocess
    import sys

    from haetae.alignment.cli import CONFIG_NAMES
    from haetae.alignment.configs import NAMED_CONFIGS

    assert tuple(NAMED_CONFIGS) == CONFIG_NAMES
    code = "import sys, haetae.cli as c; c.build_parser(); print('transformers' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]
