"""CPU benchmark: haetae_hybrid vs transformers' sdpa and eager on a sliding-window layer and on a whole model.

Every measurement runs in a fresh subprocess (one thread by default, see --threads) so its peak resident memory
(``ru_maxrss`` minus the RSS once inputs exist) is its own. Time includes building the attention mask the way the
model does (transformers' mask function for that implementation: an L x L tensor for sdpa/eager, none for
haetae_hybrid). Ratios are against sdpa measured in the same run.

    python bench/attention_cpu.py            # layer 4K-32K, tiny model 4K-32K (about 10 minutes on a shared 2-core machine)
    python bench/attention_cpu.py --quick    # 2K-4K, for a smoke check
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

# Baselines that would take minutes or tens of GiB are skipped (the caps are printed).
LAYER_CAPS = {"eager": 4096, "sdpa": 16384, "haetae_hybrid": 1 << 30}
MODEL_CAPS = {"eager": 4096, "sdpa": 16384, "haetae_hybrid": 1 << 30}


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def layer_case(impl: str, length: int, backward: bool, heads: int, kv_heads: int, dim: int, window: int):
    """One sliding-window attention call through transformers' interface (mask built as the model would)."""
    import torch
    from transformers import ExaoneMoeConfig
    from transformers.masking_utils import create_sliding_window_causal_mask
    from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS
    from transformers.models.exaone_moe.modeling_exaone_moe import eager_attention_forward

    import haetae.alignment.attention  # noqa: F401

    torch.manual_seed(0)
    config = ExaoneMoeConfig(
        hidden_size=heads * dim, num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=dim,
        sliding_window=window, num_hidden_layers=4, vocab_size=8, num_experts=2, n_group=1, topk_group=1,
    )  # fmt: skip
    config._attn_implementation = impl
    module = torch.nn.Module()
    module.num_key_value_groups, module.is_causal = heads // kv_heads, True
    module.train(backward)
    q = torch.randn(1, heads, length, dim, requires_grad=backward)
    k = torch.randn(1, kv_heads, length, dim, requires_grad=backward)
    v = torch.randn(1, kv_heads, length, dim, requires_grad=backward)
    embeds = torch.empty(1, length, 1)
    position_ids = torch.arange(length)[None]

    def run():
        mask = create_sliding_window_causal_mask(
            config=config, inputs_embeds=embeds, attention_mask=None, cache=None, position_ids=position_ids
        )
        attention = eager_attention_forward if impl == "eager" else ALL_ATTENTION_FUNCTIONS[impl]
        out, _ = attention(module, q, k, v, mask, scaling=dim**-0.5, sliding_window=window)
        if backward:
            out.sum().backward()

    return run


def model_case(impl: str, length: int, backward: bool, config_name: str):
    import torch
    from transformers import ExaoneMoeForCausalLM

    import haetae.alignment.attention  # noqa: F401
    from haetae.alignment.configs import get_config

    torch.manual_seed(0)
    model = ExaoneMoeForCausalLM(get_config(config_name))
    model.set_attn_implementation(impl)
    model.train(backward)
    ids = torch.randint(3, model.config.vocab_size, (1, length))

    def run():
        if backward:
            model(ids, labels=ids, logits_to_keep=0).loss.backward()
        else:
            with torch.no_grad():
                model(ids, logits_to_keep=1)

    return run


def worker(spec: dict) -> dict:
    import torch

    torch.set_num_threads(spec["threads"])
    if spec["kind"] == "layer":
        run = layer_case(spec["impl"], spec["length"], spec["backward"], **spec["layer"])
    else:
        run = model_case(spec["impl"], spec["length"], spec["backward"], spec["config"])
    base = rss_bytes()
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": min(times), "peak_mib": max(0, peak - base) / 2**20}


def measure(spec: dict, timeout: float) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        print(f"  ! {spec['impl']} L={spec['length']} failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(title: str, lengths, caps, make_spec, timeout: float) -> None:
    print(f"\n## {title}")
    print("| L | pass | impl | time s | peak MiB | speed-up vs sdpa | memory vs sdpa |")
    print("|---|---|---|---|---|---|---|")
    for length in lengths:
        for backward in (False, True):
            results = {}
            for impl in ("haetae_hybrid", "sdpa", "eager"):
                if length > caps[impl]:
                    continue
                results[impl] = measure(make_spec(impl, length, backward), timeout)
            base = results.get("sdpa")
            for impl, res in results.items():
                mode = "fwd+bwd" if backward else "fwd"
                if res is None:
                    print(f"| {length} | {mode} | {impl} | timeout/failed | | | |")
                    continue
                ratio = mem = ""
                if base and impl != "sdpa":
                    ratio = f"{base['seconds'] / res['seconds']:.1f}x"
                    mem = f"{res['peak_mib'] / max(base['peak_mib'], 1e-9):.2f}x"
                print(
                    f"| {length} | {mode} | {impl} | {res['seconds']:.3f} | {res['peak_mib']:.0f} | {ratio} | {mem} |",
                    flush=True,
                )
    skipped = {impl: cap for impl, cap in caps.items() if cap < max(lengths)}
    if skipped:
        print(f"(skipped above these lengths, too slow or too large for this machine: {skipped})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per measurement (default 1)")
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--kv-heads", type=int, default=1)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--model-config", default="tiny")
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per measurement")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    layer = {"heads": args.heads, "kv_heads": args.kv_heads, "dim": args.head_dim, "window": args.window}
    layer_lengths = [2048, 4096] if args.quick else [4096, 16384, 32768]
    model_lengths = [2048, 4096] if args.quick else [4096, 16384]
    print(f"threads per run: {args.threads}; cpu count: {os.cpu_count()}; load average: {os.getloadavg()}")

    def layer_spec(impl, length, backward):
        return {"kind": "layer", "impl": impl, "length": length, "backward": backward, "layer": layer,
                "threads": args.threads, "repeats": 2 if length <= 4096 else 1}  # fmt: skip

    def model_spec(impl, length, backward):
        return {"kind": "model", "impl": impl, "length": length, "backward": backward, "config": args.model_config,
                "threads": args.threads, "repeats": 2 if length <= 4096 else 1}  # fmt: skip

    table(
        f"Sliding-window attention layer: 1 x {args.heads} q heads / {args.kv_heads} kv heads x {args.head_dim}, "
        f"W={args.window}",
        layer_lengths, LAYER_CAPS, layer_spec, args.timeout,
    )  # fmt: skip
    if not args.skip_model:
        table(
            f"Model '{args.model_config}' (LLLG), batch 1", model_lengths, MODEL_CAPS, model_spec, args.timeout
        )


if __name__ == "__main__":
    main()
