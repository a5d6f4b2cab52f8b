"""``haetae_hybrid``: one attention function for both K-EXAONE layer kinds, registered with transformers.

Use ``ExaoneMoeForCausalLM.from_config(cfg, attn_implementation="haetae_hybrid")`` (or
``model.set_attn_implementation("haetae_hybrid")``) after importing this module. transformers applies q/k RMSNorm
and RoPE inside ``ExaoneMoeAttention`` before calling us, so the registered function receives normed/rotated q, k
and the layer's ``sliding_window`` (``None`` for global layers). CUDA tensors go to the Triton kernels, anything
else to the blocked CPU implementation. :func:`hybrid_attention` is the standalone API with the fused prologue.

A custom attention name gets no mask from transformers unless a mask function is registered too: we register one
that hands over only the 2D key-padding mask (sliced to the layer's key length, as for flash attention); the
causal/window structure is generated inside the kernels, never as an ``L x L`` tensor.

:func:`fuse_qk_prologue` goes one step further for training/prefill: it patches ``ExaoneMoeAttention`` so raw q/k,
the norm weights and cos/sin reach the kernel, whose prologue does RMSNorm + RoPE (RoPE on sliding layers only).

Packed batches (TRL padding-free, ``DataCollatorWithFlattening``: no attention mask, position ids restarting at each
document, optionally ``cu_seq_lens_q/k``) are split into documents as transformers' flash attention does
(:mod:`haetae.alignment.attention_packing`), so each document attends only to itself, as in eager or sdpa.

Padding: a query row that sees only padding (left padding) returns zeros; eager returns an average of masked
values there. Outputs at real tokens are identical; only a loss that counts logits at padding positions (e.g. the
last pad of a left-padded row, whose shifted label is the first real token) differs between the two.
"""

from __future__ import annotations

import torch

from .attention_blocked import blocked_attention
from .attention_packing import document_ids
from .attention_reference import prologue

NAME = "haetae_hybrid"


def _use_triton(q: torch.Tensor) -> bool:
    if not q.is_cuda:
        return False
    from . import attention_triton

    return attention_triton.triton_available()


def hybrid_attention(
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
    """Causal (optionally sliding-window) GQA attention with an optional RMSNorm + RoPE prologue.

    q ``[B, Hq, Lq, D]``, k/v ``[B, Hkv, Lk, D]``; queries are the last ``Lq`` positions; ``window=W`` lets the
    query at position ``p`` see keys ``p - W < j <= p``; ``key_padding_mask`` ``[B, Lk]`` is True for real tokens;
    ``document_ids`` ``[B, Lk]`` (packed batches) keep each query inside its own document.
    Returns ``[B, Hq, Lq, D]``; query rows that see no key are zero. Differentiable in q, k, v and norm weights.
    """
    kwargs = dict(
        scale=scale, window=window, key_padding_mask=key_padding_mask, q_norm_weight=q_norm_weight,
        k_norm_weight=k_norm_weight, cos=cos, sin=sin, eps=eps, document_ids=document_ids,
    )
    if _use_triton(q):
        from .attention_triton import decode_attention, triton_attention

        no_prologue = q_norm_weight is None and k_norm_weight is None and cos is None
        decoding = q.shape[2] <= 16 and no_prologue and document_ids is None
        if decoding and not (torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad)):
            return decode_attention(q, k, v, scale=scale, window=window, key_padding_mask=key_padding_mask)
        return triton_attention(q, k, v, **kwargs)
    return blocked_attention(q, k, v, **kwargs)


def haetae_hybrid_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    sliding_window: int | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """transformers ``AttentionInterface`` entry point: returns ``([B, Lq, Hq, D], None)``.

    ``kwargs`` may carry ``position_ids`` and ``cu_seq_lens_k`` (packed batches, see
    :mod:`haetae.alignment.attention_packing`).
    """
    if dropout:
        raise NotImplementedError(f"{NAME} does not implement attention dropout (got p={dropout}); set it to 0")
    if attention_mask is not None and attention_mask.dim() != 2:
        raise ValueError(
            f"{NAME} expects a 2D key-padding mask (from its registered mask function); got shape "
            f"{tuple(attention_mask.shape)}: build the model with attn_implementation='{NAME}'"
        )
    pad, docs = masks_for(query, key, attention_mask, kwargs)
    out = hybrid_attention(
        query, key, value, scale=scaling, window=sliding_window, key_padding_mask=pad, document_ids=docs
    )
    return out.transpose(1, 2).contiguous(), None


