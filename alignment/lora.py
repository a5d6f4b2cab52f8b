"""LoRA (PEFT) for K-EXAONE: attention projections and the fused MoE expert weights.

transformers 5 stores the routed experts of a layer as two 3-D parameters, ``mlp.experts.gate_up_proj``
(E, 2I, H) and ``mlp.experts.down_proj`` (E, H, I). PEFT targets them with ``LoraConfig.target_parameters``
(its ``ParamWrapper``): each expert gets its own rank-r pair, applied as a parametrisation of the 3-D weight, so
merge/unmerge add or subtract the per-expert delta in place. Attention projections are ordinary ``nn.Linear``
targets. The shared expert and the dense FFN are not offered: for exaone_moe PEFT 0.21 rewrites any
``gate_proj``/``up_proj``/``down_proj`` target onto the fused experts (its transformers v4 -> v5 MoE conversion),
and it resolves a regex ``target_modules`` to bare leaf names, so the MTP block is kept out with
``exclude_modules``. The router (``mlp.gate``, sigmoid scores + correction bias) is frozen by default, as in
K-EXAONE's RL stage; ``train_router=True`` makes a trainable copy through ``modules_to_save``.
"""

from __future__ import annotations

from dataclasses import dataclass

ATTENTION_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj")
EXPERT_PARAMETERS = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")


@dataclass
class ExaoneLoraConfig:
    """What to adapt; ``to_peft()`` builds the ``peft.LoraConfig``."""

    r: int = 8
    alpha: int = 16
    attention: bool = True
    experts: bool = True
    train_router: bool = False
    train_mtp: bool = False  # train the MTP block in full (it is small) alongside the adapters

    def target_modules_regex(self) -> str | None:
        names: list[str] = []
        if self.attention:
            names.append(rf"self_attn\.(?:{'|'.join(ATTENTION_PROJECTIONS)})")
        if not names:
            return None
        # Main-model layers only: the MTP block is trained in full or not at all.
        return rf"^model\.layers\.\d+\.(?:{'|'.join(names)})$"

    def to_peft(self):
        from peft import LoraConfig

        regex = self.target_modules_regex()
        params = list(EXPERT_PARAMETERS) if self.experts else []
        if regex is None and not params:
            raise ValueError("LoRA needs at least one target: attention or experts")
        modules_to_save = (["gate"] if self.train_router else []) + (["mtp"] if self.train_mtp else [])
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=0.0,  # PEFT's ParamWrapper (fused experts) cannot apply dropout
            target_modules=regex if regex is not None else [],
            target_parameters=params or None,
            modules_to_save=modules_to_save or None,
            exclude_modules=None if self.train_mtp else r"^mtp\..*$",
            bias="none",
            task_type="CAUSAL_LM",
        )


def apply_lora(model, config: ExaoneLoraConfig | None = None):
    """Wrap an ExaoneMoe model in a ``PeftModel``; only adapters (and chosen full modules) are trainable."""
    from peft import get_peft_model

    config = config or ExaoneLoraConfig()
    peft_model = get_peft_model(model, config.to_peft())
    if config.experts and not any("experts" in n and "lora_" in n for n, _ in peft_model.named_parameters()):
        raise RuntimeError("PEFT did not attach LoRA to the fused expert parameters")
    return peft_model


def trainable_parameter_names(model) -> list[str]:
    return [name for name, p in model.named_parameters() if p.requires_grad]
