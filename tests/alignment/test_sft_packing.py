"""SFT with packing: TRL 1.16's best-fit packing (padding-free rows, document boundaries in ``position_ids`` and
``cu_seq_lens_q/k``) gives the loss of the same documents padded, main and MTP terms both.

Data: chat rows with an assistant-only mask and text rows from the bundled Constitution of Korea, of different
lengths, tokenised by the project's SFT path; the tiny K-EXAONE with its MTP block, on ``haetae_hybrid``.
"""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from trl import SFTConfig

from haetae.alignment.sft_trainer import MTPSFTTrainer
from haetae.alignment.train_data import tokenize_sft_rows

from .conftest import CORPUS

pytestmark = pytest.mark.usefixtures("one_torch_thread")
DOCUMENTS = 5


def sft_rows() -> list[dict]:
    lines = [x.strip() for x in CORPUS.read_text(encoding="utf-8").splitlines() if len(x.strip()) > 20]
    text = [{"text": line, "_where": f"text.jsonl:{i}"} for i, line in enumerate(lines[:3])]
    chat = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}], "_where": f"c:{i}"}
            for i, (q, a) in enumerate([("헌법 제1조는?", lines[3]), ("국민의 의무를 말해 줘", lines[4])])]
    return text + chat


def trainer_for(model, tokenizer, out, packing: bool) -> MTPSFTTrainer:
    config = SFTConfig(str(out), packing=packing, max_length=1024, per_device_train_batch_size=1 if packing else
                       DOCUMENTS, assistant_only_loss=False, completion_only_loss=False, use_cpu=True, bf16=False,
                       report_to="none", seed=0)
    columns = tokenize_sft_rows(sft_rows(), tokenizer, assistant_only_loss=True)
    return MTPSFTTrainer(model=model, args=config, train_dataset=Dataset.from_dict(columns),
                         processing_class=tokenizer)


def test_a_packed_batch_has_the_loss_of_the_same_documents_padded(make_policy, legal_tokenizer, tmp_path):
    model = make_policy(seed=3)
    padded_trainer = trainer_for(model, legal_tokenizer, tmp_path / "padded", packing=False)
    packed_trainer = trainer_for(model, legal_tokenizer, tmp_path / "packed", packing=True)
    (padded,) = list(padded_trainer.get_train_dataloader())
    (packed,) = list(packed_trainer.get_train_dataloader())
    assert packed["input_ids"].shape[0] == 1 and "attention_mask" not in packed
    assert int((packed["position_ids"][0] == 0).sum()) == DOCUMENTS == len(packed["cu_seq_lens_k"]) - 1
    assert int((packed["labels"] != -100).sum()) == int((padded["labels"][:, 1:] != -100).sum())
    model.train()
    losses = {}
    for name, trainer, batch in (("padded", padded_trainer, padded), ("packed", packed_trainer, packed)):
        with torch.no_grad():
            losses[name] = trainer.compute_loss(model, batch)
        losses[f"{name}_mtp"] = trainer._mtp_logs["mtp_loss"][-1]
    assert losses["padded_mtp"] > 0
    torch.testing.assert_close(losses["packed"], losses["padded"], rtol=0, atol=1e-5)
    assert abs(losses["packed_mtp"] - losses["padded_mtp"]) < 1e-5, losses
