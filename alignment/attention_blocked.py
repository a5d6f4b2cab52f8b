"""Blocked hybrid attention for CPU with a hand-written (flash-style) backward.

Query blocks attend only to the key range inside their causal window, so a sliding layer of window ``W`` costs
``O(L * (W + block))`` time and memory and never builds an ``L x L`` matrix; a global layer costs ``O(L^2)`` time
but only ``O(L * block)`` extra memory (the backward recomputes probabilities from the saved log-sum-exp).
GQA reshapes the ``G = Hq / Hkv`` query heads of a group into the row dimension of one matmul against their kv
head, so K/V are never repeated. The RMSNorm + RoPE prologue is applied per query block in the forward pass (keys
once); the backward recomputes it under autograd to return gradients for raw q, k and both norm weights.
Each tile (query block x its key range) runs on PyTorch's fused CPU flash-attention op with an additive tile mask
when available (``FLASH_TILES``), else on plain PyTorch ops; the block schedule, GQA folding, prologue and the
backward's accumulation are ours either way. Semantics (mask, alignment, empty rows -> 0) are those of
:mod:`haetae.alignment.attention_reference`. In a packed batch (``document_ids``) a query block also starts its key
range at the first key of its first query's document, so a global layer over packed documents costs about the sum
of the documents' squared lengths, not the square of the row.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .attention_packing import document_starts
from .attention_reference import check_shapes, prologue

# Elements allowed in one block of scores (B * Hq * block * keys); bounds the working memory of a step.
SCORE_BUDGET = 1 << 24


def choose_block(batch: int, q_heads: int, k_len: int, window: int | None, block: int | None) -> int:
    if block is not None:
        return block
    if window is not None:  # a tile then spans W - 1 + block keys: block = W (clamped) balances waste and size
        return int(min(256, max(32, window)))
    per_row = batch * q_heads * k_len
    return int(min(256, max(16, SCORE_BUDGET // max(per_row, 1))))


def key_range(
    start: int, stop: int, offset: int, k_len: int, window: int | None, doc_first: list[int] | None = None
) -> tuple[int, int]:
    """Keys visible to the queries ``[start, stop)`` (query i sits at absolute position ``i + offset``);
    ``doc_first[p]`` is the first key of position p's document (the minimum over the batch), if packed."""
    hi = min(k_len, stop + offset)
    lo = 0 if window is None else max(0, start + offset - window + 1)
    if doc_first is not None:
        lo = max(lo, doc_first[start + offset])
    return lo, hi


def block_mask(
    start: int, stop: int, lo: int, hi: int, offset: int, window: int | None, device: torch.device
) -> torch.Tensor | None:
    """Causal/window mask ``[bq, hi - lo]`` of one block, or None when every pair is visible."""
    q_pos = torch.arange(start + offset, stop + offset, device=device)[:, None]
    k_pos = torch.arange(lo, hi, device=device)[None, :]
    mask = k_pos <= q_pos
    if window is not None:
        mask &= k_pos > q_pos - window
    return None if bool(mask.all()) else mask


