"""Hand-computed checks of the AGAPO / SimPER / GrouPER objectives (methods.md sections 2-3)."""

from __future__ import annotations

import math

import pytest
import torch

from haetae.alignment import objectives as obj

nan = float("nan")


def close(got: torch.Tensor, want: list) -> None:
    torch.testing.assert_close(got, torch.tensor(want, dtype=got.dtype), equal_nan=True, rtol=1e-5, atol=1e-6)


def test_agapo_advantages_g2_leave_one_out_then_global_zscore():
    # LOO: [1, -1], [0.5, -0.5]; batch mean 0, population std sqrt(0.625).
    s = math.sqrt(0.625)
    close(
        obj.agapo_advantages(torch.tensor([[1.0, 0.0], [1.0, 0.5]]), all_wrong="zero"),
        [[1 / s, -1 / s], [0.5 / s, -0.5 / s]],
    )


def test_agapo_advantages_g4():
    # LOO: 1 - 1/3 = 2/3 ...; second group 1 - 2/3 = 1/3 (x3) and 0 - 1 = -1; population std sqrt(7/18).
    s = math.sqrt(7 / 18)
    got = obj.agapo_advantages(torch.tensor([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]]), all_wrong="zero")
    close(got, [[2 / 3 / s, -2 / 3 / s, -2 / 3 / s, 2 / 3 / s], [1 / 3 / s, 1 / 3 / s, 1 / 3 / s, -1 / s]])


def test_agapo_all_equal_group_gets_zero_and_a_batch_of_equal_groups_gives_zeros():
    r = math.sqrt(2)
    close(obj.agapo_advantages(torch.tensor([[1.0, 1.0], [1.0, 0.0]]), all_wrong="zero"), [[0, 0], [r, -r]])
    close(obj.agapo_advantages(torch.tensor([[0.5, 0.5], [1.0, 1.0]])), [[0, 0], [0, 0]])


def test_agapo_all_wrong_group_takes_the_other_groups_mean_as_baseline():
    rewards = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    # The literal formula: no signal for the all-wrong group.
    r = math.sqrt(2)
    close(obj.agapo_advantages(rewards, all_wrong="zero"), [[0, 0], [r, -r]])
    # Default: baseline 0.5 (the other group's mean) -> [-0.5, -0.5, 1, -1]; mean -0.25, std 0.75.
    close(obj.agapo_advantages(rewards), [[-1 / 3, -1 / 3], [5 / 3, -1]])
    # A batch where nothing was solved has nothing to compare with: zeros.
    close(obj.agapo_advantages(torch.tensor([[0.0, 0.0], [0.0, 0.0]])), [[0, 0], [0, 0]])


def test_agapo_nan_rewards_are_excluded_from_baselines_and_statistics():
    # Group 1 scored {1, 0}: LOO [1, -1]; group 2: [-0.25, -0.25, 0.5]; std over the 5 scored = sqrt(0.475).
    s = math.sqrt(0.475)
    got = obj.agapo_advantages(torch.tensor([[1.0, nan, 0.0], [0.5, 0.5, 1.0]]), all_wrong="zero")
    close(got, [[1 / s, nan, -1 / s], [-0.25 / s, -0.25 / s, 0.5 / s]])
    # One scored response has no leave-one-out baseline: its advantage is undefined (NaN), not 0.
    assert obj.agapo_advantages(torch.tensor([[1.0, nan], [1.0, 0.0]]), all_wrong="zero")[0].isnan().all()


def test_grouper_advantages_minmax_to_unit_interval():
    close(obj.grouper_advantages(torch.tensor([[0.0, 0.5, 1.0, 1.0]])), [[-1, 0, 1, 1]])
    close(obj.grouper_advantages(torch.tensor([[0.2, 0.9]])), [[-1, 1]])
    close(obj.grouper_advantages(torch.tensor([[0.3, 0.3, 0.3, 0.3]])), [[0, 0, 0, 0]])
    close(obj.grouper_advantages(torch.tensor([[1.0, nan, 0.0, 0.5]])), [[1, nan, -1, 0]])
    close(obj.grouper_advantages(torch.tensor([[1.0, nan]])), [[0, nan]])


def test_group_filters():
    rewards = torch.tensor([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [nan, 1.0], [nan, nan]])
    assert obj.zero_variance_groups(rewards).tolist() == [True, True, False, True, True]
    assert obj.all_correct_groups(rewards).tolist() == [True, False, False, True, False]
    assert obj.all_wrong_groups(rewards).tolist() == [False, True, False, False, False]


