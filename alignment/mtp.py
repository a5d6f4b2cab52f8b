"""Multi-token prediction (MTP) for K-EXAONE: one dense block predicting token t+2, DeepSeek-V3 style.

At position t the block combines the main model's final (normed) hidden state h_t with the embedding of token t+1:

    x_t = fc [ RMSNorm_e(E x_{t+1}) ; RMSNorm_h(h_t) ]          (2h -> h projection)
    g_t = RMSNorm(DecoderLayer(x_t))                            (one decoder layer with a dense SwiGLU FFN)
    p(x_{t+2}) = softmax(LMHead g_t)                            (embedding E and LM head shared with the model)

``ExaoneMoeWithMTP`` is ``ExaoneMoeForCausalLM`` plus an ``mtp`` sub-module, so ``save_pretrained`` writes the
block as ``mtp.*`` tensors beside the main weights; ``ExaoneMoeWithMTP.from_pretrained`` restores them while a
plain ``AutoModelForCausalLM.from_pretrained`` loads the main model and ignores them (transformers lists
``mtp.*`` as expected-unexpected keys for exaone_moe). With labels, the loss is
``main_loss + mtp_loss_weight * mtp_loss`` (``config.mtp_loss_weight``, default 0.05).

Tensor names and the concatenation order follow the layout serving engines read from the published K-EXAONE
checkpoint (vLLM's ``exaone_moe_mtp``): ``mtp.pre_fc_norm_embedding``, ``mtp.pre_fc_norm_hidden``, ``mtp.fc``,
``mtp.layers.0.*``, ``mtp.norm``; the layer's attention kind comes from ``config.mtp_layer_types`` (default:
sliding window with RoPE) and its FFN is dense with ``intermediate_size`` (~0.5B parameters at 236B, as published).
This mapping was taken from public serving code, not checked against the real checkpoint here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from transformers import ExaoneMoeConfig, ExaoneMoeForCausalLM
from transformers.cache_utils import Cache
from transformers.masking_utils import create_causal_mask, create_sliding_window_causal_mask
from transformers.modeling_outputs import MoeCausalLMOutputWithPast
from transformers.models.exaone_moe.modeling_exaone_moe import (
    ExaoneMoeDecoderLayer,
    ExaoneMoeMLP,
    ExaoneMoeRMSNorm,
)

from haetae.alignment.configs import MTP_LOSS_WEIGHT


def mtp_layer_type(config: ExaoneMoeConfig) -> str:
    """Attention kind of the MTP layer: ``config.mtp_layer_types[0]`` if set, else sliding-window."""
    kinds = getattr(config, "mtp_layer_types", None) or ["sliding_attention"]
    if kinds[0] not in ("sliding_attention", "full_attention"):
        raise ValueError(f"unknown mtp_layer_types entry {kinds[0]!r}")
    return kinds[0]


class ExaoneMoeMTPBlock(nn.Module):
    """The MTP block's own weights (the embedding and LM head live in the main model)."""

    def __init__(self, config: ExaoneMoeConfig):
        super().__init__()
        n = getattr(config, "num_nextn_predict_layers", 1)
        if n != 1:
            raise ValueError(f"one MTP block is implemented, config asks for num_nextn_predict_layers={n}")
        h, eps = config.hidden_size, config.rms_norm_eps
        self.pre_fc_norm_embedding = ExaoneMoeRMSNorm(h, eps=eps)
        self.pre_fc_norm_hidden = ExaoneMoeRMSNorm(h, eps=eps)
        self.fc = nn.Linear(2 * h, h, bias=False)
        # layer_idx=0: the layer writes slot 0 of the block's own KV cache.
        layer = ExaoneMoeDecoderLayer(config, layer_idx=0)
        layer.self_attn.is_sliding = mtp_layer_type(config) == "sliding_attention"
        if not isinstance(layer.mlp, ExaoneMoeMLP):
            layer.mlp = ExaoneMoeMLP(config)
        self.layers = nn.ModuleList([layer])
        self.norm = ExaoneMoeRMSNorm(h, eps=eps)

    def forward(
        self,
        hidden: torch.Tensor,
        next_embeds: torch.Tensor,
        position_embeddings: tuple[torch.Tensor, torch.Tensor],
        attention_mask: torch.Tensor | None,
        position_ids: torch.Tensor,
        cache: Cache | None = None,
    ) -> torch.Tensor:
        x = self.fc(torch.cat([self.pre_fc_norm_embedding(next_embeds), self.pre_fc_norm_hidden(hidden)], dim=-1))
        x = self.layers[0](
            x,
            attention_mask=attention_mask,
            position_embeddings=position_embeddings,
            position_ids=position_ids,
            cache=cache,
            use_cache=cache is not None,
        )
        return self.norm(x)