class BlockedHybridAttention(torch.autograd.Function):
    """autograd.Function over raw q/k (prologue inside); see :func:`blocked_attention` for arguments."""

    @staticmethod
    def forward(ctx, q, k, v, q_w, k_w, cos, sin, pad, docs, scale, window, eps, block):  # noqa: D102
        batch, q_heads, q_len, dim = q.shape
        kv_heads, k_len = k.shape[1], k.shape[2]
        groups, offset = q_heads // kv_heads, k_len - q_len
        doc_first = None if docs is None else document_starts(docs).amin(0).tolist()
        q_cos = None if cos is None else cos[:, offset:]
        q_sin = None if sin is None else sin[:, offset:]
        kn = prologue(k, k_w, cos, sin, eps)
        out = torch.empty_like(q)
        acc = torch.promote_types(q.dtype, torch.float32)
        lse = torch.empty(batch, q_heads, q_len, dtype=acc, device=q.device)
        out_g = out.view(batch, kv_heads, groups, q_len, dim)
        lse_g = lse.view(batch, kv_heads, groups, q_len)
        flash, biases = use_flash_tiles(q), {}
        for start in range(0, q_len, block):
            stop = min(start + block, q_len)
            lo, hi = key_range(start, stop, offset, k_len, window, doc_first)
            if hi <= lo:
                out_g[:, :, :, start:stop] = 0
                lse_g[:, :, :, start:stop] = float("-inf")
                continue
            qb = prologue(
                q[:, :, start:stop],
                q_w,
                None if q_cos is None else q_cos[:, start:stop],
                None if q_sin is None else q_sin[:, start:stop],
                eps,
            )
            bq = stop - start
            if flash:
                qg = qb.reshape(batch, kv_heads, groups, bq, dim).flatten(2, 3)
                bias = tile_bias(start, stop, lo, hi, offset, window, pad, docs, groups, q.dtype, biases)
                ob, blse = _FLASH_FWD(qg, kn[:, :, lo:hi], v[:, :, lo:hi], 0.0, False, attn_mask=bias, scale=scale)
                blse = blse.view(batch, kv_heads, groups, bq)
            else:
                probs, blse = _block_probs(
                    qb, kn[:, :, lo:hi], pad, docs, start, stop, lo, hi, offset, window, scale, groups
                )
                ob = probs.to(v.dtype).flatten(2, 3) @ v[:, :, lo:hi]  # [B, Hkv, G*bq, D]
            out_g[:, :, :, start:stop] = ob.view(batch, kv_heads, groups, bq, dim)
            lse_g[:, :, :, start:stop] = blse
        ctx.save_for_backward(q, k, v, q_w, k_w, cos, sin, pad, docs, out, lse)
        ctx.config = (scale, window, eps, block, doc_first)
        return out

    @staticmethod
    def backward(ctx, grad_out):  # noqa: D102
        q, k, v, q_w, k_w, cos, sin, pad, docs, out, lse = ctx.saved_tensors
        scale, window, eps, block, doc_first = ctx.config
        batch, q_heads, q_len, dim = q.shape
        kv_heads, k_len = k.shape[1], k.shape[2]
        groups, offset = q_heads // kv_heads, k_len - q_len
        acc = lse.dtype
        need = ctx.needs_input_grad
        has_prologue = q_w is not None or k_w is not None or cos is not None
        leaves = [
            None if t is None else t.detach().requires_grad_(bool(n))
            for t, n in zip((q, k, q_w, k_w), (need[0], need[1], need[3], need[4]))
        ]
        with torch.enable_grad():
            q_cos = None if cos is None else cos[:, offset:]
            q_sin = None if sin is None else sin[:, offset:]
            qn = prologue(leaves[0], leaves[2], q_cos, q_sin, eps) if has_prologue else q
            kn = prologue(leaves[1], leaves[3], cos, sin, eps) if has_prologue else k
        qn_d, kn_d = qn.detach(), kn.detach()
        grad_out = grad_out.contiguous()
        delta = (grad_out.to(acc) * out.to(acc)).sum(-1)  # [B, Hq, Lq]
        dq = torch.zeros_like(qn_d)
        dk = torch.zeros(kn_d.shape, dtype=acc, device=k.device)
        dv = torch.zeros(v.shape, dtype=acc, device=v.device)
        dq_g = dq.view(batch, kv_heads, groups, q_len, dim)
        go_g = grad_out.view(batch, kv_heads, groups, q_len, dim)
        lse_g = lse.view(batch, kv_heads, groups, q_len)
        delta_g = delta.view(batch, kv_heads, groups, q_len)
        qn_g = qn_d.view(batch, kv_heads, groups, q_len, dim)
        out_g = out.view(batch, kv_heads, groups, q_len, dim)
        flash, biases = use_flash_tiles(q), {}
        for start in range(0, q_len, block):
            stop = min(start + block, q_len)
            lo, hi = key_range(start, stop, offset, k_len, window, doc_first)
            if hi <= lo:
                continue
            bq = stop - start
            qb = qn_g[:, :, :, start:stop].reshape(batch, kv_heads, groups * bq, dim)
            kb, vb = kn_d[:, :, lo:hi], v[:, :, lo:hi]
            if flash:
                bias = tile_bias(start, stop, lo, hi, offset, window, pad, docs, groups, q.dtype, biases)
                dqb, dkb, dvb = _FLASH_BWD(
                    go_g[:, :, :, start:stop].reshape(batch, kv_heads, groups * bq, dim),
                    qb, kb, vb,
                    out_g[:, :, :, start:stop].reshape(batch, kv_heads, groups * bq, dim),
                    lse_g[:, :, :, start:stop].reshape(batch, kv_heads, groups * bq),
                    0.0, False, attn_mask=bias, scale=scale,
                )  # fmt: skip
                dq_g[:, :, :, start:stop] = dqb.view(batch, kv_heads, groups, bq, dim)
                dk[:, :, lo:hi] += dkb
                dv[:, :, lo:hi] += dvb
                continue
            scores = (qb @ kb.transpose(-1, -2)).to(acc).view(batch, kv_heads, groups, bq, hi - lo) * scale
            blse = lse_g[:, :, :, start:stop, None]
            probs = torch.exp(scores - torch.where(torch.isinf(blse), 0.0, blse))
            probs = _apply_masks(probs, pad, docs, start, stop, lo, hi, offset, window, fill=0.0)
            gob = go_g[:, :, :, start:stop].reshape(batch, kv_heads, groups * bq, dim)
            probs_flat = probs.flatten(2, 3)
            dv[:, :, lo:hi] += probs_flat.transpose(-1, -2) @ gob.to(acc)
            dp = (gob @ vb.transpose(-1, -2)).to(acc).view_as(probs)
            ds = (probs * (dp - delta_g[:, :, :, start:stop, None]) * scale).flatten(2, 3)
            dq_g[:, :, :, start:stop] = (ds.to(kb.dtype) @ kb).view(batch, kv_heads, groups, bq, dim)
            dk[:, :, lo:hi] += ds.transpose(-1, -2) @ qb.to(acc)
        dk, dv = dk.to(k.dtype), dv.to(v.dtype)
        grads = [dq, dk, None, None]
        if has_prologue:
            outs = [(o, g) for o, g in ((qn, dq), (kn, dk)) if o.requires_grad]
            inputs = [t for t in leaves if t is not None and t.requires_grad]
            grads = [None] * 4
            if outs and inputs:
                got = torch.autograd.grad(
                    [o for o, _ in outs], inputs, [g for _, g in outs], allow_unused=True
                )
                by_id = {id(t): g for t, g in zip(inputs, got)}
                grads = [None if t is None else by_id.get(id(t)) for t in leaves]
        dq_raw, dk_raw, dqw, dkw = grads
        return dq_raw, dk_raw, dv, dqw, dkw, None, None, None, None, None, None, None, None


