"""AGAPO trains a tiny K-EXAONE with real TRL on CPU: both variants, filtering, router freezing, metrics."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
import trl
from datasets import Dataset
from transformers import Trainer
from trl import GRPOTrainer
from trl.trainer.utils import RepeatSampler

from haetae.alignment.agapo_config import AGAPOConfig
from haetae.alignment.agapo_trainer import AGAPOTrainer, agapo_batch_advantages
from haetae.errors import UsageError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

nan = float("nan")

# The private GRPOTrainer hooks AGAPOTrainer overrides or calls, as TRL 1.16.0 declares them.
PINNED_SIGNATURES = {
    "_calculate_rewards": "(self, inputs, prompts, completions, completion_ids_list)",
    "_generate_and_score_completions": "(self, inputs: list[dict[str, torch.Tensor | typing.Any]]) -> dict[str, "
    "torch.Tensor | typing.Any]",
    "_compute_loss": "(self, model, inputs)",
    # Resume (generation buffer, weights through from_pretrained): Trainer hooks TRL 1.16 / transformers 5.x call.
    "_save_checkpoint": "(self, model, trial)",
    "_get_train_sampler": "(self, dataset: datasets.arrow_dataset.Dataset | None = None) -> "
    "torch.utils.data.sampler.Sampler",
    "_load_optimizer_and_scheduler": "(self, checkpoint)",
    "_load_from_checkpoint": "(self, resume_from_checkpoint: str, model: torch.nn.modules.module.Module | None = "
    "None) -> None",
}
# What the resume overrides rely on: TRL's buffer and step counter, and where Trainer loads plain weights.
BUFFER_USES = ("self._buffered_inputs = [", "inputs = self._buffered_inputs[self._step % self.args.steps_per_generation]")
PER_TOKEN_LOGPS_PARAMS = [
    "self",
    "model",
    "input_ids",
    "attention_mask",
    "logits_to_keep",
    "batch_size",
    "compute_entropy",
]


def test_trl_private_hooks_are_the_pinned_ones():
    assert trl.__version__ == "1.16.0", "AGAPOTrainer overrides private TRL hooks: re-check them, then re-pin"
    for name, want in PINNED_SIGNATURES.items():
        got = str(inspect.signature(getattr(GRPOTrainer, name)))
        assert got.replace("typing.Any", "Any") == want.replace("typing.Any", "Any"), (
            f"GRPOTrainer.{name} changed"
        )
    params = list(inspect.signature(GRPOTrainer._get_per_token_logps_and_entropies).parameters)
    assert params[: len(PER_TOKEN_LOGPS_PARAMS)] == PER_TOKEN_LOGPS_PARAMS
    returns = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    for key in (
        '"advantages": advantages',
        'output["old_per_token_logps"]',
        'output["sampling_per_token_logps"]',
        'output["ref_per_token_logps"]',
        "rewards_per_func = self._calculate_rewards(",
    ):
        assert key in returns, f"GRPOTrainer._generate_and_score_completions no longer has {key}"
    prepare = inspect.getsource(GRPOTrainer._prepare_inputs)
    assert all(use in prepare for use in BUFFER_USES), "GRPOTrainer._prepare_inputs buffers generations differently"
    assert "self._load_from_checkpoint(resume_from_checkpoint)" in inspect.getsource(Trainer.train)
    assert "rollout_func" in inspect.signature(GRPOTrainer.__init__).parameters
    sampler_params = list(inspect.signature(RepeatSampler.__init__).parameters)
    assert sampler_params == ["self", "data_source", "mini_repeat_count", "batch_size", "repeat_count", "shuffle", "seed"]


def config(tmp_path, **overrides) -> AGAPOConfig:
    base = dict(
        output_dir=str(tmp_path),
        use_cpu=True,
        bf16=False,
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=8,
        max_steps=2,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        learning_rate=1e-3,
        seed=0,
        disable_tqdm=True,
    )
    base.update(overrides)
    return AGAPOConfig(**base)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"variant": "ppo"}, "choose one of exaone4, kexaone"),
        ({"variant": "kexaone", "beta": 0.1}, "no KL penalty; set beta=0"),
        ({"router_aux_loss_coef": 0.001}, "set it to 0"),
        ({"vllm_importance_sampling_correction": True}, "set it to False"),
        ({"variant": "exaone4", "steps_per_generation": 2}, "on-policy"),
        ({"is_cap": 0.0}, "must be > 0"),
        ({"top_entropy_quantile": 0.5}, "leave it at its default"),
    ],
)
def test_config_refuses_settings_outside_agapo_with_the_fix(tmp_path, overrides, message):
    with pytest.raises(UsageError, match=message):
        config(tmp_path, **overrides)


def test_config_defaults_are_correct_by_construction(tmp_path):
    kexaone, exaone4 = config(tmp_path, variant="kexaone"), config(tmp_path, variant="exaone4")
    assert kexaone.router_aux_loss_coef == 0.0 and not kexaone.vllm_importance_sampling_correction
    assert kexaone.freeze_router and not exaone4.freeze_router


def test_batch_advantages_mask_zero_variance_groups_under_kexaone(tmp_path):
    rewards = torch.tensor([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0], [nan, 0.5]])
    advantages, filtered = agapo_batch_advantages(rewards, config(tmp_path, variant="kexaone"))
    assert filtered.tolist() == [True, False, True, True]
    torch.testing.assert_close(
        advantages, torch.tensor([[nan, nan], [1.0, -1.0], [nan, nan], [nan, nan]]), equal_nan=True
    )
    # exaone4 keeps every group; the all-wrong one is pushed down against the others' mean.
    advantages, filtered = agapo_batch_advantages(rewards[:3], config(tmp_path, variant="exaone4", beta=0.0))
    assert not filtered.any()
    assert (advantages[2] < 0).all() and advantages[0, 0] == advantages[0, 1]


def kinded_dataset(prompts: list[str]) -> Dataset:
    kinds = ["solved", "varied", "unscorable", "varied"]
    return Dataset.from_list([{"prompt": p, "kind": kinds[i % 4]} for i, p in enumerate(prompts[:16])])


class ConstructedReward:
    """Rewards fixed by each prompt's kind: 'solved' always 1 (a zero-variance group), 'varied' alternates 1/0,
    'unscorable' scores half its responses (1, 0) and fails on the rest (None). It records the groups it scored,
    so the test knows the true filtered fraction."""

    __name__ = "constructed"

    def __init__(self, group_size: int):
        self.group_size, self.calls = group_size, []

    def __call__(self, prompts, completions, kind, **_):
        self.calls.append(list(kind[:: self.group_size]))
        rules = {
            "solved": lambda i: 1.0,
            "varied": lambda i: float(i % 2),
            "unscorable": lambda i: [1.0, None, 0.0, None][i % 4],
        }
        return [rules[k](i) for i, k in enumerate(kind)]


def logged(trainer, key):
    return [h[key] for h in trainer.state.log_history if key in h and "train_runtime" not in h]


def test_kexaone_trains_off_policy_with_router_frozen_and_groups_masked(
    tmp_path, make_policy, legal_tokenizer, legal_prompts
):
    model = make_policy()
    routers = {n: p.detach().clone() for n, p in model.named_parameters() if n.endswith("mlp.gate.weight")}
    biases = {n: b.clone() for n, b in model.named_buffers() if n.endswith("e_score_correction_bias")}
    others = {n: p.detach().clone() for n, p in model.named_parameters() if "self_attn.q_proj" in n}
    mtp = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith("mtp.")}
    assert routers and biases and others and mtp
    reward = ConstructedReward(group_size=4)
    args = config(tmp_path, variant="kexaone", max_steps=3, steps_per_generation=2, is_cap=1.05)
    trainer = AGAPOTrainer(
        model,
        reward,
        args=args,
        train_dataset=kinded_dataset(legal_prompts),
        processing_class=legal_tokenizer,
    )
    assert trainer.frozen_routers == len(routers) and not trainer.aux_loss_enabled
    # The RL loss never reaches the MTP block: frozen, so DDP does not wait for its gradients.
    assert trainer.frozen_mtp == len(mtp)
    trainer.train()

    losses = logged(trainer, "loss")
    assert len(losses) == 3 and all(math.isfinite(x) for x in losses)
    for key in ("entropy", "agapo/is_capped_fraction", "agapo/is_ratio_mean"):
        assert len(logged(trainer, key)) == 3, key
    assert "aux_loss" not in trainer.state.log_history[0]
    # Two generation batches (steps 1 and 3); each logged fraction equals the solved share of its groups.
    assert len(reward.calls) == 2
    want = [sum(k == "solved" for k in kinds) / len(kinds) for kinds in reward.calls]
    assert logged(trainer, "agapo/filtered_fraction") == pytest.approx(want)
    missing = [sum(k == "unscorable" for k in kinds) / len(kinds) / 2 for kinds in reward.calls]
    assert logged(trainer, "agapo/reward_missing_fraction") == pytest.approx(missing)
    for name in ("reward", "reward_std", "completions/clipped_ratio"):
        assert len(logged(trainer, name)) == 2, name
    # Step 2 reuses step 1's rollouts after an update: a real off-policy ratio against the rollout policy.
    ratios = logged(trainer, "agapo/is_ratio_mean")
    assert ratios[0] == pytest.approx(1.0) and ratios[1] != pytest.approx(1.0, abs=1e-7)

    params = dict(trainer.model.named_parameters())
    buffers = dict(trainer.model.named_buffers())
    assert all(torch.equal(params[n], w) for n, w in routers.items())
    assert all(torch.equal(buffers[n], b) for n, b in biases.items())
    assert all(torch.equal(params[n], w) and not params[n].requires_grad for n, w in mtp.items())
    assert any(not torch.equal(params[n], w) for n, w in others.items())


def test_exaone4_trains_on_policy_with_sequence_kl(tmp_path, make_policy, legal_tokenizer, legal_prompts):
    model = make_policy()
    data = Dataset.from_list([{"prompt": p} for p in legal_prompts[:16]])

    def odd_length(prompts, completions, **_):
        return [float(len(c) % 2) for c in completions]

    args = config(tmp_path, variant="exaone4", beta=0.05, max_steps=2)
    trainer = AGAPOTrainer(model, odd_length, args=args, train_dataset=data, processing_class=legal_tokenizer)
    ref_before = {n: p.detach().clone() for n, p in trainer.ref_model.named_parameters()}
    trainer.train()

    losses, kls = logged(trainer, "loss"), logged(trainer, "kl")
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses)
    assert (
        len(kls) == 2 and kls[0] == pytest.approx(0.0, abs=1e-7) and kls[1] > 0
    )  # policy moved off the SFT ref
    assert len(logged(trainer, "agapo/kl_seq")) == 2 and len(logged(trainer, "entropy")) == 2
    assert len(logged(trainer, "agapo/all_wrong_fraction")) == 2
    assert "agapo/is_capped_fraction" not in trainer.state.log_history[0]
    # The reference is frozen, and the router trains in this variant.
    assert all(torch.equal(p, ref_before[n]) for n, p in trainer.ref_model.named_parameters())
    assert all(p.requires_grad for n, p in trainer.model.named_parameters() if n.endswith("mlp.gate.weight"))


def test_trainer_refuses_a_checkpoint_path_and_a_plain_grpo_config(tmp_path, make_policy):
    with pytest.raises(UsageError, match="from_pretrained"):
        AGAPOTrainer("some/checkpoint", lambda **_: [], args=config(tmp_path))
    with pytest.raises(UsageError, match="needs an AGAPOConfig"):
        AGAPOTrainer(make_policy(), lambda **_: [], args=trl.GRPOConfig(str(tmp_path), use_cpu=True))


def test_trainer_never_asks_the_sigmoid_router_for_a_load_balancing_loss(
    tmp_path, make_policy, legal_tokenizer
):
    # With output_router_logits set, TRL's fused head would add Mixtral's softmax balancing loss to ExaoneMoe.
    model = make_policy()
    model.config.output_router_logits = True
    data = Dataset.from_list([{"prompt": "대한민국은"}] * 8)
    trainer = AGAPOTrainer(
        model,
        lambda completions, **_: [0.0] * len(completions),
        args=config(tmp_path),
        train_dataset=data,
        processing_class=legal_tokenizer,
    )
    assert trainer.model.config.output_router_logits is False
    assert trainer.router_aux_loss_coef == 0.0 and not trainer.aux_loss_enabled
