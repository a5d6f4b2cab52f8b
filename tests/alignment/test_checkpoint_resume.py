"""SFT and GrouPER resume with the checkpoint's weights, the fused MoE experts and router bias included.

transformers 5 writes ExaoneMoe's fused experts as per-expert tensors; ``Trainer._load_from_checkpoint`` loads
the file without ``from_pretrained``'s conversion, so a resumed run kept its fresh experts and only warned.
Each test trains one step and checkpoints it, then resumes a differently seeded model from that checkpoint with
nothing left to train: every tensor must equal the checkpoint's.
"""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from trl import SFTConfig

from haetae.alignment.grouper_config import GrouPERConfig
from haetae.alignment.grouper_trainer import GrouPERTrainer
from haetae.alignment.sft_trainer import MTPSFTTrainer
from haetae.alignment.train_data import tokenize_sft_rows

from .conftest import CORPUS

pytestmark = pytest.mark.usefixtures("one_torch_thread")
COMMON = dict(max_steps=1, save_steps=1, save_strategy="steps", learning_rate=1e-2, use_cpu=True, report_to="none",
              per_device_train_batch_size=2, seed=0, bf16=False)


def assert_weights_equal(resumed: torch.nn.Module, saved: dict[str, torch.Tensor]) -> None:
    state = resumed.state_dict()
    assert state.keys() == saved.keys()
    experts = [name for name in state if ".experts." in name]
    assert experts, "the tiny model has no fused experts to check"
    different = [name for name, tensor in state.items() if not torch.equal(tensor, saved[name])]
    assert not different, f"resumed weights differ from the checkpoint's: {different[:5]}"


def resume_without_training(trainer, checkpoint) -> None:
    before = trainer.model.state_dict()["model.layers.1.mlp.experts.gate_up_proj"].clone()
    trainer.train(resume_from_checkpoint=str(checkpoint))
    assert trainer.state.global_step == 1
    assert not torch.equal(before, trainer.model.state_dict()["model.layers.1.mlp.experts.gate_up_proj"])


def text_dataset(tokenizer) -> Dataset:
    lines = [x.strip() for x in CORPUS.read_text(encoding="utf-8").splitlines() if len(x.strip()) > 30][:2]  # one step = one epoch
    rows = [{"text": line, "_where": f"text.jsonl:{i + 1}"} for i, line in enumerate(lines)]
    return Dataset.from_dict(tokenize_sft_rows(rows, tokenizer, assistant_only_loss=True))


def assert_resume_restores_the_checkpoint(trainer, make_policy, tmp_path) -> None:
    """Train one step from seed 1 and save; a trainer around a seed-2 model resumed from that checkpoint holds its
    weights, experts included."""
    first = trainer(make_policy(seed=1), tmp_path / "a")
    first.train()
    saved = {k: v.clone() for k, v in first.model.state_dict().items()}
    second = trainer(make_policy(seed=2), tmp_path / "b")
    resume_without_training(second, tmp_path / "a" / "checkpoint-1")
    assert_weights_equal(second.model, saved)


def test_sft_resumes_with_the_checkpoints_experts(make_policy, legal_tokenizer, tmp_path):
    def trainer(model, out):
        config = SFTConfig(str(out), max_length=64, assistant_only_loss=False, completion_only_loss=False, **COMMON)
        return MTPSFTTrainer(model=model, args=config, train_dataset=text_dataset(legal_tokenizer),
                             processing_class=legal_tokenizer)

    assert_resume_restores_the_checkpoint(trainer, make_policy, tmp_path)


def test_grouper_resumes_with_the_checkpoints_experts(make_policy, legal_tokenizer, tmp_path):
    groups = [{"prompt": "대한민국은", "responses": ["민주공화국이다", "국민에게 있고"], "rewards": [0.9, 0.1]},
              {"prompt": "모든 국민은", "responses": ["법 앞에", "평등하다"], "rewards": [0.0, 1.0]}]

    def trainer(model, out):
        return GrouPERTrainer(model, GrouPERConfig(str(out), num_generations=2, **COMMON), Dataset.from_list(groups),
                              legal_tokenizer)

    assert_resume_restores_the_checkpoint(trainer, make_policy, tmp_path)