_FLASH_FWD = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
_FLASH_BWD = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu_backward", None)
FLASH_TILES = True  # set False to run every tile with plain PyTorch ops (tests cover both)


def use_flash_tiles(q: torch.Tensor) -> bool:
    """Tiles go to PyTorch's fused CPU flash-attention kernel (its own private op, ~2x faster than plain ops)."""
    return FLASH_TILES and _FLASH_FWD is not None and _FLASH_BWD is not None and q.device.type == "cpu"


def same_document(docs, start, stop, lo, hi, offset) -> torch.Tensor:
    """``[B, bq, keys]``: query ``start + offset + i`` and key ``lo + j`` lie in the same packed document."""
    return docs[:, start + offset : stop + offset, None] == docs[:, None, lo:hi]


def tile_bias(start, stop, lo, hi, offset, window, pad, docs, groups, dtype, cache: dict) -> torch.Tensor | None:
    """Additive mask ``[B or 1, 1, G*bq, keys]`` for one tile (rows ordered group-major like the folded queries).

    Without padding or packing, interior tiles of a sliding layer share one pattern, so it is cached by relative
    position.
    """
    shared = pad is None and docs is None
    key = (start + offset - lo, stop - start, hi - lo)
    if shared and key in cache:
        return cache[key]
    mask = block_mask(start, stop, lo, hi, offset, window, "cpu" if pad is None else pad.device)
    if mask is None and shared:
        bias = None
    else:
        if mask is None:
            mask = torch.ones(stop - start, hi - lo, dtype=torch.bool)
        mask = mask[None]
        if docs is not None:
            mask = mask & same_document(docs, start, stop, lo, hi, offset)
        mask = mask.repeat(1, groups, 1)[:, None]
        if pad is not None:
            mask = mask & pad[:, None, None, lo:hi]
        bias = torch.zeros(mask.shape, dtype=dtype).masked_fill_(~mask, float("-inf"))
    if shared:
        cache[key] = bias
    return bias


