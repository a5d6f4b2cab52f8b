"""Triton kernels for K-EXAONE hybrid attention (GPU; on CPU they run under ``TRITON_INTERPRET=1`` for tests).

Forward: one program per (query block, batch x query head); online softmax over the key blocks inside the causal
window only (block skipping: a sliding layer visits ``ceil((W + BLOCK_M) / BLOCK_N)`` key blocks, a global layer
those up to the diagonal); GQA by mapping query head ``h`` to kv head ``h // G`` (K/V never repeated); the per-head
RMSNorm + RoPE prologue is fused: q rows are normalised/rotated once per program, k rows per visited tile.
Backward: FlashAttention-2 style dK/dV kernel (one program per key block and kv head, looping over the ``G`` query
heads of its group and the query blocks whose window covers the keys, so no atomics) and dQ kernel. The prologue's
backward (RMSNorm, RoPE) is NOT fused: it runs in PyTorch around the kernels (the normed q/k are recomputed and
autograd maps dQ/dK back to raw q/k and the norm weights; O(L x D) extra memory).
Packed batches (``document_ids``): a tile also masks pairs from different documents, and block skipping starts a
query block's keys at its first row's document (forward, dQ) and ends a key block's queries at its last key's
document (dK/dV), so a packed row costs about the sum of its documents' squared lengths.
Decode: :func:`decode_attention` runs the forward kernel with a 16-row query tile over a KV cache (queries aligned to
the end of the cache).

Semantics (mask, alignment, empty rows -> 0) are those of :mod:`haetae.alignment.attention_reference`.
"""

from __future__ import annotations

import os

import torch

from .attention_packing import document_ends, document_starts
from .attention_reference import check_shapes, prologue

try:
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - triton is a Linux x86_64 dependency
    triton = None

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"


def triton_available() -> bool:
    return triton is not None


