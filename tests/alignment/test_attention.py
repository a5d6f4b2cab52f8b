"""Blocked CPU hybrid attention vs the plain-PyTorch reference: forward and gradients on fresh random inputs."""

from __future__ import annotations

import pytest
import torch

from haetae.alignment import attention_blocked
from haetae.alignment.attention import haetae_hybrid_attention, hybrid_attention
from haetae.alignment.attention_blocked import blocked_attention, key_range
from haetae.alignment.attention_reference import reference_attention, visibility_mask


def make_inputs(batch, q_heads, kv_heads, q_len, k_len, dim, *, rope, norm, pad, seed, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=dtype)

    q = rand(batch, q_heads, q_len, dim).requires_grad_()
    k = rand(batch, kv_heads, k_len, dim).requires_grad_()
    v = rand(batch, kv_heads, k_len, dim).requires_grad_()
    kwargs = {}
    if norm:
        kwargs["q_norm_weight"] = (1 + 0.2 * rand(dim)).requires_grad_()
        kwargs["k_norm_weight"] = (1 + 0.2 * rand(dim)).requires_grad_()
    if rope:
        inv_freq = 1.0 / (10_000 ** (torch.arange(0, dim, 2, dtype=dtype) / dim))
        angles = torch.arange(k_len, dtype=dtype)[:, None] * inv_freq[None]
        angles = torch.cat([angles, angles], -1)[None]
        kwargs["cos"], kwargs["sin"] = angles.cos(), angles.sin()
    if pad:  # left padding of varying length, as a batch of prompts would have
        lengths = torch.randint(1, k_len + 1, (batch,), generator=gen)
        lengths[0] = k_len
        kwargs["key_padding_mask"] = torch.arange(k_len)[None] >= (k_len - lengths)[:, None]
    return q, k, v, kwargs


def grads(out, inputs, grad_out):
    return torch.autograd.grad(out, inputs, grad_out)


CASES = [
    # batch, q_heads, kv_heads, q_len, k_len, dim, window, rope/norm (sliding layers rotate), pad, block
    (2, 4, 4, 50, 50, 16, 8, True, True, 16),  # MHA, window < block
    (2, 4, 1, 61, 61, 16, 20, True, True, 16),  # GQA 4, window > block
    (1, 8, 1, 40, 40, 8, None, False, True, 8),  # GQA 8, global (NoPE)
    (2, 8, 2, 33, 33, 32, 1, True, False, 8),  # W = 1: each query sees itself only
    (2, 2, 1, 30, 30, 16, 64, True, True, None),  # W >= L: plain causal
    (3, 4, 2, 70, 70, 16, None, False, False, None),  # global, default block
    (2, 4, 2, 3, 45, 16, 10, True, True, None),  # decode-style: 3 new queries over a 45-key cache
    (1, 4, 4, 1, 17, 16, None, False, True, None),  # one token over a global cache
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "B{}H{}/{}L{}/{}D{}W{}".format(*c[:7]))
@pytest.mark.parametrize("norm", [True, False], ids=["qknorm", "raw"])
@pytest.mark.parametrize("mode", ["sdpa-global+flash-tiles", "flash-tiles", "torch-tiles"])
def test_blocked_matches_reference_forward_and_grads(case, norm, mode, monkeypatch):
    monkeypatch.setattr(attention_blocked, "FLASH_TILES", mode != "torch-tiles")
    use_sdpa = mode.startswith("sdpa")
    batch, hq, hkv, lq, lk, dim, window, rope, pad, block = case
    q, k, v, kwargs = make_inputs(batch, hq, hkv, lq, lk, dim, rope=rope, norm=norm, pad=pad, seed=hash(case) % 1000)
    want = reference_attention(q, k, v, window=window, **kwargs)
    got = blocked_attention(q, k, v, window=window, block=block, use_sdpa=use_sdpa, **kwargs)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
    leaves = [q, k, v] + [kwargs[n] for n in ("q_norm_weight", "k_norm_weight") if n in kwargs]
    grad_out = torch.randn_like(want)
    for g_got, g_want in zip(grads(got, leaves, grad_out), grads(want, leaves, grad_out)):
        torch.testing.assert_close(g_got, g_want, rtol=1e-8, atol=1e-8)


