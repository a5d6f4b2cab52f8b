"""Plain-PyTorch reference for K-EXAONE hybrid attention (materialises L x L; for tests only).

Layout follows transformers: q ``[B, Hq, Lq, D]``, k/v ``[B, Hkv, Lk, D]``, ``Hq % Hkv == 0`` (GQA: query head
``h`` reads kv head ``h // (Hq // Hkv)``, as ``repeat_kv`` does). Queries are aligned to the end of the keys
(query ``i`` sits at absolute position ``Lk - Lq + i``), which covers training (``Lq == Lk``) and decoding over a
KV cache. Query at position ``p`` sees key ``j`` iff ``j <= p`` and, for a sliding layer of window ``W``,
``j > p - W`` (transformers' ``sliding_window_overlay``), ``key_padding_mask[b, j]`` is true and, for a packed
batch, ``document_ids[b, j] == document_ids[b, p]`` (ids ``[B, Lk]``, non-decreasing along a row; see
:mod:`haetae.alignment.attention_packing`).
Rows that see no key return zeros (flash-attention convention; eager returns an average of masked values there).

The optional prologue reproduces ``ExaoneMoeAttention``: per-head RMSNorm of q and k (weights ``[D]``), then RoPE
with ``cos``/``sin`` of shape ``[B or 1, Lk, D]`` (the query rows use the last ``Lq`` positions). Global (NoPE)
layers pass ``cos=sin=None``.
"""

from __future__ import annotations

import torch


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """transformers' ExaoneMoeRMSNorm: normalise in float32, cast back, then scale."""
    xf = x.to(torch.promote_types(x.dtype, torch.float32))
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x ``[B, H, L, D]``, cos/sin ``[B or 1, L, D]``."""
    return x * cos[:, None] + rotate_half(x) * sin[:, None]


def prologue(
    x: torch.Tensor,
    norm_weight: torch.Tensor | None,
    cos: torch.Tensor | None,
    sin: torch.Tensor | None,
    eps: float,
) -> torch.Tensor:
    """Per-head RMSNorm (if a weight is given) then RoPE (if cos/sin are given)."""
    if norm_weight is not None:
        x = rms_norm(x, norm_weight, eps)
    if cos is not None:
        x = apply_rope(x, cos, sin)
    return x


def visibility_mask(
    q_len: int,
    k_len: int,
    window: int | None,
    key_padding_mask: torch.Tensor | None = None,
    device: torch.device | str = "cpu",
    document_ids: torch.Tensor | None = None,
) -> torch.Tensor:
    """Boolean ``[B or 1, 1, Lq, Lk]`` mask: True where query i may attend key j."""
    q_pos = torch.arange(k_len - q_len, k_len, device=device)[:, None]
    k_pos = torch.arange(k_len, device=device)[None, :]
    mask = k_pos <= q_pos
    if window is not None:
        mask = mask & (k_pos > q_pos - window)
    mask = mask[None, None]
    if key_padding_mask is not None:
        mask = mask & key_padding_mask.bool()[:, None, None, :]
    if document_ids is not None:
        docs = document_ids.to(device)
        mask = mask & (docs[:, None, k_len - q_len :, None] == docs[:, None, None, :])
    return mask


def check_shapes(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int | None, document_ids: torch.Tensor | None = None
) -> None:
    if q.dim() != 4 or k.dim() != 4 or v.shape != k.shape:
        raise ValueError(f"expected q [B,Hq,Lq,D], k=v [B,Hkv,Lk,D]; got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[0] != k.shape[0] or q.shape[-1] != k.shape[-1] or q.shape[1] % k.shape[1]:
        raise ValueError(f"incompatible q {tuple(q.shape)} and k {tuple(k.shape)} (batch, head_dim, or Hq % Hkv)")
    if q.shape[2] > k.shape[2]:
        raise ValueError(f"more queries ({q.shape[2]}) than keys ({k.shape[2]})")
    if window is not None and window < 1:
        raise ValueError(f"sliding window must be >= 1, got {window}")
    if document_ids is not None:
        if document_ids.shape != (k.shape[0], k.shape[2]) or document_ids.is_floating_point():
            raise ValueError(f"document_ids must be integer [B, Lk] = {(k.shape[0], k.shape[2])}, "
                             f"got {document_ids.dtype} {tuple(document_ids.shape)}")
        if bool((document_ids.diff(dim=1) < 0).any()):
            raise ValueError("document_ids must not decrease along a row (each document is one contiguous run)")


def reference_attention(
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
    """Hybrid attention, the obvious way. Returns ``[B, Hq, Lq, D]``."""
    check_shapes(q, k, v, window, document_ids)
    q_len, k_len, head_dim = q.shape[2], k.shape[2], q.shape[-1]
    scale = head_dim**-0.5 if scale is None else scale
    q_cos = None if cos is None else cos[:, k_len - q_len :]
    q_sin = None if sin is None else sin[:, k_len - q_len :]
    q = prologue(q, q_norm_weight, q_cos, q_sin, eps)
    k = prologue(k, k_norm_weight, cos, sin, eps)
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    scores = (q @ k.transpose(-1, -2)).to(torch.promote_types(q.dtype, torch.float32)) * scale
    mask = visibility_mask(q_len, k_len, window, key_padding_mask, q.device, document_ids)
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return probs.to(v.dtype) @ v
