"""Document boundaries of packed (padding-free) batches for the hybrid-attention kernels.

TRL's padding-free SFT and ``DataCollatorWithFlattening`` concatenate documents into one row without an attention
mask: the boundaries are only in ``position_ids`` (restarting at each document) and, optionally, in the flash-attn
varlen kwargs ``cu_seq_lens_q/k``. We follow transformers' flash-attention rule: with no padding mask and as many
queries as keys, explicit ``cu_seq_lens_k`` win, otherwise position ids that restart mark new documents. The kernels
then take per-token document ids ``[B, Lk]`` (non-decreasing along a row): a query sees a key only inside its own
document, so each document attends as if it ran alone.
"""

from __future__ import annotations

import torch


def document_ids(
    batch: int,
    q_len: int,
    k_len: int,
    position_ids: torch.Tensor | None = None,
    cu_seq_lens: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """Per-key document ids ``[B, Lk]`` (int64, from 0 in each row), or None when every row is one document.

    ``cu_seq_lens`` is the flash-attn cumulative-length vector over the flattened ``B * L`` tokens (``[0, ...,
    B * L]``); ``position_ids`` is ``[B or 1, L]``. Only a pass without a KV cache (``q_len == k_len``) is split.
    """
    if q_len != k_len or k_len < 2:
        return None
    if cu_seq_lens is not None:
        return _from_cu_seq_lens(cu_seq_lens, batch, k_len)
    if position_ids is None:
        return None
    if position_ids.shape[-1] != k_len:
        raise ValueError(f"position_ids cover {position_ids.shape[-1]} tokens but attention sees {k_len}")
    from transformers.masking_utils import find_packed_sequence_indices

    return find_packed_sequence_indices(position_ids.reshape(-1, k_len).expand(batch, -1))


def _from_cu_seq_lens(cu_seq_lens: torch.Tensor, batch: int, length: int) -> torch.Tensor | None:
    cu = cu_seq_lens.reshape(-1).to(torch.int64)
    total = batch * length
    if cu.numel() < 2 or int(cu[0]) != 0 or int(cu[-1]) != total or bool((cu.diff() < 0).any()):
        raise ValueError(
            f"cu_seq_lens {cu.tolist()[:8]}... must rise from 0 to the {total} tokens of the batch ({batch} x {length})"
        )
    if cu.numel() == 2:
        return None
    tokens = torch.arange(total, device=cu.device)
    docs = torch.searchsorted(cu[1:-1], tokens, right=True).view(batch, length)
    docs = docs - docs[:, :1]  # rows count from 0 (a row holds whole documents in the flattened format)
    return None if bool((docs[:, -1] == 0).all()) else docs


def document_starts(docs: torch.Tensor) -> torch.Tensor:
    """``[B, L]``: index of the first token of each token's document (documents are contiguous runs)."""
    index = torch.arange(docs.shape[1], device=docs.device).expand_as(docs)
    new = torch.ones_like(docs, dtype=torch.bool)
    new[:, 1:] = docs[:, 1:] != docs[:, :-1]
    return torch.where(new, index, 0).cummax(dim=1).values


def document_ends(docs: torch.Tensor) -> torch.Tensor:
    """``[B, L]``: one past the index of the last token of each token's document."""
    length = docs.shape[1]
    return length - document_starts(docs.flip(1)).flip(1)