def test_reference_window_semantics_match_transformers_overlay():
    """Query i sees keys i - W < j <= i: W = 3 at position 5 sees 3, 4, 5."""
    mask = visibility_mask(8, 8, 3)[0, 0]
    assert mask[5].nonzero().flatten().tolist() == [3, 4, 5]
    assert mask[0].nonzero().flatten().tolist() == [0]
    assert visibility_mask(2, 8, None)[0, 0, 0].sum() == 7  # queries sit at the end of the keys


def test_fully_padded_rows_are_zero_with_zero_grads():
    q, k, v, kwargs = make_inputs(1, 2, 1, 12, 12, 8, rope=False, norm=False, pad=False, seed=3)
    pad = torch.ones(1, 12, dtype=torch.bool)
    pad[0, :4] = False
    out = blocked_attention(q, k, v, window=4, key_padding_mask=pad, block=4)
    assert out[0, :, :4].abs().max() == 0  # rows 0..3 see only padding
    assert out[0, :, 4:].abs().min() > 0
    (dq,) = torch.autograd.grad(out.sum(), [q])
    assert dq[0, :, :4].abs().max() == 0


def test_float32_close_to_float64_reference():
    q, k, v, kwargs = make_inputs(2, 4, 2, 64, 64, 32, rope=True, norm=True, pad=True, seed=5, dtype=torch.float32)
    want = reference_attention(*(t.double() for t in (q, k, v)), window=16,
                               **{n: t.double() if t.is_floating_point() else t for n, t in kwargs.items()})
    got = blocked_attention(q, k, v, window=16, **kwargs)
    torch.testing.assert_close(got.double(), want, rtol=1e-4, atol=1e-5)


def test_bfloat16_runs_and_stays_close():
    q, k, v, kwargs = make_inputs(1, 4, 2, 48, 48, 16, rope=True, norm=True, pad=False, seed=6, dtype=torch.bfloat16)
    got = blocked_attention(q, k, v, window=8, **kwargs)
    want = reference_attention(q.float(), k.float(), v.float(), window=8,
                               **{n: t.float() for n, t in kwargs.items()})
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want, rtol=5e-2, atol=5e-2)
    got.float().sum().backward()
    assert q.grad is not None and torch.isfinite(q.grad.float()).all()


def test_sliding_work_is_linear_in_length():
    """Each query block visits at most W - 1 + block keys, whatever the sequence length."""
    window, block = 128, 128
    for length in (1024, 16384):
        visited = sum(
            hi - lo
            for start in range(0, length, block)
            for lo, hi in [key_range(start, min(start + block, length), 0, length, window)]
        )
        assert visited <= (length // block) * (window - 1 + block)


def test_registered_function_layout_and_errors():
    q, k, v, _ = make_inputs(2, 4, 2, 10, 10, 8, rope=False, norm=False, pad=False, seed=9)
    module = torch.nn.Module()
    out, weights = haetae_hybrid_attention(module, q, k, v, None, scaling=0.3, sliding_window=4)
    assert weights is None and out.shape == (2, 10, 4, 8)
    torch.testing.assert_close(out, reference_attention(q, k, v, scale=0.3, window=4).transpose(1, 2))
    with pytest.raises(NotImplementedError, match="dropout"):
        haetae_hybrid_attention(module, q, k, v, None, scaling=0.3, dropout=0.1)
    with pytest.raises(ValueError, match="2D key-padding mask"):
        haetae_hybrid_attention(module, q, k, v, torch.zeros(2, 1, 10, 10), scaling=0.3)


@pytest.mark.parametrize(
    "shapes, window, message",
    [
        (((1, 4, 5, 8), (1, 3, 5, 8)), None, "Hq % Hkv"),
        (((1, 2, 6, 8), (1, 2, 5, 8)), None, "more queries"),
        (((1, 2, 5, 8), (1, 2, 5, 8)), 0, "window must be >= 1"),
        (((2, 5, 8), (2, 5, 8)), None, "expected q"),
    ],
)
def test_bad_inputs_are_rejected(shapes, window, message):
    q, k = torch.randn(*shapes[0]), torch.randn(*shapes[1])
    with pytest.raises(ValueError, match=message):
        hybrid_attention(q, k, k, window=window)
