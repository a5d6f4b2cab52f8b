"""AGAPO, SimPER and GrouPER objectives as small pure functions (methods.md sections 2-3).

Rewards and advantages are ``[prompts, G]`` tensors; ``NaN`` marks a missing reward (a reward function that failed
or returned ``None``) and is excluded from every baseline, statistic and loss. An advantage that cannot be defined
(missing reward, a group with one scored response, a group filtered out) is ``NaN`` too, so the losses below skip
that sequence instead of treating it as a zero-reward sample.

The trainers look estimators and losses up by name in ``ADVANTAGE_ESTIMATORS`` / ``POLICY_LOSSES``, the way verl
registers its own, so a recipe can name the objective it trains.

All-wrong groups under AGAPO "exaone4": the leave-one-out advantage of a group of equal rewards is zero, and the
leave-one-out advantages of a group always sum to zero, so the global normalisation cannot give such a group a
signal either. The reports keep these groups on purpose (asymmetric sampling) without saying how they learn from
them. Here (``all_wrong="batch_baseline"``, the default) a group whose every scored reward is at or below
``wrong_reward`` takes the mean reward of the *other* groups in the batch as its baseline, so its responses get a
negative advantage whenever some other prompt was solved; ``all_wrong="zero"`` keeps the literal formula.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

STD_FLOOR = 1e-6  # below this a standard deviation counts as zero: nothing to normalise by

AdvantageEstimator = Callable[..., Tensor]
PolicyLoss = Callable[..., tuple[Tensor, dict[str, Tensor]]]
ADVANTAGE_ESTIMATORS: dict[str, AdvantageEstimator] = {}
POLICY_LOSSES: dict[str, PolicyLoss] = {}


def register_advantage_estimator(name: str) -> Callable[[AdvantageEstimator], AdvantageEstimator]:
    def add(fn: AdvantageEstimator) -> AdvantageEstimator:
        ADVANTAGE_ESTIMATORS[name] = fn
        return fn

    return add


def register_policy_loss(name: str) -> Callable[[PolicyLoss], PolicyLoss]:
    def add(fn: PolicyLoss) -> PolicyLoss:
        POLICY_LOSSES[name] = fn
        return fn

    return add


def get_advantage_estimator(name: str) -> AdvantageEstimator:
    if name not in ADVANTAGE_ESTIMATORS:
        raise ValueError(
            f"unknown advantage estimator {name!r}; choose one of: {', '.join(ADVANTAGE_ESTIMATORS)}"
        )
    return ADVANTAGE_ESTIMATORS[name]


def get_policy_loss(name: str) -> PolicyLoss:
    if name not in POLICY_LOSSES:
        raise ValueError(f"unknown policy loss {name!r}; choose one of: {', '.join(POLICY_LOSSES)}")
    return POLICY_LOSSES[name]


def _check_groups(rewards: Tensor) -> None:
    if rewards.dim() != 2 or rewards.size(1) < 2:
        raise ValueError(f"rewards must have shape [prompts, G] with G >= 2, got {tuple(rewards.shape)}")


def zero_variance_groups(rewards: Tensor) -> Tensor:
    """Bool ``[prompts]``: groups whose scored rewards are all equal (or that have fewer than two scored)."""
    _check_groups(rewards)
    valid = ~rewards.isnan()
    high = torch.where(valid, rewards, -torch.inf).amax(dim=1)
    low = torch.where(valid, rewards, torch.inf).amin(dim=1)
    return (valid.sum(dim=1) < 2) | (high - low <= STD_FLOOR)


def all_correct_groups(rewards: Tensor, correct_reward: float = 1.0) -> Tensor:
    """Bool ``[prompts]``: every scored reward reaches ``correct_reward`` (asymmetric sampling drops these)."""
    _check_groups(rewards)
    valid = ~rewards.isnan()
    return valid.any(dim=1) & torch.where(valid, rewards >= correct_reward, True).all(dim=1)


def all_wrong_groups(rewards: Tensor, wrong_reward: float = 0.0) -> Tensor:
    """Bool ``[prompts]``: at least one scored reward and every one at or below ``wrong_reward``."""
    _check_groups(rewards)
    valid = ~rewards.isnan()
    return valid.any(dim=1) & torch.where(valid, rewards <= wrong_reward, True).all(dim=1)


def _nan_stats(values: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and population std over the non-NaN entries (0, 0 when there are none)."""
    valid = values[~values.isnan()]
    if valid.numel() == 0:
        zero = values.new_zeros(())
        return zero, zero
    return valid.mean(), valid.std(unbiased=False)


