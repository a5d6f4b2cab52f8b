"""Greedy decoding and MTP self-speculative decoding (batch size 1) with identical output.

Speculative step, with the main model's KV cache holding x_0..x_{n-1} and the pending greedy token x_n:

1. draft: the MTP block proposes d_1 from (h_{n-1}, x_n), then d_2 from (g_1, d_1), ... d_K, where g_k is the
   block's own normed output standing in for the main hidden state it does not have yet;
2. verify: one main-model forward over [x_n, d_1..d_K] gives greedy targets y_0..y_K; the drafts are accepted while
   d_i == y_{i-1}; y_a (a = accepted count) becomes the next pending token, so every step emits a + 1 tokens and
   the output is exactly the main model's greedy output;
3. roll back: the main cache is cropped to the accepted prefix; the MTP cache drops its draft positions and is
   refilled with the true pairs (h_t, x_{t+1}) of the accepted positions in the next draft call.

"Exactly" means token for token as long as the verify forward over K + 1 tokens and the one-token forwards of
plain greedy produce the same argmax: they differ only by float summation order, so a near-tie between two logits
could flip (as for any batched-verification decoder, transformers' assisted generation included); the tests check
equality on random and trained tiny models in float32.

Caches are :class:`~haetae.alignment.kv_cache.HybridKVCache` built from the model config: sliding layers hold
``W - 1`` positions between steps, global layers the whole context. For speculative decoding both caches record
their past until the rollback's ``crop``, which drops the rejected drafts and trims sliding layers back to the
window (the verify forward briefly holds ``W + K`` positions). ``GenerationResult.kv_positions`` reports the most
positions each main-model layer held between steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from transformers import ExaoneMoeForCausalLM

from haetae.alignment.kv_cache import HybridKVCache
from haetae.alignment.mtp import ExaoneMoeWithMTP, mtp_layer_type


@dataclass
class GenerationResult:
    """Generated token ids (prompt excluded) and decoding statistics."""

    tokens: list[int]
    main_steps: int  # main-model forward calls, the prefill included
    drafted: int = 0
    accepted: int = 0
    accepted_per_step: list[int] = field(default_factory=list)
    kv_positions: list[int] = field(default_factory=list)  # per main-model layer, the most held between steps

    def track(self, cache: HybridKVCache) -> None:
        held = cache.positions_held()
        self.kv_positions = [max(a, b) for a, b in zip(self.kv_positions, held)] if self.kv_positions else held

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0

    @property
    def tokens_per_step(self) -> float:
        return len(self.tokens) / self.main_steps if self.main_steps else 0.0


def _check_prompt(input_ids: torch.Tensor) -> torch.Tensor:
    if input_ids.dim() == 1:
        input_ids = input_ids.unsqueeze(0)
    if input_ids.dim() != 2 or input_ids.shape[0] != 1 or input_ids.shape[1] == 0:
        raise ValueError(f"expected one non-empty prompt of shape (1, L), got {tuple(input_ids.shape)}")
    return input_ids


def _eos_set(eos_token_id: int | list[int] | None) -> set[int]:
    if eos_token_id is None:
        return set()
    return {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id)


@torch.no_grad()
def greedy_generate(
    model: ExaoneMoeForCausalLM,
    input_ids: torch.Tensor,
    max_new_tokens: int,
    eos_token_id: int | list[int] | None = None,
) -> GenerationResult:
    """Plain greedy decoding with a KV cache: one main-model forward per generated token."""
    input_ids = _check_prompt(input_ids)
    eos = _eos_set(eos_token_id)
    cache = HybridKVCache(model.config)
    result = GenerationResult(tokens=[], main_steps=0)
    step_input = input_ids
    while len(result.tokens) < max_new_tokens:
        logits = model(input_ids=step_input, cache=cache, use_cache=True, logits_to_keep=1).logits
        result.main_steps += 1
        result.track(cache)
        token = int(logits[0, -1].argmax())
        result.tokens.append(token)
        if token in eos:
            break
        step_input = torch.tensor([[token]], device=input_ids.device)
    return result


def _main_forward(model: ExaoneMoeWithMTP, ids: torch.Tensor, cache: HybridKVCache) -> tuple[torch.Tensor, torch.Tensor]:
    hidden = model.model(input_ids=ids, cache=cache, use_cache=True).last_hidden_state
    return hidden, model.lm_head(hidden)


@torch.no_grad()
def mtp_speculative_generate(
    model: ExaoneMoeWithMTP,
    input_ids: torch.Tensor,
    max_new_tokens: int,
    draft_tokens: int = 2,
    eos_token_id: int | list[int] | None = None,
) -> GenerationResult:
    """Greedy decoding where the MTP block drafts ``draft_tokens`` tokens and the main model verifies them at once."""
    if not isinstance(model, ExaoneMoeWithMTP):
        raise TypeError("MTP speculative decoding needs an ExaoneMoeWithMTP model (a checkpoint with mtp.* weights)")
    if draft_tokens < 1:
        raise ValueError(f"draft_tokens must be >= 1, got {draft_tokens}")
    input_ids = _check_prompt(input_ids)
    device = input_ids.device
    eos = _eos_set(eos_token_id)
    main_cache = HybridKVCache(model.config)
    mtp_cache = HybridKVCache(model.config, layer_types=[mtp_layer_type(model.config)])
    main_cache.activate_past_recording()  # sliding layers can then be rolled back by the rejected drafts
    mtp_cache.activate_past_recording()

    hidden, logits = _main_forward(model, input_ids, main_cache)
    main_cache.crop(0)  # trims the sliding layers to their window after the prefill
    result = GenerationResult(tokens=[], main_steps=1)
    result.track(main_cache)
    pending = int(logits[0, -1].argmax())
    # True (h_t, x_{t+1}) pairs not yet in the MTP cache, starting at position `mtp_len`.
    pair_hidden, pair_tokens = hidden, torch.cat([input_ids[:, 1:], torch.tensor([[pending]], device=device)], 1)
    mtp_len = 0

    while True:
        result.tokens.append(pending)
        if pending in eos or len(result.tokens) >= max_new_tokens:
            break
        # 1. draft: refill the MTP cache with the true pairs, then chain K - 1 more single-token steps.
        mtp_cache.crop(-(mtp_cache.get_seq_length() - mtp_len))  # crop(0) still trims a sliding layer
        positions = torch.arange(mtp_len, mtp_len + pair_tokens.shape[1], device=device).unsqueeze(0)
        g, draft_logits = model.mtp_forward(pair_hidden, pair_tokens, positions, cache=mtp_cache)
        mtp_len += pair_tokens.shape[1]
        drafts = [int(draft_logits[0, -1].argmax())]
        for k in range(1, draft_tokens):
            position = torch.tensor([[mtp_len + k - 1]], device=device)
            g, draft_logits = model.mtp_forward(g[:, -1:], torch.tensor([[drafts[-1]]], device=device), position,
                                                cache=mtp_cache)
            drafts.append(int(draft_logits[0, -1].argmax()))
        # 2. verify all drafts in one main-model forward.
        verify_ids = torch.tensor([[pending, *drafts]], device=device)
        hidden, logits = _main_forward(model, verify_ids, main_cache)
        result.main_steps += 1
        targets = logits[0].argmax(-1).tolist()
        accepted = 0
        while accepted < draft_tokens and drafts[accepted] == targets[accepted]:
            accepted += 1
        result.drafted += draft_tokens
        result.accepted += accepted
        result.accepted_per_step.append(accepted)
        # 3. emit accepted drafts (stopping at EOS or the budget), roll the main cache back to them.
        stop = False
        for token in drafts[:accepted]:
            result.tokens.append(token)
            if token in eos or len(result.tokens) >= max_new_tokens:
                stop = True
                break
        if stop:
            break
        main_cache.crop(-(draft_tokens - accepted))
        result.track(main_cache)
        pending = targets[accepted]
        pair_hidden = hidden[:, : accepted + 1]
        pair_tokens = torch.tensor([[*drafts[:accepted], pending]], device=device)
    return result
