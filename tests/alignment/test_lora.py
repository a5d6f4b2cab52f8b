"""LoRA (PEFT) on attention projections and fused MoE experts; router frozen by default; merge/unmerge exact."""

from __future__ import annotations

import pytest
import torch

from haetae.alignment.configs import get_config
from haetae.alignment.lora import ExaoneLoraConfig, apply_lora, trainable_parameter_names
from haetae.alignment.mtp import ExaoneMoeWithMTP

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def fresh_model(seed: int = 0) -> ExaoneMoeWithMTP:
    torch.manual_seed(seed)
    return ExaoneMoeWithMTP(get_config("tiny"))


def randomise_lora_b(model) -> None:
    """PEFT initialises B = 0 (a no-op adapter); give it values so the adapter changes the outputs."""
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))


IDS = torch.randint(3, 2048, (2, 24), generator=torch.Generator().manual_seed(3))


def logits(model) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=IDS).logits


def test_targets_attention_and_fused_experts_router_frozen():
    model = apply_lora(fresh_model())
    names = trainable_parameter_names(model)
    assert names and all("lora_" in n for n in names)
    n_layers, n_sparse = 4, 3
    for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
        assert sum(f"self_attn.{proj}.lora_A" in n for n in names) == n_layers
    expert_adapters = [n for n in names if ".experts." in n]
    assert len(expert_adapters) == n_sparse * 2 * 2  # (gate_up, down) x (A, B) per MoE layer
    # One rank-r adapter per expert: A is (r * E) x in.
    a = next(p for n, p in model.named_parameters() if ".experts." in n and "lora_A" in n)
    assert a.shape[0] == 8 * 16
    assert not any(".mlp.gate." in n or "e_score" in n or n.startswith("base_model.model.mtp") for n in names)
    frozen = [p for n, p in model.named_parameters() if n.endswith("mlp.gate.weight")]
    assert len(frozen) == n_sparse and not any(p.requires_grad for p in frozen)


def test_router_and_mtp_trainable_when_asked():
    model = apply_lora(fresh_model(), ExaoneLoraConfig(train_router=True, train_mtp=True, attention=False))
    names = trainable_parameter_names(model)
    assert sum(n.endswith("mlp.gate.modules_to_save.default.weight") for n in names) == 3
    assert any(".mtp.modules_to_save.default.fc" in n for n in names)
    assert not any("self_attn" in n and "lora" in n and "mtp" not in n for n in names)


def test_frozen_router_unchanged_by_training_step():
    model = apply_lora(fresh_model())
    randomise_lora_b(model)
    router = {n: p.detach().clone() for n, p in model.named_parameters() if n.endswith("mlp.gate.weight")}
    experts = {n: p.detach().clone() for n, p in model.named_parameters() if ".experts." in n and "lora_B" in n}
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    out = model(input_ids=IDS, labels=IDS)
    out.loss.backward()
    opt.step()
    params = dict(model.named_parameters())
    assert all(torch.equal(params[n], p) for n, p in router.items())
    assert any(not torch.equal(params[n], p) for n, p in experts.items())  # expert adapters did learn


def test_merge_unmerge_and_unload_preserve_outputs():
    base_model = fresh_model().eval()
    base = logits(base_model)
    model = apply_lora(base_model).eval()
    torch.testing.assert_close(logits(model), base)  # B = 0: the adapter starts as a no-op
    randomise_lora_b(model)
    adapted = logits(model)
    assert (adapted - base).abs().max() > 1e-2
    model.base_model.merge_adapter()
    torch.testing.assert_close(logits(model), adapted, rtol=1e-4, atol=1e-5)
    model.base_model.unmerge_adapter()
    torch.testing.assert_close(logits(model), adapted, rtol=1e-4, atol=1e-5)
    with model.disable_adapter():
        torch.testing.assert_close(logits(model), base, rtol=1e-4, atol=1e-5)
    merged = model.merge_and_unload()
    assert type(merged).__name__ == "ExaoneMoeWithMTP" and not any("lora" in n for n, _ in merged.named_parameters())
    torch.testing.assert_close(logits(merged), adapted, rtol=1e-4, atol=1e-5)


def test_needs_a_target():
    with pytest.raises(ValueError, match="at least one target"):
        ExaoneLoraConfig(attention=False, experts=False).to_peft()