@register_advantage_estimator("agapo")
def agapo_advantages(rewards: Tensor, all_wrong: str = "batch_baseline", wrong_reward: float = 0.0) -> Tensor:
    """Leave-one-out group advantage, then z-scored over every scored response in the batch (population std).

    ``A_group,i = r_i - mean_{j != i} r_j`` over the group's scored responses; see the module docstring for
    ``all_wrong``. A zero batch std (every advantage equal) gives zeros rather than a division by ~0.
    """
    _check_groups(rewards)
    if all_wrong not in ("batch_baseline", "zero"):
        raise ValueError(f"all_wrong must be 'batch_baseline' or 'zero', got {all_wrong!r}")
    valid = ~rewards.isnan()
    filled = torch.where(valid, rewards, 0.0)
    count = valid.sum(dim=1, keepdim=True)
    others = (count - 1).clamp(min=1)
    group = filled - (filled.sum(dim=1, keepdim=True) - filled) / others
    group = torch.where(valid & (count >= 2), group, torch.nan)
    if all_wrong == "batch_baseline":
        wrong = all_wrong_groups(rewards, wrong_reward)
        total, n = filled.sum(), valid.sum()
        other_total = total - filled.sum(dim=1, keepdim=True)
        other_n = n - count
        baseline = other_total / other_n.clamp(min=1)
        has_others = (other_n > 0).expand_as(rewards)
        batch_adv = torch.where(has_others, filled - baseline, 0.0)
        group = torch.where(wrong.unsqueeze(1) & valid, batch_adv, group)
    mean, std = _nan_stats(group)
    if std <= STD_FLOOR:
        return torch.where(group.isnan(), torch.nan, torch.zeros_like(group))
    return (group - mean) / std


@register_advantage_estimator("grouper")
def grouper_advantages(rewards: Tensor) -> Tensor:
    """z-score within each group, then min-max to [-1, 1]; a group of equal rewards (or one scored) gets 0."""
    _check_groups(rewards)
    valid = ~rewards.isnan()
    count = valid.sum(dim=1, keepdim=True).clamp(min=1)
    filled = torch.where(valid, rewards, 0.0)
    mean = filled.sum(dim=1, keepdim=True) / count
    std = (torch.where(valid, (rewards - mean) ** 2, 0.0).sum(dim=1, keepdim=True) / count).sqrt()
    flat = std <= STD_FLOOR
    z = torch.where(valid & ~flat, (filled - mean) / std.clamp(min=STD_FLOOR), torch.nan)
    z_max = torch.where(z.isnan(), -torch.inf, z).amax(dim=1, keepdim=True)
    z_min = torch.where(z.isnan(), torch.inf, z).amin(dim=1, keepdim=True)
    scaled = 2 * (z - z_min) / (z_max - z_min).clamp(min=STD_FLOOR) - 1
    return torch.where(valid, torch.where(flat, 0.0, scaled), torch.nan)


def _masked_mean(values: Tensor, weights: Tensor) -> Tensor:
    """Weighted mean that stays a differentiable zero when every weight is zero."""
    return (values * weights).sum() / weights.sum().clamp(min=1.0)


def simper_loss(chosen_mean_logp: Tensor, rejected_mean_logp: Tensor) -> Tensor:
    """SimPER: ``-exp(mean log p(y_w)) + exp(mean log p(y_l))`` averaged over pairs; a NaN pair is skipped."""
    valid = ~(chosen_mean_logp.isnan() | rejected_mean_logp.isnan())
    per_pair = -torch.exp(chosen_mean_logp.nan_to_num()) + torch.exp(rejected_mean_logp.nan_to_num())
    return _masked_mean(per_pair, valid.to(per_pair.dtype))


