"""Triton hybrid-attention kernels vs the reference; on CPU they run in the Triton interpreter (small shapes).

Triton must be *imported* with ``TRITON_INTERPRET=1`` (its standard-library functions are decorated at import) and
the variable must stay set while kernels run. Another test module of the same worker may already have imported
Triton, so on CPU this module re-runs itself in a fresh interpreter subprocess with the variable set; the
environment of the test process is never changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton")

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
RUN_HERE = DEVICE == "cuda" or os.environ.get("TRITON_INTERPRET") == "1"


@pytest.mark.skipif(RUN_HERE, reason="kernels run in this process")
def test_kernels_in_interpreter_subprocess():
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", __file__]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    summary = proc.stdout.strip().splitlines()[-1]
    assert "passed" in summary and "1 skipped" in summary, summary  # only this launcher is skipped there


from haetae.alignment import attention_triton as kernels  # noqa: E402
from haetae.alignment.attention_reference import reference_attention  # noqa: E402

from .test_attention import make_inputs  # noqa: E402

needs_kernels = pytest.mark.skipif(not RUN_HERE, reason="run by test_kernels_in_interpreter_subprocess")

CASES = [
    # batch, q_heads, kv_heads, q_len, k_len, dim, window, rope, pad
    (2, 4, 1, 37, 37, 16, 8, True, True),  # GQA 4, window < tile, padding
    (1, 8, 1, 40, 40, 16, 20, True, False),  # GQA 8, window spans two tiles
    (2, 2, 2, 33, 33, 16, None, False, True),  # global NoPE, MHA
    (1, 4, 2, 19, 19, 32, 1, True, True),  # W = 1
    (1, 2, 1, 21, 21, 16, 64, True, False),  # W >= L
    (2, 4, 2, 5, 40, 16, 12, True, True),  # a few queries at the end of a longer key range
]


def to_device(tensors, kwargs):
    moved = [t.detach().float().to(DEVICE).requires_grad_() for t in tensors]
    kw = {}
    for name, t in kwargs.items():
        t = t.to(DEVICE)
        kw[name] = t.detach().float().requires_grad_() if "weight" in name else (t.float() if t.is_floating_point() else t)
    return moved, kw


def assert_kernel_matches_reference(q, k, v, **kwargs):
    """Forward and the gradients of q, k, v and both norm weights, kernel vs reference."""
    want = reference_attention(q, k, v, **kwargs)
    got = kernels.triton_attention(q, k, v, **kwargs)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    leaves = [q, k, v, kwargs["q_norm_weight"], kwargs["k_norm_weight"]]
    grad_out = torch.randn_like(want)
    got_grads = torch.autograd.grad(got, leaves, grad_out)
    want_grads = torch.autograd.grad(want, leaves, grad_out)
    for name, g_got, g_want in zip(("q", "k", "v", "q_norm", "k_norm"), got_grads, want_grads):
        torch.testing.assert_close(g_got, g_want, rtol=1e-4, atol=1e-4, msg=name)


@needs_kernels
@pytest.mark.parametrize("case", CASES, ids=lambda c: "B{}H{}/{}L{}/{}D{}W{}".format(*c[:7]))
def test_triton_forward_and_backward_match_reference(case):
    batch, hq, hkv, lq, lk, dim, window, rope, pad = case
    q, k, v, kwargs = make_inputs(batch, hq, hkv, lq, lk, dim, rope=rope, norm=True, pad=pad, seed=sum(case[:6]))
    (q, k, v), kwargs = to_device((q, k, v), kwargs)
    assert_kernel_matches_reference(q, k, v, window=window, **kwargs)


@needs_kernels
@pytest.mark.parametrize("window", [None, 6])
def test_decode_over_cache_matches_reference(window):
    """One and three new tokens over a cache; the sliding case holds only the last W - 1 + Lq keys."""
    for q_len, k_len in ((1, 30), (3, 30)):
        q, k, v, kwargs = make_inputs(2, 8, 2, q_len, k_len, 16, rope=False, norm=False, pad=True, seed=q_len)
        (q, k, v), kwargs = to_device((q, k, v), kwargs)
        pad = kwargs["key_padding_mask"]
        want = reference_attention(q, k, v, window=window, key_padding_mask=pad)
        if window is not None:  # what a trimmed sliding cache passes in
            keep = window - 1 + q_len
            k, v, pad = k[:, :, -keep:], v[:, :, -keep:], pad[:, -keep:]
        got = kernels.decode_attention(q, k, v, window=window, key_padding_mask=pad)
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@needs_kernels
def test_rejects_non_power_of_two_head_dim():
    q = torch.randn(1, 2, 4, 12, device=DEVICE)
    with pytest.raises(ValueError, match="power-of-two head_dim"):
        kernels.triton_attention(q, q, q)


@needs_kernels
def test_half_precision_dots_stay_close():
    """fp16 inputs: dots in fp16, softmax and accumulators in fp32. (The Triton 3.9 interpreter computes bf16
    ``tl.dot`` wrongly even in a two-line kernel, so bf16 can only be checked on a GPU.)"""
    q, k, v, kwargs = make_inputs(1, 4, 2, 40, 40, 32, rope=True, norm=True, pad=True, seed=11, dtype=torch.float16)
    (q, k, v), kwargs = to_device((q, k, v), kwargs)
    q16, k16, v16 = (t.detach().half().requires_grad_() for t in (q, k, v))
    got = kernels.triton_attention(q16, k16, v16, window=12, **kwargs)
    want = reference_attention(q, k, v, window=12, **kwargs)
    assert got.dtype == torch.float16
    torch.testing.assert_close(got.float(), want, rtol=2e-2, atol=2e-2)
    grad_out = torch.randn_like(want)
    got_grads = torch.autograd.grad(got, (q16, k16, v16), grad_out.half())
    want_grads = torch.autograd.grad(want, (q, k, v), grad_out)
    for g_got, g_want in zip(got_grads, want_grads):
        torch.testing.assert_close(g_got.float(), g_want, rtol=5e-2, atol=5e-2)


@needs_kernels
def test_model_through_triton_dispatch_matches_eager(monkeypatch):
    """The registered haetae_hybrid path on the Triton kernels (forced on CPU): logits, gradients and greedy
    decoding (the decode kernel over the trimmed sliding cache) equal eager on the tiny hybrid model."""
    import copy

    from transformers import ExaoneMoeForCausalLM

    import haetae.alignment.attention as hybrid

    from .test_attention_model import batch_with_left_padding, tiny_config

    used = []
    monkeypatch.setattr(hybrid, "_use_triton", lambda q: used.append(q.shape[2]) or True)
    torch.manual_seed(0)
    base = ExaoneMoeForCausalLM(tiny_config(window=4, layers=2, heads=2, kv_heads=1)).eval()  # interpreter: keep small
    ids, mask = batch_with_left_padding(seed=7, length=10)
    ids, mask = ids[:2], mask[:2]
    models = {}
    for impl in ("eager", hybrid.NAME):
        models[impl] = ExaoneMoeForCausalLM(copy.deepcopy(base.config)).eval()
        models[impl].load_state_dict(base.state_dict())
        models[impl].set_attn_implementation(impl)
    logits = {impl: m(ids, attention_mask=mask).logits for impl, m in models.items()}
    valid = mask.bool()
    torch.testing.assert_close(logits[hybrid.NAME][valid], logits["eager"][valid], rtol=1e-4, atol=1e-5)
    assert used, "Triton dispatch was not taken"
    q_proj = {impl: m.model.layers[1].self_attn.q_proj.weight for impl, m in models.items()}
    grads = {impl: torch.autograd.grad(logits[impl][valid].square().mean(), q_proj[impl])[0] for impl in models}
    torch.testing.assert_close(grads[hybrid.NAME], grads["eager"], rtol=1e-3, atol=1e-6)
    with torch.no_grad():
        out = {impl: m.generate(ids, attention_mask=mask, max_new_tokens=3, do_sample=False) for impl, m in models.items()}
    assert torch.equal(out[hybrid.NAME], out["eager"])
    assert 1 in used  # decoding steps went through the kernels too
    # the in-kernel RMSNorm + RoPE prologue at model level (raw q/k, norm weights and cos/sin reach the kernel)
    assert hybrid.fuse_qk_prologue(models[hybrid.NAME]) == 2
    fused = models[hybrid.NAME](ids, attention_mask=mask).logits
    torch.testing.assert_close(fused[valid], logits["eager"][valid], rtol=1e-4, atol=1e-5)


@needs_kernels
def test_packed_documents_match_reference():
    """Document ids in every kernel (forward, dK/dV, dQ) and the document-bounded block skipping: documents that
    cross 16-row tiles, a 3-token document inside a sliding window, per-row documents. (The global layer's packed
    path is covered through the model below.)"""
    from .test_attention_packing import docs_for

    window = 5
    docs = docs_for([[7, 3, 12, 12], [21, 13]]).to(DEVICE)
    q, k, v, kwargs = make_inputs(2, 2, 1, 34, 34, 16, rope=True, norm=True, pad=False, seed=21)
    (q, k, v), kwargs = to_device((q, k, v), kwargs)
    assert_kernel_matches_reference(q, k, v, window=window, document_ids=docs, **kwargs)


@needs_kernels
def test_packed_batch_through_triton_dispatch_matches_eager(monkeypatch):
    """A DataCollatorWithFlattening batch through a sliding and a global layer on the kernels: loss and gradients
    equal eager's."""
    import copy

    from transformers import DataCollatorWithFlattening, ExaoneMoeForCausalLM

    import haetae.alignment.attention as hybrid

    from .test_attention_model import tiny_config

    used = []
    monkeypatch.setattr(hybrid, "_use_triton", lambda q: used.append(q.shape[2]) or True)
    torch.manual_seed(0)
    base = ExaoneMoeForCausalLM(tiny_config(window=4, layers=2, heads=2, kv_heads=1)).train()
    gen = torch.Generator().manual_seed(3)
    features = [{"input_ids": torch.randint(3, 96, (n,), generator=gen).tolist()} for n in (9, 3, 8)]
    batch = DataCollatorWithFlattening(return_tensors="pt")([{**f, "labels": f["input_ids"]} for f in features])
    losses, grads = {}, {}
    for impl in ("eager", hybrid.NAME):
        m = ExaoneMoeForCausalLM(copy.deepcopy(base.config)).train()
        m.load_state_dict(base.state_dict())
        m.set_attn_implementation(impl)
        losses[impl] = m(**batch, use_cache=False).loss
        grads[impl] = torch.autograd.grad(losses[impl], m.model.layers[1].self_attn.q_proj.weight)[0]
    assert used == [20, 20]
    torch.testing.assert_close(losses[hybrid.NAME], losses["eager"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grads[hybrid.NAME], grads["eager"], rtol=1e-3, atol=1e-6)
