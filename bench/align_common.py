"""Shared set-up of the training benchmarks: a tiny K-EXAONE with an SFT level on single-digit addition, and
AGAPO / TRL GRPO trainers built on the same model, data and settings (only the trainer class differs)."""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path

import torch
from datasets import Dataset

from haetae.alignment.demo import addition_rows, legal_files

GRPO, EXAONE4, KEXAONE = "trl-grpo", "agapo-exaone4", "agapo-kexaone"


def sft_policy(sft_steps: int, seed: int = 0):
    """(tokenizer, model): a tiny model trained from scratch for ``sft_steps`` steps on "a+b=c" lines."""
    import haetae.alignment.attention  # noqa: F401  (registers haetae_hybrid)
    from haetae.alignment.configs import get_config
    from haetae.alignment.mtp import ExaoneMoeWithMTP
    from haetae.alignment.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(legal_files(), 2048, tempfile.mkdtemp(prefix="align-bench-tok-"))
    torch.manual_seed(seed)
    config = get_config("tiny", vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                        eos_token_id=tokenizer.eos_token_id)
    model = ExaoneMoeWithMTP(config)
    model.set_attn_implementation("haetae_hybrid")
    model.config.output_router_logits = False
    rows = [r["prompt"] + r["answer"] for r in addition_rows(32 * sft_steps, seed=seed + 1)]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(sft_steps):
        batch = tokenizer([t + tokenizer.eos_token for t in rows[32 * step: 32 * (step + 1)]],
                          return_tensors="pt", padding=True, add_special_tokens=False)
        labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
        model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels).loss.backward()
        opt.step()
        opt.zero_grad()
    return tokenizer, model


class StepTimer:
    """A TrainerCallback recording each optimizer step's wall time (generation, rewards, loss and update) and this
    process's CPU time over the same span (with torch on one thread, what other jobs' load does not inflate)."""

    def __init__(self):
        from transformers import TrainerCallback

        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []
        owner = self

        class _Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                owner._start, owner._cpu_start = time.perf_counter(), time.process_time()

            def on_step_end(self, args, state, control, **kwargs):
                owner.seconds.append(time.perf_counter() - owner._start)
                owner.cpu_seconds.append(time.process_time() - owner._cpu_start)

        self.callback = _Callback()


def build_trainer(method: str, tokenizer, model, prompts: int, steps: int, out: Path, **settings):
    """The same RL run under ``method``: identical model copy, prompts, G, lengths, lr, seed, beta=0."""
    from trl import GRPOConfig, GRPOTrainer

    from haetae.alignment.agapo_config import AGAPOConfig
    from haetae.alignment.agapo_trainer import AGAPOTrainer
    from haetae.alignment.rewards import MathAnswerReward

    fields = dict(output_dir=str(out / method), use_cpu=True, bf16=False, per_device_train_batch_size=8,
                  num_generations=4, max_completion_length=4, max_steps=steps, logging_steps=1, report_to="none",
                  save_strategy="no", learning_rate=1e-3, lr_scheduler_type="constant", seed=0, beta=0.0,
                  temperature=1.0, disable_tqdm=True, router_aux_loss_coef=0.0)
    fields.update(settings)
    dataset = Dataset.from_list(addition_rows(prompts, seed=2))
    timer = StepTimer()
    reward = MathAnswerReward(answer_column="answer")
    policy = copy.deepcopy(model)
    if method == GRPO:
        trainer = GRPOTrainer(policy, [reward], args=GRPOConfig(**fields), train_dataset=dataset,
                              processing_class=tokenizer, callbacks=[timer.callback])
    else:
        variant = "exaone4" if method == EXAONE4 else "kexaone"
        trainer = AGAPOTrainer(policy, [reward], args=AGAPOConfig(variant=variant, **fields), train_dataset=dataset,
                               processing_class=tokenizer, callbacks=[timer.callback])
    return trainer, timer
