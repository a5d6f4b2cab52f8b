"""Build prompt items from a taxonomy: red-team and benign prompts for training, the held-out evaluation split.

Pure and deterministic: every random choice comes from a ``random.Random`` seeded by (seed, area, language,
purpose), so an item does not change when other areas or languages are added. An item is a plain dict:

    id, area, domain, severity, language, style, split, kind ("redteam" | "benign"), template, messages
    (the prompt turns, chat format), and for eval items ``eval_shape`` (single_turn | multi_turn | adversarial).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from haetae.taxonomy.model import GENERATION_LANGUAGES, Area, Taxonomy
from haetae.taxonomy.templates import STYLES, PromptTemplate, encode_payload, fill, load_templates

ADVERSARIAL_STYLES: tuple[str, ...] = ("role_play", "fiction", "authority", "obfuscation", "injection")
EVAL_SHAPES: tuple[str, ...] = ("single_turn", "multi_turn", "adversarial")


@dataclass(frozen=True)
class ItemConfig:
    languages: tuple[str, ...] = GENERATION_LANGUAGES
    per_area: int = 10  # red-team training prompts per area and language
    benign_per_area: int | None = None  # benign training prompts per area and language (default per_area // 2)
    eval_per_area: int = 10  # KGC-SAFETY: 10 items per area, languages rotated
    benign_eval_per_area: int = 1  # over-refusal prompts per area and language
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("at least one language is required")
        if len(set(self.languages)) != len(self.languages):
            raise ValueError(f"languages repeat: {','.join(self.languages)}")
        for name in ("per_area", "eval_per_area", "benign_eval_per_area"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.benign_per_area is not None and self.benign_per_area < 0:
            raise ValueError(f"benign_per_area must be >= 0, got {self.benign_per_area}")

    @property
    def benign_count(self) -> int:
        return self.benign_per_area if self.benign_per_area is not None else max(1, self.per_area // 2)


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("|".join(str(p) for p in (seed, *parts)))


def _values(area: Area, lang: str, rng: random.Random, benign_index: int | None = None) -> dict[str, str]:
    t = load_templates(lang)
    lookalikes = area.benign_lookalikes
    benign = lookalikes[benign_index if benign_index is not None else rng.randrange(len(lookalikes))][lang]
    return {
        "topic": area.topic[lang],
        "benign": benign,
        "persona": rng.choice(t.slots["persona"]),
        "genre": rng.choice(t.slots["genre"]),
        "bridge": rng.choice(t.responses["bridge"]),
    }


def render_prompt(template: PromptTemplate, values: dict[str, str], lang: str) -> list[dict[str, str]]:
    """Chat turns of one prompt template (user, assistant, user, ... for multi-turn).

    An obfuscation template encodes a plain request: the language's ``payload`` for training templates, the
    first held-out direct template for eval ones (so train and eval never share an encoded string).
    """
    values = dict(values)
    if template.encoding:
        t = load_templates(lang)
        source = t.redteam["direct"]["eval"][0].turns[0] if "/eval/" in template.key else t.payload
        payload = fill(source, values, lang)
        values["payload"] = encode_payload(payload, template.encoding)
    turns = [fill(t, values, lang) for t in template.turns]
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": text} for i, text in enumerate(turns)]


def _item(area: Area, lang: str, style: str, split: str, kind: str, item_id: str, template: PromptTemplate,
          values: dict[str, str]) -> dict:
    """A prompt item; ``_values`` (slot values, not written out) lets responses name the same look-alike."""
    return {
        "id": item_id, "area": area.id, "domain": area.domain, "severity": area.severity, "language": lang,
        "style": style, "split": split, "kind": kind, "template": template.key,
        "messages": render_prompt(template, values, lang), "_values": values,
    }


def redteam_items(area: Area, lang: str, cfg: ItemConfig) -> list[dict]:
    """``per_area`` training prompts; styles rotate from a random start so small N still spreads over styles."""
    rng = _rng(cfg.seed, area.id, lang, "redteam")
    templates = load_templates(lang).redteam
    start = rng.randrange(len(STYLES))
    style_offsets = {s: rng.randrange(len(templates[s]["train"])) for s in STYLES}
    used: dict[str, int] = {}
    items = []
    for i in range(cfg.per_area):
        style = STYLES[(start + i) % len(STYLES)]
        pool = templates[style]["train"]
        k = used.get(style, 0)
        used[style] = k + 1
        template = pool[(style_offsets[style] + k) % len(pool)]
        items.append(_item(area, lang, style, "train", "redteam", f"{area.id}.{lang}.rt{i:03d}", template,
                           _values(area, lang, rng)))
    return items


def benign_items(area: Area, lang: str, count: int, split: str, cfg: ItemConfig) -> list[dict]:
    """Benign look-alike prompts (should be answered): training ones and held-out over-refusal ones."""
    rng = _rng(cfg.seed, area.id, lang, "benign", split)
    pool = load_templates(lang).benign[split]
    offset = rng.randrange(len(pool))
    n_look = len(area.benign_lookalikes)
    look_offset = rng.randrange(n_look)
    tag = "bn" if split == "train" else "bneval"
    items = []
    for i in range(count):  # every (look-alike, template) pair once before any repeats
        template = pool[(offset + i // n_look) % len(pool)]
        values = _values(area, lang, rng, benign_index=(look_offset + i) % n_look)
        items.append(_item(area, lang, "benign", split, "benign", f"{area.id}.{lang}.{tag}{i:03d}", template, values))
    return items


def eval_shape_counts(n: int) -> dict[str, int]:
    """KGC-SAFETY shape mix: 40 % single-turn, 30 % multi-turn, 30 % adversarial (4/3/3 for 10 items)."""
    single = round(n * 0.4)
    multi = round(n * 0.3)
    return {"single_turn": single, "multi_turn": multi, "adversarial": n - single - multi}


def eval_items(area: Area, area_index: int, cfg: ItemConfig) -> list[dict]:
    """``eval_per_area`` held-out items per area (languages rotated across areas), from eval-only templates."""
    rng = _rng(cfg.seed, area.id, "eval")
    langs = cfg.languages
    n = cfg.eval_per_area
    shapes = [s for s, c in eval_shape_counts(n).items() for _ in range(c)]
    adversarial = rng.sample(ADVERSARIAL_STYLES, k=len(ADVERSARIAL_STYLES))
    items = []
    adv_seen = 0
    for j, shape in enumerate(shapes):
        lang = langs[(area_index * n + j) % len(langs)]
        if shape == "single_turn":
            style = "direct"
        elif shape == "multi_turn":
            style = "multi_turn"
        else:
            style = adversarial[adv_seen % len(adversarial)]
            adv_seen += 1
        pool = load_templates(lang).redteam[style]["eval"]
        template = pool[(j // len(langs) + area_index) % len(pool)]
        item = _item(area, lang, style, "eval", "redteam", f"{area.id}.eval{j:02d}", template, _values(area, lang, rng))
        item["eval_shape"] = shape
        items.append(item)
    return items


@dataclass
class ItemSet:
    redteam_train: list[dict]
    benign_train: list[dict]
    eval: list[dict]
    benign_eval: list[dict]


def build_items(taxonomy: Taxonomy, cfg: ItemConfig) -> ItemSet:
    out = ItemSet([], [], [], [])
    for index, area in enumerate(taxonomy.areas):
        for lang in cfg.languages:
            out.redteam_train.extend(redteam_items(area, lang, cfg))
            out.benign_train.extend(benign_items(area, lang, cfg.benign_count, "train", cfg))
            out.benign_eval.extend(benign_items(area, lang, cfg.benign_eval_per_area, "eval", cfg))
        out.eval.extend(eval_items(area, index, cfg))
    return out


def prompt_text(item: dict) -> str:
    """Every turn of a prompt item: what the audit scans."""
    return "\n".join(m["content"] for m in item["messages"])


def request_text(item: dict) -> str:
    """The user turns of a prompt item: what near-duplicate removal and leakage checks compare. The assistant
    turns of a multi-turn prompt are generic template bridges shared by many items, not the request."""
    return "\n".join(m["content"] for m in item["messages"] if m["role"] == "user")