if triton is not None:

    @triton.jit
    def _load_rows(base, rows, stride_row, offs_d, n_rows, extra_col):
        ptrs = base + rows[:, None] * stride_row + (offs_d + extra_col)[None, :]
        return tl.load(ptrs, mask=(rows < n_rows)[:, None], other=0.0).to(tl.float32)

    @triton.jit
    def _prologue_rows(
        x1, x2, w_ptr, cos_ptr, sin_ptr, pos, stride_cn, n_pos, eps,
        HALF: tl.constexpr, HAS_NORM: tl.constexpr, HAS_ROPE: tl.constexpr,
    ):  # fmt: skip
        offs_d = tl.arange(0, HALF)
        if HAS_NORM:
            ms = (tl.sum(x1 * x1, 1) + tl.sum(x2 * x2, 1)) / (2 * HALF)
            r = 1.0 / tl.sqrt(ms + eps)
            w1 = tl.load(w_ptr + offs_d).to(tl.float32)
            w2 = tl.load(w_ptr + HALF + offs_d).to(tl.float32)
            x1 = x1 * r[:, None] * w1[None, :]
            x2 = x2 * r[:, None] * w2[None, :]
        if HAS_ROPE:
            c1 = _load_rows(cos_ptr, pos, stride_cn, offs_d, n_pos, 0)
            c2 = _load_rows(cos_ptr, pos, stride_cn, offs_d, n_pos, HALF)
            s1 = _load_rows(sin_ptr, pos, stride_cn, offs_d, n_pos, 0)
            s2 = _load_rows(sin_ptr, pos, stride_cn, offs_d, n_pos, HALF)
            y1 = x1 * c1 - x2 * s1
            y2 = x2 * c2 + x1 * s2
            x1, x2 = y1, y2
        return x1, x2

    @triton.jit
    def _fwd_kernel(
        Q, K, V, Out, Lse, QW, KW, Cos, Sin, Pad, Doc, DocStart,
        sqb, sqh, sqm, skb, skh, skn, svb, svh, svn, sob, soh, som, scb, scn, spb, sdb,
        n_heads, groups, q_len, k_len, scale, eps, window,
        HALF: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
        HAS_NORM: tl.constexpr, HAS_ROPE: tl.constexpr, HAS_PAD: tl.constexpr, HAS_WINDOW: tl.constexpr,
        HAS_DOC: tl.constexpr,
    ):  # fmt: skip
        pid_m = tl.program_id(0)
        pid_bh = tl.program_id(1).to(tl.int64)
        b = pid_bh // n_heads
        h = pid_bh % n_heads
        kvh = h // groups
        offset = k_len - q_len
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, HALF)
        q_base = Q + b * sqb + h * sqh
        q1 = _load_rows(q_base, offs_m, sqm, offs_d, q_len, 0)
        q2 = _load_rows(q_base, offs_m, sqm, offs_d, q_len, HALF)
        q_pos = offs_m + offset
        q1, q2 = _prologue_rows(
            q1, q2, QW, Cos + b * scb, Sin + b * scb, q_pos, scn, k_len, eps, HALF, HAS_NORM, HAS_ROPE
        )
        dt = Q.dtype.element_ty  # dots run in the input precision (bf16/fp16 tensor cores), softmax in fp32
        q1 = q1.to(dt)
        q2 = q2.to(dt)
        k_base = K + b * skb + kvh * skh
        v_base = V + b * svb + kvh * svh
        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc1 = tl.zeros([BLOCK_M, HALF], tl.float32)
        acc2 = tl.zeros([BLOCK_M, HALF], tl.float32)
        hi = tl.minimum(k_len, (pid_m + 1) * BLOCK_M + offset)
        lo = 0
        if HAS_WINDOW:
            lo = tl.maximum(0, pid_m * BLOCK_M + offset - window + 1)
        if HAS_DOC:
            q_doc = tl.load(Doc + b * sdb + q_pos, mask=offs_m < q_len, other=-1)
            lo = tl.maximum(lo, tl.load(DocStart + b * sdb + pid_m * BLOCK_M + offset))
        if HAS_WINDOW or HAS_DOC:
            lo = (lo // BLOCK_N) * BLOCK_N
        for start_n in range(lo, hi, BLOCK_N):
            offs_n = start_n + tl.arange(0, BLOCK_N)
            k1 = _load_rows(k_base, offs_n, skn, offs_d, k_len, 0)
            k2 = _load_rows(k_base, offs_n, skn, offs_d, k_len, HALF)
            k1, k2 = _prologue_rows(
                k1, k2, KW, Cos + b * scb, Sin + b * scb, offs_n, scn, k_len, eps, HALF, HAS_NORM, HAS_ROPE
            )
            k1 = k1.to(dt)
            k2 = k2.to(dt)
            s = (tl.dot(q1, tl.trans(k1)) + tl.dot(q2, tl.trans(k2))) * scale
            visible = (offs_n[None, :] <= q_pos[:, None]) & (offs_n[None, :] < k_len)
            if HAS_WINDOW:
                visible = visible & (offs_n[None, :] > q_pos[:, None] - window)
            if HAS_PAD:
                keep = tl.load(Pad + b * spb + offs_n, mask=offs_n < k_len, other=0)
                visible = visible & (keep[None, :] != 0)
            if HAS_DOC:
                k_doc = tl.load(Doc + b * sdb + offs_n, mask=offs_n < k_len, other=-2)
                visible = visible & (q_doc[:, None] == k_doc[None, :])
            s = tl.where(visible, s, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(s, 1))
            m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
            p = tl.exp(s - m_safe[:, None])
            alpha = tl.exp(m_i - m_safe)
            l_i = l_i * alpha + tl.sum(p, 1)
            v1 = _load_rows(v_base, offs_n, svn, offs_d, k_len, 0)
            v2 = _load_rows(v_base, offs_n, svn, offs_d, k_len, HALF)
            p_dt = p.to(dt)
            acc1 = acc1 * alpha[:, None] + tl.dot(p_dt, v1.to(dt))
            acc2 = acc2 * alpha[:, None] + tl.dot(p_dt, v2.to(dt))
            m_i = m_new
        l_safe = tl.where(l_i == 0.0, 1.0, l_i)
        acc1 = acc1 / l_safe[:, None]
        acc2 = acc2 / l_safe[:, None]
        lse = tl.where(l_i == 0.0, float("-inf"), m_i + tl.log(l_safe))
        row_ok = (offs_m < q_len)[:, None]
        o_base = Out + b * sob + h * soh
        tl.store(o_base + offs_m[:, None] * som + offs_d[None, :], acc1.to(Out.dtype.element_ty), mask=row_ok)
        tl.store(o_base + offs_m[:, None] * som + (offs_d + HALF)[None, :], acc2.to(Out.dtype.element_ty), mask=row_ok)
        tl.store(Lse + pid_bh * q_len + offs_m, lse, mask=offs_m < q_len)

    @triton.jit
    def _probs_tile(
        q, k, lse, q_pos, offs_n, k_len, window, keep, q_doc, k_doc, scale,
        HAS_WINDOW: tl.constexpr, HAS_DOC: tl.constexpr,
    ):  # fmt: skip
        s = tl.dot(q, tl.trans(k)) * scale
        visible = (offs_n[None, :] <= q_pos[:, None]) & (offs_n[None, :] < k_len) & (keep[None, :] != 0)
        visible = visible & (lse[:, None] != float("-inf"))
        if HAS_WINDOW:
            visible = visible & (offs_n[None, :] > q_pos[:, None] - window)
        if HAS_DOC:
            visible = visible & (q_doc[:, None] == k_doc[None, :])
        lse_safe = tl.where(lse == float("-inf"), 0.0, lse)
        return tl.where(visible, tl.exp(s - lse_safe[:, None]), 0.0)

    @triton.jit
    def _bwd_dkdv_kernel(
        Q, K, V, DO, Lse, Delta, DK, DV, Pad, Doc, DocBound,
        sqb, sqh, sqm, skb, skh, skn, n_heads, n_kv_heads, groups, q_len, k_len, scale, window, spb, sdb,
        HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
        HAS_PAD: tl.constexpr, HAS_WINDOW: tl.constexpr, HAS_DOC: tl.constexpr,
    ):  # fmt: skip
        # DocBound holds each key's document end (one past its last token). q, do share strides (sq*); k, v, dk, dv share strides (sk*); all contiguous in the last dim.
        pid_n = tl.program_id(0)
        pid_bh = tl.program_id(1).to(tl.int64)
        b = pid_bh // n_kv_heads
        kvh = pid_bh % n_kv_heads
        offset = k_len - q_len
        offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        offs_d = tl.arange(0, HEAD_DIM)
        kv_off = b * skb + kvh * skh
        dt = Q.dtype.element_ty
        k = _load_rows(K + kv_off, offs_n, skn, offs_d, k_len, 0).to(dt)
        v = _load_rows(V + kv_off, offs_n, skn, offs_d, k_len, 0).to(dt)
        keep = offs_n < k_len
        if HAS_PAD:
            keep = tl.load(Pad + b * spb + offs_n, mask=offs_n < k_len, other=0) != 0
        dk = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
        dv = tl.zeros([BLOCK_N, HEAD_DIM], tl.float32)
        lo = tl.maximum(0, pid_n * BLOCK_N - offset)
        lo = (lo // BLOCK_M) * BLOCK_M
        hi = q_len
        if HAS_WINDOW:
            hi = tl.minimum(q_len, (pid_n + 1) * BLOCK_N - 1 + window - offset)
        k_doc = offs_n
        if HAS_DOC:
            k_doc = tl.load(Doc + b * sdb + offs_n, mask=offs_n < k_len, other=-2)
            last_key = tl.minimum((pid_n + 1) * BLOCK_N, k_len) - 1
            hi = tl.minimum(hi, tl.load(DocBound + b * sdb + last_key) - offset)
        for g in range(groups):
            h = kvh * groups + g
            q_off = b * sqb + h * sqh
            row_off = (b * n_heads + h) * q_len
            for start_m in range(lo, hi, BLOCK_M):
                offs_m = start_m + tl.arange(0, BLOCK_M)
                q = _load_rows(Q + q_off, offs_m, sqm, offs_d, q_len, 0).to(dt)
                do = _load_rows(DO + q_off, offs_m, sqm, offs_d, q_len, 0).to(dt)
                lse = tl.load(Lse + row_off + offs_m, mask=offs_m < q_len, other=float("-inf"))
                delta = tl.load(Delta + row_off + offs_m, mask=offs_m < q_len, other=0.0)
                q_doc = offs_m
                if HAS_DOC:
                    q_doc = tl.load(Doc + b * sdb + offs_m + offset, mask=offs_m < q_len, other=-1)
                p = _probs_tile(
                    q, k, lse, offs_m + offset, offs_n, k_len, window, keep, q_doc, k_doc, scale, HAS_WINDOW, HAS_DOC
                )
                dv += tl.dot(tl.trans(p.to(dt)), do)
                dp = tl.dot(do, tl.trans(v))
                ds = p * (dp - delta[:, None]) * scale
                dk += tl.dot(tl.trans(ds.to(dt)), q)
        ptrs = offs_n[:, None] * skn + offs_d[None, :]
        ok = (offs_n < k_len)[:, None]
        tl.store(DK + kv_off + ptrs, dk.to(DK.dtype.element_ty), mask=ok)
        tl.store(DV + kv_off + ptrs, dv.to(DV.dtype.element_ty), mask=ok)

    @triton.jit
    def _bwd_dq_kernel(
        Q, K, V, DO, Lse, Delta, DQ, Pad, Doc, DocBound,
        sqb, sqh, sqm, skb, skh, skn, n_heads, groups, q_len, k_len, scale, window, spb, sdb,
        HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
        HAS_PAD: tl.constexpr, HAS_WINDOW: tl.constexpr, HAS_DOC: tl.constexpr,
    ):  # fmt: skip
        # DocBound holds each key's document start.
        pid_m = tl.program_id(0)
        pid_bh = tl.program_id(1).to(tl.int64)
        b = pid_bh // n_heads
        h = pid_bh % n_heads
        kvh = h // groups
        offset = k_len - q_len
        offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        offs_d = tl.arange(0, HEAD_DIM)
        q_off = b * sqb + h * sqh
        kv_off = b * skb + kvh * skh
        dt = Q.dtype.element_ty
        q = _load_rows(Q + q_off, offs_m, sqm, offs_d, q_len, 0).to(dt)
        do = _load_rows(DO + q_off, offs_m, sqm, offs_d, q_len, 0).to(dt)
        lse = tl.load(Lse + pid_bh * q_len + offs_m, mask=offs_m < q_len, other=float("-inf"))
        delta = tl.load(Delta + pid_bh * q_len + offs_m, mask=offs_m < q_len, other=0.0)
        dq = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
        hi = tl.minimum(k_len, (pid_m + 1) * BLOCK_M + offset)
        lo = 0
        if HAS_WINDOW:
            lo = tl.maximum(0, pid_m * BLOCK_M + offset - window + 1)
        q_doc = offs_m
        if HAS_DOC:
            q_doc = tl.load(Doc + b * sdb + offs_m + offset, mask=offs_m < q_len, other=-1)
            lo = tl.maximum(lo, tl.load(DocBound + b * sdb + pid_m * BLOCK_M + offset))
        if HAS_WINDOW or HAS_DOC:
            lo = (lo // BLOCK_N) * BLOCK_N
        for start_n in range(lo, hi, BLOCK_N):
            offs_n = start_n + tl.arange(0, BLOCK_N)
            k = _load_rows(K + kv_off, offs_n, skn, offs_d, k_len, 0).to(dt)
            v = _load_rows(V + kv_off, offs_n, skn, offs_d, k_len, 0).to(dt)
            keep = offs_n < k_len
            if HAS_PAD:
                keep = tl.load(Pad + b * spb + offs_n, mask=offs_n < k_len, other=0) != 0
            k_doc = offs_n
            if HAS_DOC:
                k_doc = tl.load(Doc + b * sdb + offs_n, mask=offs_n < k_len, other=-2)
            p = _probs_tile(
                q, k, lse, offs_m + offset, offs_n, k_len, window, keep, q_doc, k_doc, scale, HAS_WINDOW, HAS_DOC
            )
            dp = tl.dot(do, tl.trans(v))
            ds = p * (dp - delta[:, None]) * scale
            dq += tl.dot(ds.to(dt), k)
        ptrs = offs_m[:, None] * sqm + offs_d[None, :]
        tl.store(DQ + q_off + ptrs, dq.to(DQ.dtype.element_ty), mask=(offs_m < q_len)[:, None])


def _blocks(q_len: int, k_len: int) -> tuple[int, int]:
    small = 16 if INTERPRETED else 64
    block_m = 16 if q_len <= 16 else small
    return block_m, small


def _doc_tensors(docs, bound, dummy):
    """int32 document ids and one bound per key (starts or ends), contiguous, or dummies when not packed."""
    if docs is None:
        return dummy, dummy, 0
    ids = docs.to(torch.int32).contiguous()
    return ids, bound(docs).to(torch.int32).contiguous(), ids.stride(0)


def _forward(q, k, v, q_w, k_w, cos, sin, pad, docs, scale, window, eps, block_m=None):
    batch, q_heads, q_len, dim = q.shape
    kv_heads, k_len = k.shape[1], k.shape[2]
    bm, bn = _blocks(q_len, k_len)
    bm = block_m or bm
    out = torch.empty_like(q)
    lse = torch.empty(batch, q_heads, q_len, dtype=torch.float32, device=q.device)
    dummy = q.new_zeros(1)
    cos_t = cos.contiguous() if cos is not None else dummy
    sin_t = sin.contiguous() if sin is not None else dummy
    scb = 0 if cos is None or cos.shape[0] == 1 else cos_t.stride(0)
    scn = 0 if cos is None else cos_t.stride(1)
    pad_t = pad.to(torch.int8).contiguous() if pad is not None else dummy
    doc_t, start_t, sdb = _doc_tensors(docs, document_starts, dummy)
    grid = (triton.cdiv(q_len, bm), batch * q_heads)
    _fwd_kernel[grid](
        q, k, v, out, lse,
        q_w if q_w is not None else dummy, k_w if k_w is not None else dummy, cos_t, sin_t, pad_t, doc_t, start_t,
        *q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *out.stride()[:3], scb, scn,
        pad_t.stride(0) if pad is not None else 0, sdb,
        q_heads, q_heads // kv_heads, q_len, k_len, scale, eps, window or 0,
        HALF=dim // 2, BLOCK_M=bm, BLOCK_N=bn,
        HAS_NORM=q_w is not None, HAS_ROPE=cos is not None, HAS_PAD=pad is not None, HAS_WINDOW=window is not None,
        HAS_DOC=docs is not None,
    )  # fmt: skip
    return out, lse


def _backward(qn, kn, v, out, lse, grad_out, pad, docs, scale, window):
    batch, q_heads, q_len, dim = qn.shape
    kv_heads, k_len = kn.shape[1], kn.shape[2]
    bm, bn = _blocks(q_len, k_len)
    grad_out = grad_out.contiguous()
    delta = (grad_out.float() * out.float()).sum(-1).contiguous()
    dq = torch.empty_like(qn)
    dk = torch.empty_like(kn)
    dv = torch.empty_like(v)
    pad_t = pad.to(torch.int8).contiguous() if pad is not None else qn.new_zeros(1)
    spb = pad_t.stride(0) if pad is not None else 0
    doc_t, end_t, sdb = _doc_tensors(docs, document_ends, pad_t)
    _, start_t, _ = _doc_tensors(docs, document_starts, pad_t)
    flags = dict(HEAD_DIM=dim, BLOCK_M=bm, BLOCK_N=bn, HAS_PAD=pad is not None, HAS_WINDOW=window is not None,
                 HAS_DOC=docs is not None)
    _bwd_dkdv_kernel[(triton.cdiv(k_len, bn), batch * kv_heads)](
        qn, kn, v, grad_out, lse, delta, dk, dv, pad_t, doc_t, end_t,
        *qn.stride()[:3], *kn.stride()[:3], q_heads, kv_heads, q_heads // kv_heads, q_len, k_len, scale,
        window or 0, spb, sdb, **flags,
    )  # fmt: skip
    _bwd_dq_kernel[(triton.cdiv(q_len, bm), batch * q_heads)](
        qn, kn, v, grad_out, lse, delta, dq, pad_t, doc_t, start_t,
        *qn.stride()[:3], *kn.stride()[:3], q_heads, q_heads // kv_heads, q_len, k_len, scale,
        window or 0, spb, sdb, **flags,
    )  # fmt: skip
    return dq, dk, dv


class TritonHybridAttention(torch.autograd.Function):
    """Fused forward (prologue in-kernel); backward kernels on recomputed normed q/k, prologue grads by autograd."""

    @staticmethod
    def forward(ctx, q, k, v, q_w, k_w, cos, sin, pad, docs, scale, window, eps):  # noqa: D102
        out, lse = _forward(q, k, v, q_w, k_w, cos, sin, pad, docs, scale, window, eps)
        ctx.save_for_backward(q, k, v, q_w, k_w, cos, sin, pad, docs, out, lse)
        ctx.config = (scale, window, eps)
        return out

    @staticmethod
    def backward(ctx, grad_out):  # noqa: D102
        q, k, v, q_w, k_w, cos, sin, pad, docs, out, lse = ctx.saved_tensors
        scale, window, eps = ctx.config
        need = ctx.needs_input_grad
        offset = k.shape[2] - q.shape[2]
        leaves = [
            None if t is None else t.detach().requires_grad_(bool(n))
            for t, n in zip((q, k, q_w, k_w), (need[0], need[1], need[3], need[4]))
        ]
        with torch.enable_grad():
            qn = prologue(
                leaves[0], leaves[2], None if cos is None else cos[:, offset:],
                None if sin is None else sin[:, offset:], eps,
            )  # fmt: skip
            kn = prologue(leaves[1], leaves[3], cos, sin, eps)
        dqn, dkn, dv = _backward(
            qn.detach().contiguous(), kn.detach().contiguous(), v, out, lse, grad_out, pad, docs, scale, window
        )
        outs = [(o, g) for o, g in ((qn, dqn), (kn, dkn)) if o.requires_grad]
        inputs = [t for t in leaves if t is not None and t.requires_grad]
        grads = [None] * 4
        if outs and inputs:
            got = torch.autograd.grad([o for o, _ in outs], inputs, [g for _, g in outs], allow_unused=True)
            by_id = {id(t): g for t, g in zip(inputs, got)}
            grads = [None if t is None else by_id.get(id(t)) for t in leaves]
        return grads[0], grads[1], dv, grads[2], grads[3], None, None, None, None, None, None, None


def _prepare(q, k, v, scale, window, key_padding_mask, document_ids=None):
    if triton is None:
        raise RuntimeError("triton is not installed; use haetae.alignment.attention_blocked on this machine")
    check_shapes(q, k, v, window, document_ids)
    dim = q.shape[-1]
    if dim < 2 or dim & (dim - 1):
        raise ValueError(f"the Triton kernel needs a power-of-two head_dim, got {dim}")
    if q.is_cuda and dim < 32:
        raise ValueError(f"on GPU the Triton kernel needs head_dim >= 32 (tl.dot tiles of 16), got {dim}")
    scale = dim**-0.5 if scale is None else float(scale)
    if window is not None and window >= k.shape[2]:
        window = None
    pad = None
    if key_padding_mask is not None:
        pad = key_padding_mask.to(device=q.device, dtype=torch.bool)
        pad = None if bool(pad.all()) else pad
    return q.contiguous(), k.contiguous(), v.contiguous(), scale, window, pad


def triton_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    scale: float | None = None,
    window: int | None = None,
    key_padding_mask: torch.Tensor | None = None,
    q_norm_weight: torch.Tensor | None = None,
    k_norm_weight: torch.Tensor | None = None,
    cos: torch.Tensor | None = None,
    sin: torch.Tensor | None = None,
    eps: float = 1e-5,
    document_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Same contract as :func:`haetae.alignment.attention_reference.reference_attention`, differentiable."""
    q, k, v, scale, window, pad = _prepare(q, k, v, scale, window, key_padding_mask, document_ids)
    docs = None if document_ids is None else document_ids.to(q.device)
    return TritonHybridAttention.apply(
        q, k, v, q_norm_weight, k_norm_weight, cos, sin, pad, docs, scale, window, eps
    )


@torch.no_grad()
def decode_attention(
    q: torch.Tensor,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    *,
    scale: float | None = None,
    window: int | None = None,
    key_padding_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attention of a few new queries ``[B, Hq, Lq, D]`` (already normed/rotated) over a KV cache ``[B, Hkv, Lk, D]``
    whose last ``Lq`` entries are the queries' own keys. A sliding cache may hold only the last ``W - 1 + Lq`` keys.
    """
    q, k_cache, v_cache, scale, window, pad = _prepare(q, k_cache, v_cache, scale, window, key_padding_mask)
    out, _ = _forward(q, k_cache, v_cache, None, None, None, None, pad, None, scale, window, 1e-5, block_m=16)
    return out