def test_simper_and_grouper_loss_by_hand_and_grouper_g2_is_half_simper():
    chosen, rejected = torch.log(torch.tensor([0.5, 0.8])), torch.log(torch.tensor([0.25, 0.4]))
    torch.testing.assert_close(obj.simper_loss(chosen, rejected), torch.tensor((-0.5 + 0.25 - 0.8 + 0.4) / 2))
    logp = torch.stack([chosen, rejected], dim=1)
    advantages = obj.grouper_advantages(torch.tensor([[0.9, 0.1], [1.0, 0.0]]))
    close(advantages, [[1, -1], [1, -1]])
    loss, _ = obj.grouper_loss(logp, advantages)
    torch.testing.assert_close(loss, obj.simper_loss(chosen, rejected) / 2)
    # G = 4: -(1/4)(1*0.5 + 0*0.4 - 1*0.1 + 1*0.3) = -0.175
    loss4, _ = obj.grouper_loss(
        torch.log(torch.tensor([[0.5, 0.4, 0.1, 0.3]])), torch.tensor([[1.0, 0.0, -1.0, 1.0]])
    )
    torch.testing.assert_close(loss4, torch.tensor(-0.175))


def test_grouper_loss_skips_missing_responses():
    logp = torch.log(torch.tensor([[0.5, 0.9, 0.25]]))
    loss, _ = obj.grouper_loss(logp, torch.tensor([[1.0, nan, -1.0]]))
    torch.testing.assert_close(loss, torch.tensor(-(0.5 - 0.25) / 2))


def test_exaone4_loss_sequence_logprob_and_sequence_kl():
    logp = torch.tensor([[-1.0, -2.0, -5.0], [-0.5, -0.5, -0.5]], requires_grad=True)
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    ref = torch.tensor([[-1.0, -1.0, 0.0], [-0.5, -0.5, -0.5]])
    loss, stats = obj.agapo_exaone4_loss(logp, torch.tensor([2.0, nan]), mask, ref, beta=0.1)
    # Only row 0 counts: -2 * (-3) + 0.1 * (0 + (e - 1 - 1)).
    torch.testing.assert_close(loss, torch.tensor(6.0 + 0.1 * (math.e - 2)))
    torch.testing.assert_close(stats["kl_seq"], torch.tensor(math.e - 2))
    loss.backward()
    # d/dlogp: -A + beta * (1 - exp(ref - logp)) per token; padding and the NaN row get no gradient.
    close(logp.grad, [[-2.0, -2.0 + 0.1 * (1 - math.e), 0.0], [0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="ref_per_token_logps"):
        obj.agapo_exaone4_loss(logp, torch.tensor([1.0, 1.0]), mask, None, beta=0.1)


def test_kexaone_loss_truncated_importance_sampling_with_stop_gradient():
    logp = torch.log(torch.tensor([[0.5, 0.2]])).requires_grad_()
    rollout = torch.log(torch.tensor([[0.25, 0.4]]))  # rho = [2, 0.5]; cap 1.5 -> weights [1.5, 0.5]
    loss, stats = obj.agapo_kexaone_loss(logp, torch.tensor([1.0]), torch.ones(1, 2), rollout, eps=1.5)
    torch.testing.assert_close(loss, torch.tensor(-(1.5 * math.log(0.5) + 0.5 * math.log(0.2)) / 2))
    torch.testing.assert_close(stats["is_capped_fraction"], torch.tensor(0.5))
    loss.backward()
    close(logp.grad, [[-0.75, -0.25]])  # the weight is a constant: no gradient through rho


def test_kexaone_loss_masked_group_and_unscored_rollout_tokens():
    logp = torch.log(torch.tensor([[0.5, 0.5], [0.2, 0.2]])).requires_grad_()
    rollout = torch.tensor([[nan, math.log(0.5)], [math.log(0.1), math.log(0.1)]])
    loss, _ = obj.agapo_kexaone_loss(logp, torch.tensor([-1.0, nan]), torch.ones(2, 2), rollout, eps=4.0)
    torch.testing.assert_close(loss, torch.tensor(math.log(0.5)))  # row 1 masked; NaN rollout -> ratio 1
    loss.backward()
    close(logp.grad[1], [0.0, 0.0])


def test_registries_name_every_objective():
    assert obj.get_advantage_estimator("agapo") is obj.agapo_advantages
    assert obj.get_advantage_estimator("grouper") is obj.grouper_advantages
    assert set(obj.POLICY_LOSSES) == {"agapo_exaone4", "agapo_kexaone", "grouper"}
    with pytest.raises(ValueError, match="choose one of"):
        obj.get_policy_loss("ppo")
    with pytest.raises(ValueError, match="shape"):
        obj.agapo_advantages(torch.tensor([1.0, 0.0]))
