"""Packed (padding-free) batches: document boundaries from position ids / cu_seq_lens reach every kernel.

TRL's padding-free SFT and ``DataCollatorWithFlattening`` concatenate documents with no attention mask; each
document must attend only to itself, as in eager and sdpa.
"""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import DataCollatorWithFlattening, ExaoneMoeForCausalLM

import haetae.alignment.attention as hybrid
from haetae.alignment import attention_blocked
from haetae.alignment.attention_blocked import blocked_attention
from haetae.alignment.attention_packing import document_ends, document_ids, document_starts
from haetae.alignment.attention_reference import reference_attention

from .test_attention import grads, make_inputs
from .test_attention_model import WINDOW, tiny_config

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Document lengths of one packed row: the 3-token document sits inside a sliding window (W = 5) that would
# otherwise reach back into the first document.
LENGTHS = [7, 3, 12]


def packed_positions(lengths: list[int]) -> torch.Tensor:
    return torch.cat([torch.arange(n) for n in lengths])[None]


def docs_for(rows: list[list[int]]) -> torch.Tensor:
    return torch.stack([torch.cat([torch.full((n,), d) for d, n in enumerate(lengths)]) for lengths in rows])


def test_document_ids_from_position_ids_and_cu_seq_lens():
    pos = packed_positions(LENGTHS)
    want = docs_for([LENGTHS])
    assert torch.equal(document_ids(1, 22, 22, position_ids=pos), want)
    cu = torch.tensor([0, 7, 10, 22], dtype=torch.int32)
    assert torch.equal(document_ids(1, 22, 22, cu_seq_lens=cu), want)
    assert document_ids(1, 22, 22, position_ids=torch.arange(22)[None]) is None  # one document
    assert document_ids(1, 1, 22, position_ids=pos[:, -1:]) is None  # decoding over a cache is never split
    assert document_ids(2, 11, 11, position_ids=torch.arange(11)[None]) is None  # [1, L] broadcast over the batch
    assert torch.equal(document_starts(want)[0, [0, 6, 7, 9, 10, 21]], torch.tensor([0, 0, 7, 7, 10, 10]))
    assert torch.equal(document_ends(want)[0, [0, 6, 7, 9, 10, 21]], torch.tensor([7, 7, 10, 10, 22, 22]))
    with pytest.raises(ValueError, match="must rise from 0 to the 22 tokens"):
        document_ids(1, 22, 22, cu_seq_lens=torch.tensor([0, 7, 21]))
    with pytest.raises(ValueError, match="position_ids cover 5 tokens"):
        document_ids(1, 22, 22, position_ids=torch.arange(5)[None])


def test_reference_with_documents_equals_each_document_alone():
    """The reference itself: a packed row gives, per document, exactly the attention of that document alone."""
    q, k, v, kwargs = make_inputs(1, 4, 2, 22, 22, 16, rope=True, norm=True, pad=False, seed=1)
    docs = docs_for([LENGTHS])
    packed = reference_attention(q, k, v, window=WINDOW, document_ids=docs, **kwargs)
    start = 0
    for n in LENGTHS:
        part = slice(start, start + n)
        alone = reference_attention(
            q[:, :, part], k[:, :, part], v[:, :, part], window=WINDOW,
            q_norm_weight=kwargs["q_norm_weight"], k_norm_weight=kwargs["k_norm_weight"],
            cos=kwargs["cos"][:, part], sin=kwargs["sin"][:, part],
        )  # fmt: skip
        torch.testing.assert_close(packed[:, :, part], alone, rtol=1e-12, atol=1e-12)
        start += n


PACKED_CASES = [
    # batch, q_heads, kv_heads, dim, window, rope, pad, block, documents per row
    (1, 4, 2, 16, WINDOW, True, False, 4, [LENGTHS]),  # sliding, boundary inside a window
    (1, 4, 1, 16, None, False, False, 8, [LENGTHS]),  # global NoPE
    (2, 4, 2, 16, 9, True, False, 8, [[5, 17], [1, 9, 6, 6]]),  # per-row documents, a 1-token document
    (2, 4, 4, 16, None, False, True, None, [[20, 2], [11, 11]]),  # documents and padding together
]


