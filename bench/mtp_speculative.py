"""MTP self-speculative decoding: acceptance rate, tokens per main-model step and wall-time speedup vs greedy.

Trains a tiny K-EXAONE with its MTP block (auxiliary loss weight 0.05) for a bounded time on Korean legal text
(the bundled Constitution of Korea plus the bundled bills (pipelines/data/legal); public legal text, not protected
under Article 7 of the Korean Copyright Act), then decodes prompts taken from that text with plain greedy decoding
and with MTP drafting K = 1, 2, 3 tokens, in the same run. Every speculative output is checked to equal greedy.

    .venv/bin/python bench/mtp_speculative.py [--train-seconds 150] [--prompts 8] [--new-tokens 64]
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
CORPUS = [ROOT / "pipelines" / "data" / "legal" / "ko_constitution.txt"]
EXTRA = ROOT / "pipelines" / "data" / "legal" / "ko_bills"


def corpus_files() -> list[Path]:
    return CORPUS + (sorted(EXTRA.glob("*.txt")) if EXTRA.is_dir() else [])


def build_data(seq: int, vocab: int):
    from haetae.alignment.tokenizer import train_tokenizer

    files = corpus_files()
    tok = train_tokenizer(files, vocab, tempfile.mkdtemp(prefix="mtp-bench-tok-"))
    ids: list[int] = []
    for path in files:
        ids += tok(path.read_text(encoding="utf-8"), add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    data = torch.tensor(ids)
    return tok, data, files


def train(model, data: torch.Tensor, seq: int, batch: int, seconds: float, lr: float, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    start, step, log = time.perf_counter(), 0, []
    while time.perf_counter() - start < seconds:
        starts = torch.randint(0, len(data) - seq - 1, (batch,), generator=gen)
        x = torch.stack([data[s : s + seq] for s in starts.tolist()])
        out = model(input_ids=x, labels=x)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        step += 1
        if step % 50 == 1:
            log.append((step, out.main_loss.item(), out.mtp_loss.item()))
    log.append((step, out.main_loss.item(), out.mtp_loss.item()))
    return {"steps": step, "seconds": time.perf_counter() - start, "log": log}


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def draft_cost_ratio(model, prompt: torch.Tensor, calls: int = 40) -> float:
    """Time of one cached single-token MTP step over one cached single-token main-model step (best of 3)."""
    from transformers import DynamicCache

    def per_call(fn) -> float:
        return min(timed(lambda: [fn() for _ in range(calls)])[1] for _ in range(3)) / calls

    with torch.no_grad():
        cache, mtp_cache = DynamicCache(), DynamicCache()
        hidden = model.model(input_ids=prompt, cache=cache, use_cache=True).last_hidden_state
        model.mtp_forward(hidden, prompt, torch.arange(prompt.shape[1]).unsqueeze(0), cache=mtp_cache)
        token, pos = prompt[:, -1:], torch.tensor([[prompt.shape[1]]])

        def main_step():
            model.lm_head(model.model(input_ids=token, cache=cache, use_cache=True).last_hidden_state)
            cache.crop(-1)

        def mtp_step():
            model.mtp_forward(hidden[:, -1:], token, pos, cache=mtp_cache)
            mtp_cache.crop(-1)

        return per_call(mtp_step) / per_call(main_step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=150.0)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=16)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is steadiest on shared cores)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from transformers.utils import logging

    from haetae.alignment.configs import count_parameters, get_config
    from haetae.alignment.generate import greedy_generate, mtp_speculative_generate
    from haetae.alignment.mtp import ExaoneMoeWithMTP

    logging.set_verbosity_error()
    torch.manual_seed(args.seed)
    tok, data, files = build_data(args.seq, 2048)
    config = get_config("tiny", vocab_size=len(tok), pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                        eos_token_id=tok.eos_token_id)
    model = ExaoneMoeWithMTP(config)
    counts = count_parameters(config, include_mtp=True)
    print(f"machine: {platform.machine()} {platform.processor() or ''}, torch {torch.__version__}, "
          f"{args.threads} thread(s); shared with other jobs")
    print(f"corpus: {len(files)} files, {len(data)} tokens (vocab {len(tok)}); model tiny: "
          f"{counts.total / 1e6:.2f}M parameters incl. MTP block {counts.mtp / 1e6:.3f}M")
    stats = train(model, data, args.seq, args.batch, args.train_seconds, args.lr, args.seed)
    print(f"trained {stats['steps']} steps in {stats['seconds']:.0f}s (batch {args.batch} x {args.seq}); "
          "step, main loss, MTP loss: " + ", ".join(f"({s}, {a:.2f}, {b:.2f})" for s, a, b in stats["log"]))

    model.eval()
    rng = random.Random(args.seed)
    prompts = [data[o : o + args.prompt_tokens].unsqueeze(0)
               for o in (rng.randrange(0, len(data) - args.prompt_tokens) for _ in range(args.prompts))]
    # Warm-up so the first timed call does not pay one-off allocation costs.
    greedy_generate(model, prompts[0], 4)
    mtp_speculative_generate(model, prompts[0], 4, 2)

    # Interleave the decoders prompt by prompt and keep each one's fastest of --repeats runs: on shared cores
    # the minimum is the least disturbed measurement, and all decoders see the same machine state.
    decoders = {"greedy": lambda p: greedy_generate(model, p, args.new_tokens)}
    for k in (1, 2, 3):
        decoders[f"MTP K={k}"] = lambda p, k=k: mtp_speculative_generate(model, p, args.new_tokens, k)
    best = {name: [] for name in decoders}
    results = {name: [] for name in decoders}
    for p in prompts:
        for name, decode in decoders.items():
            times = []
            for _ in range(args.repeats):
                result, seconds = timed(decode, p)
                times.append(seconds)
            best[name].append(min(times))
            results[name].append(result)
    rows = []
    base_time = sum(best["greedy"])
    for name in decoders:
        res = results[name]
        for got, want in zip(res, results["greedy"], strict=True):
            if got.tokens != want.tokens:
                raise SystemExit(f"{name} output differs from greedy: {got.tokens} vs {want.tokens}")
        produced = sum(len(r.tokens) for r in res)
        drafted = sum(r.drafted for r in res)
        acceptance = sum(r.accepted for r in res) / drafted if drafted else 1.0
        tokens_per_step = produced / sum(r.main_steps for r in res)
        rows.append((name, acceptance, tokens_per_step, produced / sum(best[name]), base_time / sum(best[name])))
    distinct = sum(len(set(r.tokens)) for r in results["greedy"]) / sum(len(r.tokens) for r in results["greedy"])

    ratio = draft_cost_ratio(model, prompts[0])
    print(f"\n{args.prompts} prompts x {args.new_tokens} new tokens, prompts of {args.prompt_tokens} tokens from the "
          f"training text; every MTP output equals greedy; best of {args.repeats} interleaved runs; "
          f"distinct tokens per greedy output: {distinct:.0%}")
    print(f"{'decoder':<10}{'acceptance':>12}{'tokens/step':>13}{'tokens/s':>10}{'speedup':>9}")
    for name, acc, tps, rate, speedup in rows:
        acc_text = "-" if name == "greedy" else f"{acc:.1%}"
        print(f"{name:<10}{acc_text:>12}{tps:>13.2f}{rate:>10.1f}{speedup:>8.2f}x")
    # Cost model: a step runs K draft calls and one verify call, so speedup ~ tokens/step / (1 + K c), c the cost
    # of an MTP call relative to a main-model call. K-EXAONE's block is 1 dense layer against 48 MoE layers.
    print(f"\nmeasured draft cost c = MTP step / main-model step = {ratio:.2f} (tiny: 1 block vs 4 layers)")
    print("projected speedup tokens/step / (1 + K c):")
    for (name, _, tps, _, _), k in zip(rows[1:], (1, 2, 3), strict=True):
        print(f"  {name}: c={ratio:.2f} -> {tps / (1 + k * ratio):.2f}x (measured {rows[k][4]:.2f}x); "
              f"c=1/48 (236B, one block vs 48 layers) -> {tps / (1 + k / 48):.2f}x")


if __name__ == "__main__":
    main()