def masks_for(
    query: torch.Tensor, key: torch.Tensor, attention_mask: torch.Tensor | None, kwargs: dict
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The key-padding mask (sliced to the layer's keys) and, without one, the document ids of a packed batch."""
    if attention_mask is not None:
        return attention_mask[:, -key.shape[2] :].bool(), None
    docs = document_ids(
        key.shape[0], query.shape[2], key.shape[2], kwargs.get("position_ids"), kwargs.get("cu_seq_lens_k")
    )
    return None, docs


def padding_mask_only(
    batch_size: int,
    q_length: int,
    kv_length: int,
    q_offset: int = 0,
    kv_offset: int = 0,
    mask_function=None,
    attention_mask: torch.Tensor | None = None,
    **kwargs,
) -> torch.Tensor | None:
    """Mask hook for transformers: the last ``kv_length`` columns of the 2D padding mask, or None if no padding."""
    if attention_mask is None:
        return None
    attention_mask = attention_mask[:, -kv_length:].bool()
    return None if bool(attention_mask.all()) else attention_mask


def register() -> None:
    """Register ``haetae_hybrid`` (attention and mask functions) with transformers; safe to call repeatedly."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(NAME, haetae_hybrid_attention)
    AttentionMaskInterface.register(NAME, padding_mask_only)


register()


def _fused_attention_forward(self, hidden_states, position_embeddings, attention_mask=None, cache=None, **kwargs):
    """ExaoneMoeAttention.forward with q/k RMSNorm and RoPE moved into the kernel prologue.

    Used when the layer's cache is absent or still empty (training, scoring, the prefill of generation); the normed
    and rotated keys are then computed once more, without autograd, only to fill the cache. Decoding steps over a
    filled cache use the stock forward.
    """
    cached = cache is not None and cache.get_seq_length(self.layer_idx) > 0
    if cached or self.config._attn_implementation != NAME:
        return type(self).forward(self, hidden_states, position_embeddings, attention_mask, cache=cache, **kwargs)
    if self.training and self.attention_dropout:
        raise NotImplementedError(f"{NAME} does not implement attention dropout")
    input_shape = hidden_states.shape[:-1]
    hidden_shape = (*input_shape, -1, self.head_dim)
    q = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
    k = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
    v = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
    rotate = self.sliding_window is None or self.is_sliding  # global layers of a hybrid model are NoPE
    cos, sin = position_embeddings if rotate else (None, None)
    if cache is not None:
        with torch.no_grad():
            k_cached = prologue(k, self.k_norm.weight, cos, sin, self.k_norm.variance_epsilon)
        cache.update(k_cached, v.detach(), self.layer_idx, kwargs=kwargs)
    pad, docs = masks_for(q, k, attention_mask, kwargs)
    out = hybrid_attention(
        q, k, v,
        scale=self.scaling,
        window=self.sliding_window if self.is_sliding else None,
        key_padding_mask=pad,
        document_ids=docs,
        q_norm_weight=self.q_norm.weight,
        k_norm_weight=self.k_norm.weight,
        cos=cos,
        sin=sin,
        eps=self.q_norm.variance_epsilon,
    )  # fmt: skip
    out = out.transpose(1, 2).reshape(*input_shape, -1)
    return self.o_proj(out), None


def fuse_qk_prologue(model: torch.nn.Module) -> int:
    """Route every ExaoneMoeAttention of ``model`` through the fused RMSNorm + RoPE prologue (training, scoring,
    prefill); decoding over a filled KV cache keeps the stock forward (then ``haetae_hybrid``). Returns the number
    of attention modules patched. Takes effect while the model uses ``attn_implementation="haetae_hybrid"``.
    """
    import types

    from transformers.models.exaone_moe.modeling_exaone_moe import ExaoneMoeAttention

    patched = 0
    for module in model.modules():
        if isinstance(module, ExaoneMoeAttention):
            if module.q_norm.variance_epsilon != module.k_norm.variance_epsilon:
                raise ValueError("fused prologue needs equal q_norm and k_norm eps")
            module.forward = types.MethodType(_fused_attention_forward, module)
            patched += 1
    return patched