def _apply_masks(scores, pad, docs, start, stop, lo, hi, offset, window, fill):
    mask = block_mask(start, stop, lo, hi, offset, window, scores.device)
    if mask is not None:
        scores = scores.masked_fill(~mask, fill)
    if pad is not None:  # [B, Lk] bool -> [B, 1, 1, 1, keys]
        scores = scores.masked_fill(~pad[:, None, None, None, lo:hi], fill)
    if docs is not None:  # [B, bq, keys] -> [B, 1, 1, bq, keys]
        scores = scores.masked_fill(~same_document(docs, start, stop, lo, hi, offset)[:, None, None], fill)
    return scores


def _block_probs(qb, kb, pad, docs, start, stop, lo, hi, offset, window, scale, groups):
    """Softmax probabilities ``[B, Hkv, G, bq, keys]`` (fp32) and log-sum-exp ``[B, Hkv, G, bq]`` of one block."""
    batch, kv_heads = kb.shape[0], kb.shape[1]
    acc = torch.promote_types(qb.dtype, torch.float32)
    bq, dim = stop - start, qb.shape[-1]
    qg = qb.reshape(batch, kv_heads, groups, bq, dim).flatten(2, 3)
    scores = (qg @ kb.transpose(-1, -2)).to(acc).view(batch, kv_heads, groups, bq, hi - lo) * scale
    scores = _apply_masks(scores, pad, docs, start, stop, lo, hi, offset, window, fill=float("-inf"))
    row_max = scores.amax(-1, keepdim=True)
    row_max = torch.where(torch.isinf(row_max), 0.0, row_max)
    probs = torch.exp(scores - row_max)
    total = probs.sum(-1, keepdim=True)
    lse = (row_max + total.log()).squeeze(-1)
    probs = probs / torch.where(total == 0, 1.0, total)
    return probs, lse


def blocked_attention(
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
    block: int | None = None,
    use_sdpa: bool = True,
) -> torch.Tensor:
    """Hybrid attention on CPU (any device works), differentiable in q, k, v and both norm weights.

    Same arguments and result as :func:`haetae.alignment.attention_reference.reference_attention`; ``block`` is the
    query block size (default: adapted to the window and a working-memory budget). A global layer without padding
    (training, or one decoding token) goes to PyTorch's fused flash-attention CPU kernel through
    ``scaled_dot_product_attention(is_causal=True, enable_gqa=True)``, which has the same blocked structure and
    O(L x block) memory but fused tiles (~3x faster than the Python-level loop here); ``use_sdpa=False`` forces the
    loop. ``document_ids`` (packed batches) always take the loop.
    """
    check_shapes(q, k, v, window, document_ids)
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    if window is not None and window >= k.shape[2]:
        window = None  # the window covers everything: plain causal attention
    pad = None
    if key_padding_mask is not None:
        pad = key_padding_mask.to(device=q.device, dtype=torch.bool)
        if pad.all():
            pad = None
    docs = None if document_ids is None else document_ids.to(q.device)
    q_len, k_len = q.shape[2], k.shape[2]
    if use_sdpa and window is None and pad is None and docs is None and q_len in (1, k_len):
        offset = k_len - q_len
        qn = prologue(
            q,
            q_norm_weight,
            None if cos is None else cos[:, offset:],
            None if sin is None else sin[:, offset:],
            eps,
        )
        kn = prologue(k, k_norm_weight, cos, sin, eps)
        return F.scaled_dot_product_attention(qn, kn, v, is_causal=q_len > 1, scale=scale, enable_gqa=True)
    block = choose_block(q.shape[0], q.shape[1], k.shape[2], window, block)
    return BlockedHybridAttention.apply(
        q, k, v, q_norm_weight, k_norm_weight, cos, sin, pad, docs, scale, window, eps, block
    )
