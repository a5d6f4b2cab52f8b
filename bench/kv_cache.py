"""KV-cache bytes: hybrid (sliding layers keep W positions) vs all-global, computed and measured.

1. Computed for the ``k-exaone-236b-a23b`` config (48 layers LLLG, W=128, 8 kv heads x 128, bf16, batch 1) at 32K,
   128K and 256K from the config's layer types, checked against methods.md's ``(1 + r min(W, L) / L) / (r + 1)``.
2. Measured on the ``small`` config: bytes of storage held by the cache after a real prefill of L tokens and then one
   decoding step, with :class:`HybridKVCache`, with transformers' ``DynamicCache(config=...)`` (its sliding layers
   keep a view that pins the prefill until the next step) and with a plain ``DynamicCache()`` (every layer keeps
   everything: the all-global baseline).

    python bench/kv_cache.py [--lengths 1024 4096]
"""

from __future__ import annotations

import argparse

GIB = 2**30


def computed() -> None:
    from haetae.alignment.configs import get_config
    from haetae.alignment.kv_cache import kv_cache_bytes, relative_kv_cache

    cfg = get_config("k-exaone-236b-a23b")
    kinds = cfg.layer_types
    r = kinds.count("sliding_attention") // kinds.count("full_attention")
    print("## Computed: k-exaone-236b-a23b (bf16, batch 1)")
    print(f"layers {len(kinds)} ({kinds.count('full_attention')} global), window {cfg.sliding_window}, "
          f"kv heads {cfg.num_key_value_heads} x {cfg.head_dim}")  # fmt: skip
    print("| context | hybrid GiB | all-global GiB | hybrid / all-global | methods.md formula |")
    print("|---|---|---|---|---|")
    for context in (32_768, 131_072, 262_144):
        hybrid = kv_cache_bytes(cfg, context)
        full = kv_cache_bytes(cfg, context, all_global=True)
        formula = relative_kv_cache(r, cfg.sliding_window, context)
        print(f"| {context // 1024}K | {hybrid / GIB:.2f} | {full / GIB:.2f} | {hybrid / full:.2%} | {formula:.2%} |")


def measured(lengths: list[int], threads: int) -> None:
    import torch
    from transformers import DynamicCache, ExaoneMoeForCausalLM

    import haetae.alignment.attention  # noqa: F401
    from haetae.alignment.configs import get_config
    from haetae.alignment.kv_cache import HybridKVCache, cache_nbytes, kv_cache_bytes

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = get_config("small")
    model = ExaoneMoeForCausalLM(cfg).eval()
    model.set_attn_implementation("haetae_hybrid")
    print(f"\n## Measured: 'small' config after a prefill (fp32, batch 1, window {cfg.sliding_window})")
    print("| prefill L | after | HybridKVCache MiB | DynamicCache(config) MiB | DynamicCache() (all-global) MiB "
          "| hybrid / all-global | computed ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    mib = 2**20
    for length in lengths:
        ids = torch.randint(3, cfg.vocab_size, (1, length))
        caches = {"hybrid": HybridKVCache(cfg), "stock": DynamicCache(config=cfg), "full": DynamicCache()}
        for step, feed in (("prefill", ids), ("+1 step", ids[:, :1])):
            held = {}
            for name, cache in caches.items():
                with torch.no_grad():
                    model(feed, cache=cache, use_cache=True, logits_to_keep=1)
                held[name] = cache_nbytes(cache)
            seen = length + (step != "prefill")
            computed_ratio = kv_cache_bytes(cfg, seen) / kv_cache_bytes(cfg, seen, all_global=True)
            print(f"| {length} | {step} | {held['hybrid'] / mib:.2f} | {held['stock'] / mib:.2f} | "
                  f"{held['full'] / mib:.2f} | {held['hybrid'] / held['full']:.2%} | {computed_ratio:.2%} |",
                  flush=True)  # fmt: skip
    print("(a sliding layer holds W - 1 positions between steps; the step's own token makes W)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 8192])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    computed()
    measured(args.lengths, args.threads)


if __name__ == "__main__":
    main()