@pytest.mark.parametrize("case", PACKED_CASES, ids=lambda c: f"B{c[0]}W{c[4]}pad{int(c[6])}")
@pytest.mark.parametrize("flash_tiles", [True, False], ids=["flash-tiles", "torch-tiles"])
def test_blocked_matches_reference_on_packed_rows(case, flash_tiles, monkeypatch):
    monkeypatch.setattr(attention_blocked, "FLASH_TILES", flash_tiles)
    batch, hq, hkv, dim, window, rope, pad, block, rows = case
    docs = docs_for(rows)
    length = docs.shape[1]
    q, k, v, kwargs = make_inputs(batch, hq, hkv, length, length, dim, rope=rope, norm=True, pad=pad, seed=len(rows[-1]))
    want = reference_attention(q, k, v, window=window, document_ids=docs, **kwargs)
    got = blocked_attention(q, k, v, window=window, block=block, document_ids=docs, **kwargs)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
    unpacked = reference_attention(q, k, v, window=window, **kwargs)
    assert not torch.allclose(got, unpacked, atol=1e-3)  # the documents really were separated
    leaves = [q, k, v, kwargs["q_norm_weight"], kwargs["k_norm_weight"]]
    grad_out = torch.randn_like(want)
    for g_got, g_want in zip(grads(got, leaves, grad_out), grads(want, leaves, grad_out)):
        torch.testing.assert_close(g_got, g_want, rtol=1e-8, atol=1e-8)


def test_packed_global_layer_visits_only_its_documents():
    """Key ranges start at the block's document: eight 64-token documents, 64-query blocks, 64 keys per block
    (an unpacked causal row visits 64 + 128 + ... + 512)."""
    docs = docs_for([[64] * 8])
    first = document_starts(docs).amin(0).tolist()

    def visited(doc_first):
        ranges = [attention_blocked.key_range(s, s + 64, 0, 512, None, doc_first) for s in range(0, 512, 64)]
        return sum(hi - lo for lo, hi in ranges)

    assert visited(first) == 8 * 64
    assert visited(None) == 64 * sum(range(1, 9))


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return ExaoneMoeForCausalLM(tiny_config()).eval()


def packed_features(seed: int = 0) -> list[dict]:
    gen = torch.Generator().manual_seed(seed)
    return [{"input_ids": torch.randint(3, 96, (n,), generator=gen).tolist()} for n in LENGTHS]


def run(model, impl, batch, *, grad: bool = False):
    model.set_attn_implementation(impl)
    model.zero_grad()
    out = model(**batch, use_cache=False)
    if grad:
        out.loss.backward()
        return out, {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out, None


@pytest.mark.parametrize("flash_kwargs", [False, True], ids=["position-ids", "cu-seq-lens"])
def test_packed_batch_from_the_collator_matches_eager_and_documents_alone(model, flash_kwargs):
    features = packed_features()
    collate = DataCollatorWithFlattening(return_flash_attn_kwargs=flash_kwargs, return_tensors="pt")
    batch = collate([{**f, "labels": f["input_ids"]} for f in features])
    assert "attention_mask" not in batch and batch["input_ids"].shape == (1, sum(LENGTHS))
    assert flash_kwargs == ("cu_seq_lens_q" in batch)
    train = ExaoneMoeForCausalLM(copy.deepcopy(model.config)).train()
    train.load_state_dict(model.state_dict())
    eager, eager_grads = run(train, "eager", batch, grad=True)
    ours, our_grads = run(train, hybrid.NAME, batch, grad=True)
    torch.testing.assert_close(ours.logits, eager.logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.loss, eager.loss, rtol=1e-5, atol=1e-6)
    for name, g in eager_grads.items():
        torch.testing.assert_close(our_grads[name], g, rtol=1e-3, atol=1e-5, msg=name)
    model.set_attn_implementation(hybrid.NAME)
    start = 0
    for feature in features:
        with torch.no_grad():
            alone = model(torch.tensor([feature["input_ids"]])).logits[0]
        n = alone.shape[0]
        torch.testing.assert_close(ours.logits[0, start : start + n], alone, rtol=1e-4, atol=1e-5)
        start += n


def test_fused_prologue_separates_packed_documents(model):
    features = packed_features(seed=1)
    batch = DataCollatorWithFlattening(return_tensors="pt")([{**f, "labels": f["input_ids"]} for f in features])
    fused = ExaoneMoeForCausalLM(copy.deepcopy(model.config)).train()
    fused.load_state_dict(model.state_dict())
    assert hybrid.fuse_qk_prologue(fused) == 4
    plain = ExaoneMoeForCausalLM(copy.deepcopy(model.config)).train()
    plain.load_state_dict(model.state_dict())
    got, got_grads = run(fused, hybrid.NAME, batch, grad=True)
    want, want_grads = run(plain, "eager", batch, grad=True)
    torch.testing.assert_close(got.logits, want.logits, rtol=1e-4, atol=1e-5)
    for name, g in want_grads.items():
        torch.testing.assert_close(got_grads[name], g, rtol=1e-3, atol=1e-5, msg=name)
