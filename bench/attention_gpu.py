"""GPU benchmark: TFLOP/s of the haetae Triton hybrid-attention kernel vs FlexAttention and SDPA, forward and backward.

Run on a CUDA machine (A100/H100):   python bench/attention_gpu.py
    --lengths 8192 32768 131072   sequence lengths (default 8K, 16K, 32K, 64K, 128K)
    --heads 64 --kv-heads 8 --head-dim 128 --window 128   (K-EXAONE 236B attention; bf16, batch 1)

FLOPs count only visible (causal / in-window) query-key pairs: forward 4 * Hq * D * pairs, backward 2.5x forward
(FlashAttention's convention), so a kernel that skips masked blocks is not credited for work it does not do, and one
that computes them is charged its real time. Baselines: FlexAttention (torch.compile, block mask for the same
pattern) and SDPA (``is_causal`` flash kernel for global layers; a dense boolean mask for sliding layers, skipped
above --sdpa-mask-limit because the mask alone is L^2 bytes). Results: print a markdown table; record it in
bench/RESULTS.md with the device name this script prints.

CPU smoke check of the script itself (Triton interpreter, tiny sizes; numbers meaningless):
    TRITON_INTERPRET=1 python bench/attention_gpu.py --device cpu --lengths 128 --heads 2 --kv-heads 1 \
        --head-dim 16 --window 32 --impls haetae
"""

from __future__ import annotations

import argparse
import time


def visible_pairs(length: int, window: int | None) -> int:
    if window is None or window >= length:
        return length * (length + 1) // 2
    return window * (window + 1) // 2 + (length - window) * window


def timer(fn, device: str, repeats: int) -> float:
    """Median seconds of ``fn()`` (CUDA events via triton.testing.do_bench on GPU)."""
    if device == "cuda":
        from triton.testing import do_bench

        return do_bench(fn, warmup=5, rep=max(repeats * 20, 50)) / 1e3
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def time_case(fn, q, k, v, device: str, repeats: int) -> tuple[float, float]:
    """(forward seconds, backward seconds) of one implementation on one input."""
    import torch

    out = fn(q, k, v)
    grad = torch.randn_like(out)
    fwd = timer(lambda: fn(q, k, v), device, repeats)
    bwd = timer(lambda: torch.autograd.grad(out, (q, k, v), grad, retain_graph=True), device, repeats)
    return fwd, bwd


def make_impls(args, window, length):
    import torch
    import torch.nn.functional as F

    from haetae.alignment.attention_triton import triton_attention

    impls = {}
    if "haetae" in args.impls:
        impls["haetae-triton"] = lambda q, k, v: triton_attention(q, k, v, window=window)
    if "flex" in args.impls:
        from torch.nn.attention.flex_attention import create_block_mask, flex_attention

        flex = torch.compile(flex_attention, dynamic=False)

        def mask_mod(b, h, q_idx, kv_idx):
            visible = kv_idx <= q_idx
            if window is not None:
                visible = visible & (kv_idx > q_idx - window)
            return visible

        block_mask = create_block_mask(mask_mod, None, None, length, length, device=args.device)
        impls["flex"] = lambda q, k, v: flex(q, k, v, block_mask=block_mask, enable_gqa=True)
    if "sdpa" in args.impls:
        if window is None:
            impls["sdpa"] = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        elif length <= args.sdpa_mask_limit:
            pos = torch.arange(length, device=args.device)
            dense = (pos[None] <= pos[:, None]) & (pos[None] > pos[:, None] - window)
            impls["sdpa"] = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=dense, enable_gqa=True)
    return impls


def run(args) -> None:
    import torch

    dtype = getattr(torch, args.dtype)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu (interpreter smoke check)"
    print(f"device: {device_name}; torch {torch.__version__}; {args.dtype}; batch 1; "
          f"{args.heads} q heads / {args.kv_heads} kv heads x {args.head_dim}")  # fmt: skip
    print("| layer | L | impl | fwd ms | fwd TFLOP/s | bwd ms | bwd TFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for kind, window in (("sliding", args.window), ("global", None)):
        for length in args.lengths:
            torch.manual_seed(0)
            q, k, v = (
                torch.randn(1, heads, length, args.head_dim, device=args.device, dtype=dtype, requires_grad=True)
                for heads in (args.heads, args.kv_heads, args.kv_heads)
            )
            flops = 4 * args.heads * args.head_dim * visible_pairs(length, window)
            for name, fn in make_impls(args, window, length).items():
                try:
                    fwd, bwd = time_case(fn, q, k, v, args.device, args.repeats)
                except Exception as exc:  # noqa: BLE001 - report and continue with the next case
                    print(f"| {kind} | {length} | {name} | failed: {type(exc).__name__}: {str(exc)[:80]} | | | |")
                    continue
                print(f"| {kind} | {length} | {name} | {fwd * 1e3:.2f} | {flops / fwd / 1e12:.1f} | "
                      f"{bwd * 1e3:.2f} | {2.5 * flops / bwd / 1e12:.1f} |", flush=True)  # fmt: skip
            if args.device == "cuda":
                torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--lengths", type=int, nargs="+", default=[8192, 16384, 32768, 65536, 131072])
    parser.add_argument("--heads", type=int, default=64)
    parser.add_argument("--kv-heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--impls", nargs="+", default=["haetae", "flex", "sdpa"])
    parser.add_argument("--sdpa-mask-limit", type=int, default=32768, help="largest L for SDPA with a dense mask")
    args = parser.parse_args()
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device: this benchmark needs a GPU (see --device cpu for a smoke check)")
    run(args)


if __name__ == "__main__":
    main()
