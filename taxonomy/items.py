"""Prompt items built from the hand-written seeds: the held-out evaluation set and the training prompts.

No text is slot-filled here: every prompt is a seed (``taxonomy/data/kaut/seeds/<AREA>.yaml``) as its author
wrote it, alone or passed through one mutation of the attack library (:mod:`haetae.taxonomy.attacks`).

* **Split by seed.** ``split: eval`` seeds (and their translations, which inherit the split) feed only the
  evaluation set; ``split: train`` seeds feed only training. Whole **held-out areas** (a few per domain,
  :func:`default_holdout_areas`) go to evaluation with every seed they have and never reach training.
* **Evaluation.** Each eval seed yields one single-turn item: plain (``mutation: none``, shape ``single_turn``)
  or, for a share of each language's seeds (``adversarial_per_family`` per attack family, at most
  ``adversarial_rate``), mutated instead (shape ``adversarial``), so no seed's text is in the set twice. The
  mutation is assigned by a balanced rotation: the language's eval seeds in a seeded order, families in turn
  (persuasion, instruction, writing style, ...), kinds in turn inside a family, so every family and kind gets its
  share. Another share (``multi_turn_rate``) also yields a 3-8 turn escalation (shape ``multi_turn``).
* **Training.** Each train seed yields a plain item and, for ``train_mutated_rate`` of them, one mutated item
  from the same rotation (escalation included). Benign seeds yield benign items (answered in SFT).

Everything is deterministic per ``seed``. An item is a plain dict:

    id, area, domain, severity, language, mutation, family, seed_id, split, shape, kind ("redteam" | "benign"),
    frame, criterion (1-5, the seed's), messages (chat turns ending with the user turn)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from haetae.taxonomy.attacks import REGISTRY, MutationNotApplicable, apply, available
from haetae.taxonomy.model import GENERATION_LANGUAGES, Area, Taxonomy
from haetae.taxonomy.seeds import AreaSeeds, BenignSeed, Seed

ESCALATION = "multi_turn_escalation"
#: Family order of the rotation (a family a language lacks is skipped for it).
FAMILIES: tuple[str, ...] = ("persuasion", "instruction", "writing_style", "multilingual", "encoding", "structure",
                             "multi_turn", "korean_script", "korean_lexical")
#: The attack library's harm kinds; an agentic request escalates like a how-to one.
HARM_KIND = {"how_to": "how_to", "agentic": "how_to", "content": "content", "claim": "claim", "advice": "advice"}
SHAPES: tuple[str, ...] = ("single_turn", "multi_turn", "adversarial")


@dataclass(frozen=True)
class ItemConfig:
    languages: tuple[str, ...] = GENERATION_LANGUAGES
    seed: int = 0
    #: area ids held out whole for evaluation; ``None``: :func:`default_holdout_areas`
    holdout_areas: tuple[str, ...] | None = None
    #: mutated (adversarial) eval items per language: ``adversarial_per_family`` per attack family (Korean has two
    #: more families than the others, so more of its seeds are mutated), at most ``adversarial_rate`` of the seeds;
    #: ``adversarial_per_family=None``: exactly ``adversarial_rate`` of them
    adversarial_rate: float = 0.65
    adversarial_per_family: int | None = 32
    #: a mutated eval item stands in for its seed's plain item, so every eval seed's text is in the set once
    #: (SORRY-Bench pairs every base prompt with every mutation; that would repeat each seed many times)
    replace_plain: bool = True
    multi_turn_rate: float = 0.05  # escalation eval items per eval seed, per language
    train_mutated_rate: float = 0.5  # mutated training items per train seed

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("at least one language is required")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages repeat: {','.join(self.languages)}")
        unknown = sorted(set(self.languages) - set(GENERATION_LANGUAGES))
        if unknown:
            raise ValueError(f"unknown language(s) {', '.join(unknown)} (known: {', '.join(GENERATION_LANGUAGES)})")
        for name in ("adversarial_rate", "multi_turn_rate", "train_mutated_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")


def _hash(*parts: object) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def default_holdout_areas(taxonomy: Taxonomy, seeds: dict[str, AreaSeeds]) -> tuple[str, ...]:
    """One area per domain (two for a domain with 20 or more seeded areas), among the areas that have seeds, and
    only where the domain keeps at least one seeded area for training. Chosen by a hash of the area id, not the run
    seed, so the generalisation test is the same set of areas in every run."""
    chosen: list[str] = []
    for domain in taxonomy.domains:
        seeded = sorted((a.id for a in domain.areas if a.id in seeds and seeds[a.id].seeds), key=lambda i: _hash(i))
        k = 2 if len(seeded) >= 20 else 1
        if len(seeded) > k:
            chosen.extend(sorted(seeded[:k]))
    return tuple(chosen)


@dataclass
class ItemSet:
    eval: list[dict] = field(default_factory=list)
    train_redteam: list[dict] = field(default_factory=list)
    train_benign: list[dict] = field(default_factory=list)
    holdout_areas: tuple[str, ...] = ()
    areas_without_seeds: list[str] = field(default_factory=list)
    eval_seeds: list[str] = field(default_factory=list)
    train_seeds: list[str] = field(default_factory=list)
    benign_seeds: list[str] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)  # seeds not used, by reason
    not_applicable: Counter = field(default_factory=Counter)  # mutation -> times it could not change a prompt
    shortfall: Counter = field(default_factory=Counter)  # "<split>/<language>": mutated items no mutation could make


def _base(area: Area, seed: Seed | BenignSeed, split: str, kind: str) -> dict:
    return {"area": area.id, "domain": area.domain, "severity": area.severity, "language": seed.language,
            "seed_id": seed.id, "split": split, "kind": kind}


def _plain(area: Area, seed: Seed, split: str) -> dict:
    return {"id": f"{seed.id}.{split}.none", **_base(area, seed, split, "redteam"), "mutation": "none",
            "family": "none", "shape": "single_turn", "frame": seed.frame, "criterion": seed.criterion,
            "messages": [{"role": "user", "content": seed.text}]}


def _mutated(area: Area, seed: Seed, split: str, name: str, run_seed: int, parallel: dict[str, str]) -> dict:
    item_id = f"{seed.id}.{split}.{name}"
    m = apply(name, [{"role": "user", "content": seed.text}], seed.language, seed=run_seed, item_id=item_id,
              harm_kind=HARM_KIND[seed.frame], parallel=parallel)
    shape = "multi_turn" if name == ESCALATION else "adversarial"
    return {"id": item_id, **_base(area, seed, split, "redteam"), "mutation": m.mutation,
            "family": REGISTRY[name].family, "shape": shape, "frame": seed.frame, "criterion": seed.criterion,
            "messages": m.messages}


class Rotation:
    """Balanced, deterministic choice of mutations for one (split, language): families in turn, kinds in turn
    inside each family. ``next`` skips a kind that cannot change the prompt and counts it."""

    def __init__(self, language: str, names: Iterable[str], salt: str) -> None:
        by_family: dict[str, list[str]] = {}
        for name in sorted(names):
            by_family.setdefault(REGISTRY[name].family, []).append(name)
        self.families = [f for f in FAMILIES if f in by_family] + sorted(set(by_family) - set(FAMILIES))
        # each family's kinds start at a salted offset, so small runs do not always begin with the same kind
        self.kinds = {}
        for f in self.families:
            kinds = by_family[f]
            k = int(_hash(salt, language, f), 16) % len(kinds)
            self.kinds[f] = kinds[k:] + kinds[:k]
        self.family_turn = int(_hash(salt, language), 16) % len(self.families) if self.families else 0
        self.kind_turn: Counter = Counter()

    def candidates(self) -> list[str]:
        """Every kind, in the order the rotation would offer them from its current position."""
        order = []
        for step in range(len(self.families)):
            family = self.families[(self.family_turn + step) % len(self.families)]
            kinds = self.kinds[family]
            start = self.kind_turn[family]
            order.extend(kinds[(start + j) % len(kinds)] for j in range(len(kinds)))
        return order

    def advance(self, name: str) -> None:
        family = REGISTRY[name].family
        self.kind_turn[family] = self.kinds[family].index(name) + 1
        self.family_turn = (self.families.index(family) + 1) % len(self.families)


def _mutate_by_rotation(area: Area, seed: Seed, split: str, rotation: Rotation, cfg: ItemConfig,
                        parallel: dict[str, str], out: ItemSet) -> dict | None:
    for name in rotation.candidates():
        try:
            item = _mutated(area, seed, split, name, cfg.seed, parallel)
        except MutationNotApplicable:
            out.not_applicable[name] += 1
            continue
        rotation.advance(name)
        return item
    out.shortfall[f"{split}/{seed.language}"] += 1
    return None


def _chosen(ids: list[str], rate: float, salt: str) -> set[str]:
    """``round(rate * len(ids))`` of ``ids``, by a seeded order (the same ids for the same seed)."""
    order = sorted(ids, key=lambda i: _hash(salt, i))
    return set(order[:round(rate * len(ids))])


def _parallel(seed: Seed, group: list[Seed]) -> dict[str, str]:
    """The seed's text in the other languages: its source and the source's other translations."""
    return {s.language: s.text for s in group if s.id != seed.id and s.language != seed.language}


def build_items(taxonomy: Taxonomy, seeds: dict[str, AreaSeeds], cfg: ItemConfig) -> ItemSet:
    out = ItemSet()
    areas = {a.id: a for a in taxonomy.areas}
    unknown = sorted(set(cfg.holdout_areas or ()) - set(areas))
    if unknown:
        raise ValueError(f"held-out area(s) not in the taxonomy: {', '.join(unknown)}")
    holdout = tuple(cfg.holdout_areas) if cfg.holdout_areas is not None else default_holdout_areas(taxonomy, seeds)
    out.holdout_areas = holdout
    languages = set(cfg.languages)

    eval_seeds: dict[str, list[tuple[Area, Seed, list[Seed]]]] = {lang: [] for lang in cfg.languages}
    train_seeds: dict[str, list[tuple[Area, Seed, list[Seed]]]] = {lang: [] for lang in cfg.languages}
    for area in taxonomy.areas:
        s = seeds.get(area.id)
        if s is None or not s.seeds:
            out.areas_without_seeds.append(area.id)
            continue
        groups: dict[str, list[Seed]] = {}
        for seed in s.seeds:  # a source seed and its translations form one group
            groups.setdefault(seed.of or seed.id, []).append(seed)
        held_out = area.id in holdout
        for seed in s.seeds:
            if seed.language not in languages:
                out.excluded["language_not_requested"] += 1
                continue
            split = "eval" if held_out else seed.split
            target = eval_seeds if split == "eval" else train_seeds
            target[seed.language].append((area, seed, groups[seed.of or seed.id]))
        for benign in s.benign:
            if benign.language not in languages:
                out.excluded["language_not_requested"] += 1
            elif held_out:
                out.excluded["benign_of_held_out_area"] += 1
            else:
                out.train_benign.append({"id": f"{benign.id}.train", **_base(area, benign, "train", "benign"),
                                         "mutation": "none", "family": "none", "shape": "single_turn",
                                         "frame": "benign", "criterion": None,
                                         "messages": [{"role": "user", "content": benign.text}],
                                         "answer": benign.answer})
                out.benign_seeds.append(benign.id)

    for lang in cfg.languages:
        # evaluation: one plain item per seed, mutated and multi-turn items for seeded shares of the seeds
        pool = eval_seeds[lang]
        ids = [seed.id for _, seed, _ in pool]
        rotation = Rotation(lang, [n for n in available(lang) if n != ESCALATION], f"{cfg.seed}|eval")
        rate = cfg.adversarial_rate if cfg.adversarial_per_family is None else \
            min(cfg.adversarial_rate, cfg.adversarial_per_family * len(rotation.families) / max(1, len(ids)))
        adversarial = _chosen(ids, rate, f"{cfg.seed}|adversarial|{lang}")
        multi = _chosen(ids, cfg.multi_turn_rate, f"{cfg.seed}|multi_turn|{lang}")
        for area, seed, group in sorted(pool, key=lambda t: _hash(cfg.seed, "order", t[1].id)):
            out.eval_seeds.append(seed.id)
            item = None
            if seed.id in adversarial:
                item = _mutate_by_rotation(area, seed, "eval", rotation, cfg, _parallel(seed, group), out)
            if item is None or not cfg.replace_plain:
                out.eval.append(_plain(area, seed, "eval"))
            if item:
                out.eval.append(item)
            if seed.id in multi and ESCALATION in available(lang):
                out.eval.append(_mutated(area, seed, "eval", ESCALATION, cfg.seed, _parallel(seed, group)))
        # training: a plain item per seed, one mutated item (escalation included) for a seeded share
        pool = train_seeds[lang]
        mutated = _chosen([seed.id for _, seed, _ in pool], cfg.train_mutated_rate, f"{cfg.seed}|train|{lang}")
        rotation = Rotation(lang, available(lang), f"{cfg.seed}|train")
        for area, seed, group in sorted(pool, key=lambda t: _hash(cfg.seed, "order", t[1].id)):
            out.train_seeds.append(seed.id)
            out.train_redteam.append(_plain(area, seed, "train"))
            if seed.id in mutated:
                item = _mutate_by_rotation(area, seed, "train", rotation, cfg, _parallel(seed, group), out)
                if item:
                    out.train_redteam.append(item)
    key = lambda item: item["id"]  # noqa: E731  (stable output order, independent of dict iteration)
    out.eval.sort(key=key)
    out.train_redteam.sort(key=key)
    out.train_benign.sort(key=key)
    for name in ("eval_seeds", "train_seeds", "benign_seeds"):
        getattr(out, name).sort()
    return out


def prompt_text(item: dict) -> str:
    """Every turn of a prompt item: what the audit scans."""
    return "\n".join(m["content"] for m in item["messages"])


def request_text(item: dict) -> str:
    """The user turns of a prompt item: what near-duplicate removal and leakage checks compare (the assistant
    turns of a multi-turn prompt are the attack library's, shared by many items)."""
    return "\n".join(m["content"] for m in item["messages"] if m["role"] == "user")