@dataclass
class MTPCausalLMOutput(MoeCausalLMOutputWithPast):
    """``MoeCausalLMOutputWithPast`` plus the two loss terms and the final hidden states."""

    main_loss: torch.FloatTensor | None = None
    mtp_loss: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None


class ExaoneMoeWithMTP(ExaoneMoeForCausalLM):
    """``ExaoneMoeForCausalLM`` with one MTP block trained on an auxiliary next-next-token loss."""

    def __init__(self, config: ExaoneMoeConfig):
        super().__init__(config)
        self.mtp = ExaoneMoeMTPBlock(config)
        self.post_init()

    @property
    def mtp_loss_weight(self) -> float:
        return float(getattr(self.config, "mtp_loss_weight", MTP_LOSS_WEIGHT))

    def mtp_forward(
        self,
        hidden: torch.Tensor,
        next_ids: torch.Tensor,
        position_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        cache: Cache | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the block on pairs (h_t, x_{t+1}) at ``position_ids`` t; returns (normed hidden g_t, logits for t+2)."""
        next_embeds = self.model.embed_tokens(next_ids)
        mask_kwargs = {
            "config": self.config,
            "inputs_embeds": next_embeds,
            "attention_mask": attention_mask,
            "cache": cache,
            "position_ids": position_ids,
        }
        if mtp_layer_type(self.config) == "sliding_attention":
            mask = create_sliding_window_causal_mask(**mask_kwargs)
        else:
            mask = create_causal_mask(**mask_kwargs)
        position_embeddings = self.model.rotary_emb(next_embeds, position_ids)
        g = self.mtp(hidden, next_embeds, position_embeddings, mask, position_ids, cache)
        return g, self.lm_head(g)

    def mtp_loss(
        self,
        hidden: torch.Tensor,
        input_ids: torch.Tensor,
        labels: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Cross-entropy of the block's prediction of token t+2 from (h_t, x_{t+1}); labels use -100 to ignore."""
        seq = input_ids.shape[1]
        if seq < 3:
            return hidden.new_zeros(())
        if position_ids is None:
            position_ids = torch.arange(seq - 1, device=input_ids.device).unsqueeze(0)
        else:
            position_ids = position_ids[:, :-1]
        pair_mask = None
        if attention_mask is not None and attention_mask.dim() == 2:
            pair_mask = attention_mask[:, :-1] * attention_mask[:, 1:]
        _, logits = self.mtp_forward(hidden[:, :-1], input_ids[:, 1:], position_ids, pair_mask)
        # The causal-LM loss shifts labels by one: logits at t (predicting t+2) meet labels[:, 1:][t + 1].
        pair_labels = labels[:, 1:]
        if position_ids.shape[0] == pair_labels.shape[0] and (position_ids[:, 1:] == 0).any():
            # Packed documents (position ids restarting, TRL's padding-free rows): the pair (h_t, x_{t+1}) whose
            # x_{t+1} opens the next document would predict that document's second token from the previous one.
            pair_labels = pair_labels.masked_fill(position_ids == 0, -100)
        return self.loss_function(logits=logits, labels=pair_labels, vocab_size=self.config.vocab_size)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> MTPCausalLMOutput:
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        hidden = outputs.last_hidden_state
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden[:, keep, :])
        loss = main_loss = mtp_loss = None
        if labels is not None:
            main_loss = self.loss_function(logits=logits, labels=labels, vocab_size=self.config.vocab_size, **kwargs)
            loss = main_loss
            if input_ids is not None and self.mtp_loss_weight > 0:
                mtp_loss = self.mtp_loss(hidden, input_ids, labels, attention_mask, position_ids)
                loss = main_loss + self.mtp_loss_weight * mtp_loss
        return MTPCausalLMOutput(
            loss=loss,
            logits=logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            main_loss=main_loss,
            mtp_loss=mtp_loss,
            last_hidden_state=hidden,
        )


def has_mtp_weights(checkpoint_dir: str | Path) -> bool:
    """Whether a safetensors checkpoint directory holds ``mtp.*`` tensors (single file or sharded index)."""
    import json

    from safetensors import safe_open

    directory = Path(checkpoint_dir)
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        return any(k.startswith("mtp.") for k in json.loads(index.read_text())["weight_map"])
    single = directory / "model.safetensors"
    if not single.is_file():
        return False
    with safe_open(str(single), "pt") as handle:
        return any(k.startswith("mtp.") for k in handle.keys())
