"""Configuration of AGAPO (methods.md section 2) as a TRL ``GRPOConfig``: every GRPO field still applies.

Defaults that differ from GRPO are the ones AGAPO needs by construction: no router load-balancing loss
(K-EXAONE's sigmoid router balances with a correction bias, and TRL would otherwise add Mixtral's softmax loss to
it), and no TRL vLLM importance-sampling correction (``kexaone`` applies its own truncated ratio against the
rollout log-probs; ``exaone4`` is a plain policy gradient).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import GRPOConfig

from haetae.errors import UsageError

VARIANTS = ("exaone4", "kexaone")


@dataclass
class AGAPOConfig(GRPOConfig):
    variant: str = field(
        default="kexaone",
        metadata={
            "help": "'exaone4': on-policy, sequence log-prob, no ratio clipping, sequence KL to the reference "
            "(weight `beta`). 'kexaone': off-policy truncated importance sampling against the rollout policy "
            "(cap `is_cap`), token mean per sequence, zero-variance groups masked out, no KL, router frozen."
        },
    )
    is_cap: float = field(
        default=2.0,
        metadata={
            "help": "kexaone: stop-gradient cap eps on the importance ratio pi_theta / pi_rollout (the report "
            "does not publish its value)."
        },
    )
    all_wrong: str = field(
        default="batch_baseline",
        metadata={
            "help": "exaone4: advantage of a group whose every response is wrong. 'batch_baseline' compares it with "
            "the mean reward of the other groups (a negative signal); 'zero' keeps the formula (no signal)."
        },
    )
    wrong_reward: float = field(
        default=0.0,
        metadata={"help": "A reward at or below this value counts as a wrong answer (for `all_wrong`)."},
    )
    correct_reward: float = field(
        default=1.0,
        metadata={
            "help": "A reward at or above this value counts as correct (asymmetric sampling pre-filter)."
        },
    )
    freeze_router: bool | None = field(
        default=None,
        metadata={
            "help": "Freeze the MoE router weights during RL (the correction bias is a buffer and is never "
            "updated by the trainer). Default: True for kexaone, False for exaone4."
        },
    )
    router_aux_loss_coef: float | None = field(
        default=0.0,
        metadata={
            "help": "Must stay 0: ExaoneMoe's router has no load-balancing loss, and TRL's would be Mixtral's "
            "softmax loss applied to sigmoid scores."
        },
    )
    vllm_importance_sampling_correction: bool = field(
        default=False,
        metadata={"help": "Must stay False: AGAPO applies its own importance weighting (see `variant`)."},
    )

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise UsageError(f"AGAPOConfig.variant={self.variant!r}: choose one of {', '.join(VARIANTS)}")
        if self.all_wrong not in ("batch_baseline", "zero"):
            raise UsageError(f"AGAPOConfig.all_wrong={self.all_wrong!r}: choose 'batch_baseline' or 'zero'")
        if not self.is_cap > 0:
            raise UsageError(
                f"AGAPOConfig.is_cap={self.is_cap}: the importance-ratio cap must be > 0 (e.g. 2.0)"
            )
        if self.router_aux_loss_coef not in (None, 0.0):
            raise UsageError(
                f"AGAPOConfig.router_aux_loss_coef={self.router_aux_loss_coef}: set it to 0; the K-EXAONE router "
                "balances with its correction bias and has no auxiliary loss"
            )
        self.router_aux_loss_coef = 0.0
        if self.vllm_importance_sampling_correction:
            raise UsageError(
                "AGAPOConfig.vllm_importance_sampling_correction=True: set it to False; AGAPO weights by its own "
                "ratio (variant='kexaone') or trains on-policy (variant='exaone4')"
            )
        if self.multi_objective_aggregation != "sum_then_normalize":
            raise UsageError(
                "AGAPOConfig.multi_objective_aggregation: AGAPO sums the weighted rewards before its own "
                "advantage; set it to 'sum_then_normalize'"
            )
        unsupported = {
            "off_policy_mask_threshold": self.off_policy_mask_threshold is not None,
            "top_entropy_quantile": self.top_entropy_quantile < 1.0,
            "entropy_coef": self.entropy_coef != 0.0 or self.use_adaptive_entropy,
        }
        for name, is_set in unsupported.items():
            if is_set:
                raise UsageError(
                    f"AGAPOConfig.{name}: not part of the AGAPO objective; leave it at its default"
                )
        if self.sync_ref_model or self.cast_lm_head_to_fp32:
            raise UsageError(
                "AGAPOConfig: sync_ref_model and cast_lm_head_to_fp32 are not supported; the KL reference is the "
                "fixed SFT policy"
            )
        if self.variant == "kexaone" and self.beta != 0.0:
            raise UsageError(f"AGAPOConfig.beta={self.beta}: variant 'kexaone' has no KL penalty; set beta=0")
        super().__post_init__()
        if self.variant == "exaone4" and (
            self.num_iterations != 1 or self.steps_per_generation != self.gradient_accumulation_steps
        ):
            raise UsageError(
                "AGAPOConfig: variant 'exaone4' is on-policy; set num_iterations=1 and steps_per_generation equal "
                f"to gradient_accumulation_steps (got {self.num_iterations} and {self.steps_per_generation} vs "
                f"{self.gradient_accumulation_steps})"
            )
        if self.freeze_router is None:
            self.freeze_router = self.variant == "kexaone"
