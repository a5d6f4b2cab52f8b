"""Alignment commands: ``model init``, ``model plan``, ``tokenizer train``, ``generate``, ``train`` (train_cli)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The names of haetae.alignment.configs.NAMED_CONFIGS, listed here so `haetae --help` need not import
# transformers (a test keeps the two equal).
CONFIG_NAMES = ("tiny", "small", "k-exaone-236b-a23b")

# Refuse to build weights on CPU beyond this many parameters (fp32 would need > 16 GiB).
MAX_CPU_INIT_PARAMS = 4_000_000_000


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _quiet_transformers() -> None:
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def _model_init(args: argparse.Namespace, extra: list[str]) -> int:
    import torch

    from haetae.alignment.configs import count_parameters, get_config

    _quiet_transformers()
    tokenizer = None
    overrides = {}
    if args.tokenizer:
        from transformers import AutoTokenizer

        try:
            tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
        except (OSError, ValueError) as exc:
            return _fail(f"cannot load tokenizer from {args.tokenizer}: {exc}")
        overrides = {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id,
                     "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id}
    try:
        config = get_config(args.config, **overrides)
    except ValueError as exc:
        return _fail(str(exc))
    if args.no_mtp:
        config.num_nextn_predict_layers = 0
    out = Path(args.out)
    counts = count_parameters(config, include_mtp=not args.no_mtp)
    if args.config_only:
        config.save_pretrained(out)
        if tokenizer is not None:
            tokenizer.save_pretrained(out)
        print(f"wrote {out / 'config.json'} ({counts.total / 1e9:.2f}B parameters, no weights)")
        return 0
    if counts.total > MAX_CPU_INIT_PARAMS:
        return _fail(
            f"{args.config} has {counts.total / 1e9:.1f}B parameters ({counts.total * 4 / 1e9:.0f} GB in fp32): too large "
            "to initialise on this machine. Use --config-only to write config.json, then shard-initialise on a "
            "GPU cluster (or load the real K-EXAONE checkpoint)."
        )
    torch.manual_seed(args.seed)
    if args.no_mtp:
        from transformers import ExaoneMoeForCausalLM as model_class
    else:
        from haetae.alignment.mtp import ExaoneMoeWithMTP as model_class
    model = model_class(config)
    model.save_pretrained(out)
    if tokenizer is not None:
        tokenizer.save_pretrained(out)
    mtp = "" if args.no_mtp else f", MTP block {counts.mtp / 1e6:.2f}M"
    print(f"wrote {args.config} checkpoint to {out}: {counts.total / 1e6:.2f}M parameters{mtp}, seed {args.seed}")
    return 0


def _model_plan(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.alignment.configs import get_config
    from haetae.alignment.plan import fits, format_plan, make_layout, parse_gpus, plan_memory, suggest

    try:
        config = get_config(args.config)
        gpus = parse_gpus(args.gpus)
        layout = make_layout(config, gpus, tp=args.tp, pp=args.pp, ep=args.ep, dp=args.dp, seq_len=args.seq_len,
                             micro_batch=args.micro_batch, zero=args.zero, recompute=args.recompute, mode=args.mode,
                             lora_rank=args.lora_rank)
    except ValueError as exc:
        return _fail(str(exc))
    plan = plan_memory(config, layout)
    print(format_plan(args.config, config, gpus, layout, plan))
    if not fits(plan, gpus):
        print(f"warning: {suggest(plan, gpus, layout, config)}", file=sys.stderr)
    return 0


def _tokenizer_train(args: argparse.Namespace, extra: list[str]) -> int:
    from haetae.alignment.tokenizer import train_tokenizer

    _quiet_transformers()
    try:
        tok = train_tokenizer(args.corpus, args.vocab_size, args.out, min_frequency=args.min_frequency)
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    print(f"wrote tokenizer ({len(tok)} tokens) to {args.out}")
    return 0


def _generate(args: argparse.Namespace, extra: list[str]) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from haetae.alignment.attention import NAME as HYBRID_ATTENTION
    from haetae.alignment.generate import greedy_generate, mtp_speculative_generate
    from haetae.alignment.mtp import ExaoneMoeWithMTP, has_mtp_weights

    _quiet_transformers()
    model_dir = Path(args.model)
    if not (model_dir / "config.json").is_file():
        return _fail(f"{model_dir} is not a model directory (no config.json)")
    if args.max_new_tokens < 1:
        return _fail("--max-new-tokens must be >= 1")
    try:
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer or model_dir)
    except (OSError, ValueError):
        return _fail(f"no tokenizer in {args.tokenizer or model_dir}; pass --tokenizer DIR")
    if args.draft_tokens < 1:
        return _fail("--draft-tokens must be >= 1")
    with_mtp = has_mtp_weights(model_dir)
    if args.speculative == "mtp" and not with_mtp:
        return _fail(f"{model_dir} has no mtp.* weights: MTP speculative decoding needs a checkpoint with an MTP block")
    try:
        model_class = ExaoneMoeWithMTP if with_mtp else AutoModelForCausalLM
        model = model_class.from_pretrained(model_dir, attn_implementation=HYBRID_ATTENTION).eval()
    except (OSError, ValueError) as exc:
        return _fail(f"cannot load model from {model_dir}: {exc}")
    if args.chat:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": args.prompt}], add_generation_prompt=True,
                                            return_dict=False)
    else:
        ids = tokenizer(args.prompt, add_special_tokens=False)["input_ids"]
    if not ids:
        return _fail("the prompt is empty after tokenisation")
    input_ids = torch.tensor([ids])
    eos = None if args.ignore_eos else tokenizer.eos_token_id
    if args.speculative == "mtp":
        result = mtp_speculative_generate(model, input_ids, args.max_new_tokens, args.draft_tokens, eos)
    else:
        result = greedy_generate(model, input_ids, args.max_new_tokens, eos)
    print(tokenizer.decode(result.tokens, skip_special_tokens=False))
    held = {kind: max((n for n, k in zip(result.kv_positions, model.config.layer_types) if k == kind), default=0)
            for kind in ("sliding_attention", "full_attention")}
    stats = (f"{len(result.tokens)} tokens, {result.main_steps} main-model steps, {result.tokens_per_step:.2f} "
             f"tokens/step; attention {model.config._attn_implementation}; KV cache held at most "
             f"{held['sliding_attention']} positions per sliding layer, {held['full_attention']} per global layer")
    if args.speculative == "mtp":
        stats += f", acceptance {result.acceptance_rate:.1%} ({result.accepted}/{result.drafted} drafts)"
    print(stats, file=sys.stderr)
    return 0


def register(subparsers) -> None:
    from haetae.alignment import train_cli

    train_cli.register(subparsers)
    model = subparsers.add_parser("model", help="K-EXAONE model configs: init a checkpoint, plan GPU memory")
    model_sub = model.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    names = ", ".join(CONFIG_NAMES)
    init = model_sub.add_parser("init", help="save a randomly initialised checkpoint of a named config")
    init.add_argument("--config", required=True, help=f"named config: {names}")
    init.add_argument("--out", required=True, help="output directory")
    init.add_argument("--seed", type=int, default=0)
    init.add_argument("--tokenizer", help="tokenizer directory: sets vocab size and special ids, copied to --out")
    init.add_argument("--no-mtp", action="store_true", help="plain ExaoneMoeForCausalLM without the MTP block")
    init.add_argument("--config-only", action="store_true", help="write config.json only (e.g. for the 236B)")
    init.set_defaults(func=_model_init)

    plan = model_sub.add_parser("plan", help="per-GPU memory for training, LoRA or serving")
    plan.add_argument("--config", required=True, help=f"named config: {names}")
    plan.add_argument("--gpus", required=True, help="COUNTxNAME-MEMORYG, e.g. 32xA100-80G")
    plan.add_argument("--tp", type=int, default=1, help="tensor parallel size")
    plan.add_argument("--pp", type=int, default=1, help="pipeline parallel size")
    plan.add_argument("--ep", type=int, default=1, help="expert parallel size (carved from TP x DP)")
    plan.add_argument("--dp", type=int, default=None, help="data parallel size (default: gpus / (tp * pp))")
    plan.add_argument("--seq-len", type=int, default=4096)
    plan.add_argument("--micro-batch", type=int, default=1)
    plan.add_argument("--zero", type=int, default=1, choices=(0, 1, 2, 3))
    plan.add_argument("--recompute", default="none", choices=("none", "full"))
    plan.add_argument("--mode", default="train", choices=("train", "lora", "serve"),
                      help="train: full fine-tuning; lora: frozen base + LoRA adapters; serve: weights + KV cache "
                           "for --micro-batch sequences of --seq-len tokens")
    plan.add_argument("--lora-rank", type=int, default=8, help="LoRA rank (attention and expert adapters)")
    plan.set_defaults(func=_model_plan)

    tok = subparsers.add_parser("tokenizer", help="train the Korean-aware byte-level BPE tokenizer")
    tok_sub = tok.add_subparsers(dest="tokenizer_command", required=True, metavar="ACTION")
    train = tok_sub.add_parser("train", help="train on UTF-8 text files, save for AutoTokenizer")
    train.add_argument("corpus", nargs="+", help="UTF-8 text files")
    train.add_argument("--vocab-size", type=int, required=True)
    train.add_argument("--out", required=True)
    train.add_argument("--min-frequency", type=int, default=2)
    train.set_defaults(func=_tokenizer_train)

    gen = subparsers.add_parser("generate", help="greedy decoding, optionally MTP self-speculative")
    gen.add_argument("--model", required=True, help="checkpoint directory (with mtp.* weights for --speculative)")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--max-new-tokens", type=int, default=64)
    gen.add_argument("--speculative", choices=("mtp",), default=None)
    gen.add_argument("--draft-tokens", type=int, default=2, help="MTP draft length K")
    gen.add_argument("--tokenizer", help="tokenizer directory (default: the model directory)")
    gen.add_argument("--chat", action="store_true", help="wrap the prompt in the EXAONE chat template")
    gen.add_argument("--ignore-eos", action="store_true", help="always generate --max-new-tokens tokens")
    gen.set_defaults(func=_generate)
