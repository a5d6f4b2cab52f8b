"""Per-GPU memory plan for full training, LoRA (frozen base) or serving an ExaoneMoe config under a TP/PP/EP/DP layout.

Accounting (all numbers per GPU, mixed precision with Adam, as in the ZeRO paper):

- parameters 2 B (bf16), gradients 2 B, optimizer 12 B (fp32 master copy, Adam m and v) per parameter;
- non-expert weights are split by TP x PP, routed-expert weights by EP x PP (experts are not tensor-sliced);
  the EP group is carved out of the TP x DP ranks, so each expert is replicated over ``tp*dp/ep`` ranks;
- ZeRO stage 1 shards the optimizer over the data-parallel replicas of a weight (DP for non-expert weights,
  ``tp*dp/ep`` for experts), stage 2 also the gradients, stage 3 also the parameters;
- activations (bf16, flash attention so no L x L scores, sequence parallelism so /TP) per layer and micro-batch:
  attention ``4sbh + 2sb(2q + 2kv)``, dense FFN ``4sbh + 6sbf``, MoE ``4sbh + 4sbE + 2sbk(h + 3f_e) +
  2sb(h + 3f_s)``; with 1F1B the first stage holds PP micro-batches of L/PP layers, i.e. L layers' worth;
  ``recompute="full"`` keeps only each layer's input (2sbh). fp32 logits ``4sbV/TP`` are added (conservative);
- KV cache (serving, bf16): ``2 * kv_heads/TP * head_dim * b`` per token and layer; sliding layers keep
  ``min(W, L)`` tokens, global layers L, over the L/PP layers of a stage.

Modes: ``train`` = parameters + gradients + optimizer + activations. ``lora`` = the frozen base's bf16 weights
(sharded by ZeRO-3 only; no gradients or optimizer) + the adapters' parameters, gradients and Adam states (16 B
each, sharded like the weights they adapt) + the same activations (backward still runs through every layer).
Adapters follow the recipes' default (:class:`~haetae.alignment.lora.ExaoneLoraConfig`): rank r on q/k/v/o of
every layer and on both fused expert weights, one pair per expert. ``serve`` = bf16 weights (replicated over DP,
no ZeRO) + the KV cache of ``micro_batch`` sequences of ``seq_len`` tokens.
When a layout does not fit, :func:`suggest` searches the layouts of the same GPUs for one that does; when none
can (the states alone exceed the GPUs' memory), it says how many GPUs would be needed and which other mode fits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from transformers import ExaoneMoeConfig

from haetae.alignment.configs import count_parameters

GIB = 1024**3
# Marketed memory of common accelerators, in GiB; used when a spec gives no "-<N>G" suffix and the name is unique.
KNOWN_GPU_MEMORY = {"A100": (40, 80), "H100": (80, 94), "H200": (141,), "H800": (80,), "A800": (80,), "L40S": (48,),
                    "B200": (180,), "MI300X": (192,)}
_GPU_SPEC = re.compile(r"^(?P<count>\d+)\s*[xX]\s*(?P<name>[A-Za-z][A-Za-z0-9]*)(?:-(?P<mem>\d+(?:\.\d+)?)\s*(?:G|GB|GiB))?$")

BYTES_PARAM, BYTES_GRAD, BYTES_OPTIM, BYTES_ACT = 2, 2, 12, 2
MODES = ("train", "lora", "serve")
GPUS_PER_NODE = 8


@dataclass(frozen=True)
class GPUSpec:
    count: int
    name: str
    memory_gib: float

    def __str__(self) -> str:
        return f"{self.count} x {self.name}-{self.memory_gib:g}G"


def parse_gpus(spec: str) -> GPUSpec:
    """Parse "32xA100-80G" (count x name - memory); raise ValueError with the expected form otherwise."""
    match = _GPU_SPEC.match(spec.strip())
    if not match:
        raise ValueError(f"bad GPU spec {spec!r}: expected COUNTxNAME-MEMORYG, e.g. 32xA100-80G or 8xH100-80G")
    count, name = int(match["count"]), match["name"].upper()
    if count < 1:
        raise ValueError(f"bad GPU spec {spec!r}: the GPU count must be at least 1")
    if match["mem"] is not None:
        memory = float(match["mem"])
    elif len(KNOWN_GPU_MEMORY.get(name, ())) == 1:
        memory = float(KNOWN_GPU_MEMORY[name][0])
    elif name in KNOWN_GPU_MEMORY:
        sizes = " or ".join(f"{count}x{name}-{m}G" for m in KNOWN_GPU_MEMORY[name])
        raise ValueError(f"bad GPU spec {spec!r}: {name} comes in several sizes, write {sizes}")
    else:
        raise ValueError(f"bad GPU spec {spec!r}: unknown GPU {name!r}; give its memory, e.g. {count}x{name}-80G "
                         f"(known without a size: {', '.join(k for k, v in KNOWN_GPU_MEMORY.items() if len(v) == 1)})")
    if memory <= 0:
        raise ValueError(f"bad GPU spec {spec!r}: memory must be positive")
    return GPUSpec(count, name, memory)


@dataclass(frozen=True)
class Layout:
    tp: int = 1
    pp: int = 1
    ep: int = 1
    dp: int = 1
    seq_len: int = 4096
    micro_batch: int = 1
    zero: int = 1
    recompute: str = "none"  # "none" | "full"
    mode: str = "train"  # "train" | "lora" | "serve"
    lora_rank: int = 8

    def flags(self) -> str:
        """The command-line options that select this layout."""
        extra = "" if self.mode == "serve" else f" --zero {self.zero} --recompute {self.recompute}"
        return f"--tp {self.tp} --pp {self.pp} --ep {self.ep}{extra}"


def make_layout(config: ExaoneMoeConfig, gpus: GPUSpec, tp: int = 1, pp: int = 1, ep: int = 1,
                dp: int | None = None, seq_len: int = 4096, micro_batch: int = 1, zero: int = 1,
                recompute: str = "none", mode: str = "train", lora_rank: int = 8) -> Layout:
    """Check a layout against the GPU count and the config; DP defaults to gpus / (TP x PP)."""
    for name, value in (("tp", tp), ("pp", pp), ("ep", ep), ("seq-len", seq_len), ("micro-batch", micro_batch)):
        if value < 1:
            raise ValueError(f"--{name} must be >= 1, got {value}")
    if dp is None:
        if gpus.count % (tp * pp):
            raise ValueError(f"{gpus.count} GPUs are not divisible by TP x PP = {tp * pp}")
        dp = gpus.count // (tp * pp)
    if tp * pp * dp != gpus.count:
        raise ValueError(f"TP x PP x DP = {tp} x {pp} x {dp} = {tp * pp * dp} does not match {gpus.count} GPUs")
    if config.num_attention_heads % tp:
        raise ValueError(f"TP={tp} does not divide the {config.num_attention_heads} attention heads")
    kv = config.num_key_value_heads
    if kv % tp and tp % kv:
        raise ValueError(f"TP={tp} and the {kv} KV heads must divide one another")
    if config.num_experts % ep:
        raise ValueError(f"EP={ep} does not divide the {config.num_experts} experts")
    if (tp * dp) % ep:
        raise ValueError(f"EP={ep} must divide TP x DP = {tp * dp} (expert groups are carved from those ranks)")
    if pp > config.num_hidden_layers:
        raise ValueError(f"PP={pp} exceeds the {config.num_hidden_layers} layers")
    if zero not in (0, 1, 2, 3):
        raise ValueError(f"--zero must be 0, 1, 2 or 3, got {zero}")
    if recompute not in ("none", "full"):
        raise ValueError(f"recompute must be 'none' or 'full', got {recompute!r}")
    if mode not in MODES:
        raise ValueError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if lora_rank < 1:
        raise ValueError(f"--lora-rank must be >= 1, got {lora_rank}")
    return Layout(tp, pp, ep, dp, seq_len, micro_batch, zero, recompute, mode, lora_rank)


@dataclass(frozen=True)
class MemoryPlan:
    """Bytes per GPU; ``gradients``/``optimizer`` are the base model's (0 in lora and serve modes)."""

    parameters: float
    gradients: float
    optimizer: float
    activations: float
    kv_cache: float
    kv_cache_all_global: float
    mode: str = "train"
    adapters: float = 0.0  # LoRA adapters: parameters + gradients + Adam states

    @property
    def training_total(self) -> float:
        return self.parameters + self.gradients + self.optimizer + self.activations

    @property
    def total(self) -> float:
        """What the mode needs per GPU."""
        if self.mode == "serve":
            return self.parameters + self.kv_cache
        return self.training_total + self.adapters