@register_policy_loss("grouper")
def grouper_loss(mean_token_logp: Tensor, advantages: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """GrouPER: ``-mean_groups[(1/G) sum_i A_i exp(mean log p(o_i))]`` over the scored responses of each group."""
    valid = ~(advantages.isnan() | mean_token_logp.isnan())
    weights = valid.to(mean_token_logp.dtype)
    terms = advantages.nan_to_num() * torch.exp(mean_token_logp.nan_to_num()) * weights
    per_group = terms.sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
    loss = -_masked_mean(per_group, valid.any(dim=1).to(per_group.dtype))
    return loss, {
        "inverse_perplexity": _masked_mean(torch.exp(mean_token_logp.nan_to_num()), weights).detach()
    }


def per_token_kl(per_token_logps: Tensor, ref_per_token_logps: Tensor) -> Tensor:
    """k3 estimator of KL[pi || pi_ref] per token (non-negative, unbiased; the one TRL uses)."""
    delta = ref_per_token_logps - per_token_logps
    return torch.exp(delta) - delta - 1


@register_policy_loss("agapo_exaone4")
def agapo_exaone4_loss(
    per_token_logps: Tensor,
    advantages: Tensor,
    mask: Tensor,
    ref_per_token_logps: Tensor | None = None,
    beta: float = 0.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """EXAONE 4.0 AGAPO: ``-(A * log pi(o|q) - beta * KL_seq)`` averaged over sequences, no ratio, no clipping.

    Inputs are ``[B, T]`` (``advantages`` ``[B]``, NaN = excluded). ``log pi(o|q)`` and ``KL_seq`` are sums over
    the completion's tokens: the probability and the KL of the whole sequence, as the objective states them.
    """
    mask = mask.to(per_token_logps.dtype)
    keep = (~advantages.isnan()).to(per_token_logps.dtype)
    seq_logp = (per_token_logps * mask).sum(dim=-1)
    per_seq = -advantages.nan_to_num() * seq_logp
    stats: dict[str, Tensor] = {}
    if beta != 0.0:
        if ref_per_token_logps is None:
            raise ValueError("beta != 0 needs ref_per_token_logps (the SFT reference's per-token log-probs)")
        seq_kl = (per_token_kl(per_token_logps, ref_per_token_logps) * mask).sum(dim=-1)
        per_seq = per_seq + beta * seq_kl
        stats["kl_seq"] = _masked_mean(seq_kl, keep).detach()
    return _masked_mean(per_seq, keep), stats


@register_policy_loss("agapo_kexaone")
def agapo_kexaone_loss(
    per_token_logps: Tensor,
    advantages: Tensor,
    mask: Tensor,
    rollout_per_token_logps: Tensor,
    eps: float,
) -> tuple[Tensor, dict[str, Tensor]]:
    """K-EXAONE AGAPO: ``-(1/|o|) sum_t sg(min(rho_t, eps)) * A * log pi_t``, then the mean over sequences.

    ``rho_t = pi_theta / pi_rollout`` against the log-probs of the policy that generated the rollout; a rollout
    log-prob the engine could not give (NaN) counts as on-policy (ratio 1). No KL term.
    """
    mask = mask.to(per_token_logps.dtype)
    keep = (~advantages.isnan()).to(per_token_logps.dtype)
    log_ratio = (per_token_logps.detach() - rollout_per_token_logps).nan_to_num(nan=0.0)
    ratio = torch.exp(log_ratio)
    weight = torch.clamp(ratio, max=eps)
    per_token = -weight * advantages.nan_to_num().unsqueeze(-1) * per_token_logps
    per_seq = (per_token * mask).sum(dim=-1) / mask.sum(dim=-1).clamp(min=1.0)
    token_weights = mask * keep.unsqueeze(-1)
    stats = {
        "is_capped_fraction": _masked_mean((ratio > eps).to(mask.dtype), token_weights),
        "is_ratio_mean": _masked_mean(ratio, token_weights),
    }
    return _masked_mean(per_seq, keep), stats
