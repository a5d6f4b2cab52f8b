"""The decoders' KV cache: sliding layers hold only their window during generation, outputs equal a model run
without any cache (every step recomputes the whole sequence)."""

from __future__ import annotations

import pytest
import torch
from transformers import ExaoneMoeForCausalLM

import haetae.alignment.attention as hybrid
from haetae.alignment.configs import get_config
from haetae.alignment.generate import greedy_generate, mtp_speculative_generate
from haetae.alignment.mtp import ExaoneMoeWithMTP

from .test_attention_model import WINDOW, tiny_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@torch.no_grad()
def greedy_without_cache(model, ids: torch.Tensor, new_tokens: int) -> list[int]:
    for _ in range(new_tokens):
        token = model(input_ids=ids, use_cache=False).logits[0, -1].argmax()
        ids = torch.cat([ids, token.view(1, 1)], dim=1)
    return ids[0, -new_tokens:].tolist()


@pytest.mark.parametrize("impl", ["sdpa", hybrid.NAME])
def test_greedy_keeps_the_window_in_sliding_layers_and_equals_uncached_decoding(impl):
    torch.manual_seed(0)
    model = ExaoneMoeForCausalLM(tiny_config()).eval()
    model.set_attn_implementation(impl)
    prompt, new = 17, 12
    ids = torch.randint(3, 96, (1, prompt), generator=torch.Generator().manual_seed(1))
    result = greedy_generate(model, ids, new)
    assert result.tokens == greedy_without_cache(model, ids, new)
    assert result.kv_positions == [WINDOW - 1] * 3 + [prompt + new - 1]  # the last token is never fed back


@pytest.fixture(scope="module")
def mtp_model():
    torch.manual_seed(0)
    model = ExaoneMoeWithMTP(get_config("tiny")).eval()
    model.set_attn_implementation(hybrid.NAME)
    return model


@pytest.mark.parametrize("draft_tokens", [1, 3])
def test_speculative_rolls_back_a_windowed_cache_and_equals_uncached_decoding(mtp_model, draft_tokens):
    window = mtp_model.config.sliding_window
    prompt, new = window + 9, 2 * window
    gen = torch.Generator().manual_seed(draft_tokens)
    for _ in range(2):
        ids = torch.randint(3, mtp_model.config.vocab_size, (1, prompt), generator=gen)
        result = mtp_speculative_generate(mtp_model, ids, new, draft_tokens)
        assert result.tokens == greedy_without_cache(mtp_model, ids, new)
        kinds = mtp_model.config.layer_types
        sliding = [n for n, kind in zip(result.kv_positions, kinds) if kind == "sliding_attention"]
        full = [n for n, kind in zip(result.kv_positions, kinds) if kind == "full_attention"]
        assert sliding == [window - 1] * 3
        assert len(full) == 1 and prompt < full[0] <= prompt + new - 1  # decoding may stop inside a verify step
        assert min(result.accepted_per_step) < draft_tokens  # rejected drafts were rolled back