def layer_activation_bytes(config: ExaoneMoeConfig, layer: int, s: int, b: int) -> float:
    """Activation bytes one layer keeps for backward (bf16, flash attention), before TP sharding."""
    h, d = config.hidden_size, config.head_dim
    q, kv = config.num_attention_heads * d, config.num_key_value_heads * d
    attention = 4 * s * b * h + 2 * s * b * (2 * q + 2 * kv)
    if config.mlp_layer_types[layer] == "dense":
        ffn = 4 * s * b * h + 6 * s * b * config.intermediate_size
    else:
        fe, k, n_e = config.moe_intermediate_size, config.num_experts_per_tok, config.num_experts
        fs = fe * config.num_shared_experts
        ffn = 4 * s * b * h + 4 * s * b * n_e + 2 * s * b * k * (h + 3 * fe) + 2 * s * b * (h + 3 * fs)
    return float(attention + ffn)


def kv_cache_bytes(config: ExaoneMoeConfig, seq_len: int, batch: int = 1, tp: int = 1, pp: int = 1,
                   all_global: bool = False) -> float:
    """bf16 KV-cache bytes per GPU; sliding layers keep min(W, L) tokens (or L when ``all_global``)."""
    kv_heads = max(1, config.num_key_value_heads // tp)
    per_token = 2 * kv_heads * config.head_dim * BYTES_ACT * batch
    tokens = sum(
        min(config.sliding_window, seq_len) if t == "sliding_attention" and not all_global else seq_len
        for t in config.layer_types
    )
    return per_token * tokens / pp


def lora_parameters(config: ExaoneMoeConfig, rank: int) -> tuple[int, int]:
    """Adapter parameters (attention, experts) of the recipes' LoRA: rank r on q/k/v/o of every main layer
    (``r * (in + out)`` each) and on both fused expert weights of every MoE layer, one pair per expert."""
    h, d = config.hidden_size, config.head_dim
    q, kv = config.num_attention_heads * d, config.num_key_value_heads * d
    attention = config.num_hidden_layers * rank * ((h + q) + 2 * (h + kv) + (q + h))
    fe = config.moe_intermediate_size
    n_sparse = sum(t == "sparse" for t in config.mlp_layer_types)
    experts = n_sparse * config.num_experts * rank * ((h + 2 * fe) + (fe + h))
    return attention, experts


def plan_memory(config: ExaoneMoeConfig, layout: Layout) -> MemoryPlan:
    counts = count_parameters(config, include_mtp=getattr(config, "num_nextn_predict_layers", 0) > 0)
    tp, pp, ep, dp = layout.tp, layout.pp, layout.ep, layout.dp
    expert_replicas = tp * dp // ep
    zero = 0 if layout.mode == "serve" else layout.zero  # serving replicas hold whole copies

    def sharded(n_bytes: float, stage: int, dense_count: float | None = None, expert_count: float | None = None):
        dense_count = counts.total - counts.routed_experts if dense_count is None else dense_count
        expert_count = counts.routed_experts if expert_count is None else expert_count
        dense = dense_count / (tp * pp) * n_bytes / (dp if zero >= stage else 1)
        experts = expert_count / (ep * pp) * n_bytes / (expert_replicas if zero >= stage else 1)
        return dense + experts

    kv = kv_cache_bytes(config, layout.seq_len, layout.micro_batch, tp, pp)
    kv_global = kv_cache_bytes(config, layout.seq_len, layout.micro_batch, tp, pp, all_global=True)
    if layout.mode == "serve":
        return MemoryPlan(sharded(BYTES_PARAM, 3), 0.0, 0.0, 0.0, kv, kv_global, mode="serve")

    s, b = layout.seq_len, layout.micro_batch
    if layout.recompute == "full":
        per_model = config.num_hidden_layers * 2 * s * b * config.hidden_size
    else:
        per_model = sum(layer_activation_bytes(config, i, s, b) for i in range(config.num_hidden_layers))
    activations = (per_model + 4 * s * b * config.vocab_size) / tp
    if layout.mode == "lora":
        attention, experts = lora_parameters(config, layout.lora_rank)
        adapters = sum(sharded(n_bytes, stage, attention, experts)
                       for n_bytes, stage in ((BYTES_PARAM, 3), (BYTES_GRAD, 2), (BYTES_OPTIM, 1)))
        return MemoryPlan(sharded(BYTES_PARAM, 3), 0.0, 0.0, activations, kv, kv_global, "lora", adapters)
    return MemoryPlan(
        parameters=sharded(BYTES_PARAM, 3),
        gradients=sharded(BYTES_GRAD, 2),
        optimizer=sharded(BYTES_OPTIM, 1),
        activations=activations,
        kv_cache=kv,
        kv_cache_all_global=kv_global,
    )


MODE_NAMES = {"train": "training", "lora": "LoRA fine-tuning", "serve": "serving"}


def _rows(layout: Layout, plan: MemoryPlan) -> list[tuple[str, float]]:
    kv = [(f"KV cache, serving {layout.micro_batch} x {layout.seq_len} tokens", plan.kv_cache),
          ("KV cache if every layer were global", plan.kv_cache_all_global)]
    activations = (f"activations (recompute={layout.recompute})", plan.activations)
    if plan.mode == "serve":
        return [("parameters (bf16)", plan.parameters), *kv, ("serving total", plan.total)]
    if plan.mode == "lora":
        return [("base parameters (bf16, frozen)", plan.parameters),
                (f"LoRA adapters r={layout.lora_rank} (params + grads + Adam)", plan.adapters),
                activations, ("LoRA fine-tuning total", plan.total), *kv]
    return [("parameters (bf16)", plan.parameters), ("gradients (bf16)", plan.gradients),
            ("optimizer (fp32 master + Adam m, v)", plan.optimizer), activations,
            ("training total", plan.training_total), *kv]


def format_plan(name: str, config: ExaoneMoeConfig, gpus: GPUSpec, layout: Layout, plan: MemoryPlan) -> str:
    counts = count_parameters(config, include_mtp=getattr(config, "num_nextn_predict_layers", 0) > 0)
    ratio = plan.kv_cache / plan.kv_cache_all_global
    mtp = f" incl. {human_count(counts.mtp)} MTP block" if counts.mtp else ""
    zero = "" if plan.mode == "serve" else f" ZeRO-{layout.zero}"
    lines = [
        f"config {name}: {human_count(counts.total)} parameters{mtp} ({human_count(counts.active)} active), "
        f"{config.num_hidden_layers} layers, {config.num_experts} experts top-{config.num_experts_per_tok}",
        f"GPUs {gpus}; mode {plan.mode}; layout TP={layout.tp} PP={layout.pp} EP={layout.ep} DP={layout.dp}{zero}, "
        f"seq-len {layout.seq_len}, micro-batch {layout.micro_batch}",
        f"{'per GPU':<46}{'GiB':>10}",
    ]
    lines += [f"  {label:<44}{value / GIB:>10.2f}" for label, value in _rows(layout, plan)]
    lines.append(f"  KV cache vs all-global: {ratio:.1%}")
    verdict = "fits" if fits(plan, gpus) else "DOES NOT FIT"
    lines.append(f"{MODE_NAMES[plan.mode]}: {verdict} in {gpus.memory_gib:g} GiB per GPU "
                 f"({plan.total / GIB:.1f} GiB needed)")
    return "\n".join(lines)


def human_count(n: float) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e9 else f"{n / 1e6:.2f}M"


def fits(plan: MemoryPlan, gpus: GPUSpec) -> bool:
    return plan.total <= gpus.memory_gib * GIB


def kv_cache_fraction(r: int, window: int, context: int) -> float:
    """methods.md: KV cache of r local layers per global layer relative to all-global, (1 + r min(W, L)/L)/(r + 1)."""
    return (1 + r * min(window, context) / context) / (r + 1)


def _powers_of_two(limit: int) -> list[int]:
    return [2**i for i in range(limit.bit_length()) if 2**i <= limit]


def best_layout(config: ExaoneMoeConfig, gpus: GPUSpec, layout: Layout, mode: str) -> tuple[Layout, MemoryPlan] | None:
    """The layout of these GPUs (TP <= 8, powers of two; ZeRO-3 and full recomputation when training) that needs the
    least memory per GPU in ``mode`` and fits, keeping sequence length, micro-batch and LoRA rank; None if none fits."""
    best = None
    for tp in _powers_of_two(min(GPUS_PER_NODE, gpus.count)):
        for pp in _powers_of_two(min(gpus.count // tp, config.num_hidden_layers)):
            for ep in _powers_of_two(config.num_experts):
                try:
                    candidate = make_layout(config, gpus, tp=tp, pp=pp, ep=ep, seq_len=layout.seq_len,
                                            micro_batch=layout.micro_batch, zero=3, recompute="full", mode=mode,
                                            lora_rank=layout.lora_rank)
                except ValueError:
                    continue
                plan = plan_memory(config, candidate)
                if fits(plan, gpus) and (best is None or plan.total < best[1].total):
                    best = (candidate, plan)
    return best


def state_bytes(config: ExaoneMoeConfig, layout: Layout) -> float:
    """Bytes of model (and optimizer) state the whole job holds, however it is sharded: 16 B per parameter when
    training, 2 B per weight plus 16 B per adapter parameter for LoRA, 2 B per weight (one copy) for serving."""
    total = count_parameters(config, include_mtp=getattr(config, "num_nextn_predict_layers", 0) > 0).total
    if layout.mode == "train":
        return float((BYTES_PARAM + BYTES_GRAD + BYTES_OPTIM) * total)
    if layout.mode == "lora":
        return float(BYTES_PARAM * total + (BYTES_PARAM + BYTES_GRAD + BYTES_OPTIM) * sum(lora_parameters(
            config, layout.lora_rank)))
    return float(BYTES_PARAM * total)


def suggest(plan: MemoryPlan, gpus: GPUSpec, layout: Layout, config: ExaoneMoeConfig | None = None) -> str:
    """A one-line hint for a layout that does not fit: a layout of the same GPUs that fits, or, when none can,
    how many GPUs the mode needs and which other mode fits on these GPUs. Without ``config`` only generic hints."""
    need = math.ceil(plan.total / GIB)
    head = f"{MODE_NAMES[plan.mode]} needs {need} GiB per GPU, {gpus.name} has {gpus.memory_gib:g} GiB"
    if config is None:
        hints = []
        if layout.zero < 3 and plan.mode != "serve":
            hints.append("a higher --zero stage")
        if layout.recompute == "none" and plan.mode != "serve":
            hints.append("activation recomputation")
        hints.append("more --ep/--pp or more GPUs")
        return f"{head}: try {', '.join(hints)}"
    found = best_layout(config, gpus, layout, plan.mode)
    if found is not None:
        better, better_plan = found
        return f"{head}: try {better.flags()} ({better_plan.total / GIB:.1f} GiB per GPU)"
    states = state_bytes(config, layout)
    min_gpus = math.ceil(states / (gpus.memory_gib * GIB))
    nodes = math.ceil(min_gpus / GPUS_PER_NODE)
    message = (f"{head}, and no TP/PP/EP/ZeRO layout of {gpus.count} GPUs fits: the {MODE_NAMES[plan.mode]} state "
               f"alone is {states / GIB:,.0f} GiB, so it needs more than {min_gpus} such GPUs "
               f"(> {nodes} nodes of {GPUS_PER_NODE}) for it and the activations")
    others = []
    for mode in MODES:
        if mode != plan.mode and (other := best_layout(config, gpus, layout, mode)) is not None:
            others.append(f"--mode {mode} {other[0].flags()} fits ({other[1].total / GIB:.1f} GiB per GPU)")
    return message + (f"; on these GPUs {'; '.join(others)}" if others else "")
