"""The unsafe-compliance member of red-team preference groups: written and graded by a model, or absent and counted.

The offline generator cannot write a real unsafe response (and must not stand in for one), so this member exists only
when the backend is a model: it replies to the red-team conversation, the same server grades the reply against
the area's five criteria, and the reply joins the group only when it violates at least one of them (reward 0 by
:func:`~haetae.taxonomy.responses.rubric_reward`). Every red-team item without such a member is counted under a
reason; its group takes the next real template kind instead.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from haetae.taxonomy.backends import GenerationBackend, TemplateBackend
from haetae.taxonomy.model import Area

UNAVAILABLE_OFFLINE = "unsafe_member_unavailable_offline"
JUDGED_SAFE = "unsafe_member_judged_safe"
UNJUDGED = "unsafe_member_verdict_unusable"


def _criteria_texts(area: Area, language: str) -> list[str]:
    return [c.get(language) or c["en"] for c in area.criteria]


def unsafe_members(redteam: list[dict], areas: dict[str, Area], backend: GenerationBackend,
                   workers: int) -> tuple[dict[str, dict], Counter]:
    """``({item id: {content, criteria}}, {reason: count of items without a member})`` for red-team ``redteam``."""
    if isinstance(backend, TemplateBackend):
        return {}, (Counter({UNAVAILABLE_OFFLINE: len(redteam)}) if redteam else Counter())

    def one(item: dict) -> tuple[str | None, list[int] | None]:
        reply = backend.comply(item["messages"], item["language"])
        if not reply:
            return None, None
        criteria = _criteria_texts(areas[item["area"]], item["language"])
        return reply, backend.violated_criteria(item["messages"], reply, criteria)

    members: dict[str, dict] = {}
    missing: Counter = Counter()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for item, (reply, violated) in zip(redteam, pool.map(one, redteam)):
            if reply is None:
                missing[UNAVAILABLE_OFFLINE] += 1
            elif violated is None:
                missing[UNJUDGED] += 1
            elif not violated:
                missing[JUDGED_SAFE] += 1
            else:
                n = len(areas[item["area"]].criteria)
                members[item["id"]] = {"content": reply, "criteria": [0 if k + 1 in violated else 1 for k in range(n)]}
    return members, missing
