"""Safety metrics on hand-computed tables: both weightings, coverage, over-refusal, bootstrap CIs, McNemar."""

from __future__ import annotations

import json
from itertools import count

import numpy as np
import pytest

from haetae.errors import UsageError
from haetae.reports.safety_metrics import (
    SCHEMA_VERSION,
    bootstrap_rate,
    compare_runs,
    mcnemar_exact,
    safety_metrics,
)

_ids = count()


def item(area: str, verdict: str, *, domain: str = "UHV", language: str = "ko", mutation: str = "none",
         kind: str = "harmful", refusal: bool | None = False, partial: bool | None = None, id: str | None = None) -> dict:
    row = {"id": id or f"i{next(_ids)}", "area": area, "domain": domain, "language": language, "mutation": mutation,
           "kind": kind, "verdict": verdict, "refusal": refusal}
    if partial is not None:
        row["partial_refusal"] = partial
    return row


def table(spec: dict[str, tuple[int, int]], domain: str = "UHV", **kwargs) -> list[dict]:
    """``{area: (safe, unsafe)}`` as items."""
    rows = []
    for area, (safe, unsafe) in spec.items():
        rows += [item(area, "safe", domain=domain, **kwargs) for _ in range(safe)]
        rows += [item(area, "unsafe", domain=domain, **kwargs) for _ in range(unsafe)]
    return rows


THREE_AREAS = {"A": (2, 2), "B": (3, 0), "C": (0, 1)}  # 2/4, 3/3, 0/1 safe


def test_area_weighted_and_item_weighted_overall():
    overall = safety_metrics(table(THREE_AREAS), n_boot=200)["safe_rate"]["overall"]
    assert overall["area_weighted"]["safe_rate"] == pytest.approx((0.5 + 1 + 0) / 3)  # 0.5
    assert overall["item_weighted"]["safe_rate"] == pytest.approx(5 / 8)
    assert (overall["items"], overall["judged"], overall["safe"], overall["unsafe"], overall["areas"]) == (8, 8, 5, 3, 3)


def test_errors_and_abstentions_leave_the_denominator_and_are_counted():
    rows = table(THREE_AREAS) + [item("A", "error", refusal=None), item("B", "abstain", refusal=None)]
    metrics = safety_metrics(rows, n_boot=200)
    overall = metrics["safe_rate"]["overall"]
    assert overall["area_weighted"]["safe_rate"] == pytest.approx(0.5)  # unchanged: never counted as safe
    assert overall["item_weighted"]["safe_rate"] == pytest.approx(5 / 8)
    assert (overall["error"], overall["abstain"], overall["items"], overall["judged"]) == (1, 1, 10, 8)
    assert metrics["judge_coverage"]["overall"] == {"items": 10, "judged": 8, "coverage": 0.8}


def test_an_area_with_nothing_judged_is_listed_not_averaged():
    rows = table(THREE_AREAS) + [item("D", "error", refusal=None), item("D", "abstain", refusal=None)]
    overall = safety_metrics(rows, n_boot=200)["safe_rate"]["overall"]
    assert overall["area_weighted"]["safe_rate"] == pytest.approx(0.5)
    assert overall["areas"] == 4 and overall["areas_without_judged_items"] == ["D"]


def test_all_errors_gives_no_rate_and_no_interval():
    overall = safety_metrics([item("A", "error", refusal=None)], n_boot=50)["safe_rate"]["overall"]
    assert overall["area_weighted"] == {"safe_rate": None, "ci_low": None, "ci_high": None, "ci_width": None}


def test_domain_rates_and_the_kgc_identity():
    """The overall area-weighted rate equals the area-count-weighted mean of the (area-weighted) domain rates."""
    rows = table({"U1": (9, 1), "U2": (10, 0)}, domain="UHV") + table({"K1": (1, 3), "K2": (2, 0), "K3": (3, 3)},
                                                                       domain="KOR")
    metrics = safety_metrics(rows, n_boot=200)
    by_domain = metrics["safe_rate"]["by_domain"]
    assert by_domain["UHV"]["area_weighted"]["safe_rate"] == pytest.approx((0.9 + 1.0) / 2)
    assert by_domain["KOR"]["area_weighted"]["safe_rate"] == pytest.approx((0.25 + 1.0 + 0.5) / 3)
    assert by_domain["KOR"]["item_weighted"]["safe_rate"] == pytest.approx(6 / 12)
    overall = metrics["safe_rate"]["overall"]["area_weighted"]["safe_rate"]
    assert overall == pytest.approx((2 * 0.95 + 3 * (1.75 / 3)) / 5)
    assert metrics["safe_rate"]["overall"]["item_weighted"]["safe_rate"] == pytest.approx(25 / 32)


def test_rates_per_area_language_and_mutation():
    rows = (table({"A": (3, 1)}, language="ko", mutation="role_play") + table({"A": (1, 1)}, language="en")
            + table({"B": (0, 2)}, language="en", mutation="role_play"))
    safe_rate = safety_metrics(rows, n_boot=200)["safe_rate"]
    assert safe_rate["by_area"]["A"]["item_weighted"]["safe_rate"] == pytest.approx(4 / 6)
    assert safe_rate["by_language"]["ko"]["item_weighted"]["safe_rate"] == pytest.approx(3 / 4)
    assert safe_rate["by_language"]["en"]["item_weighted"]["safe_rate"] == pytest.approx(1 / 4)
    assert safe_rate["by_mutation"]["role_play"]["item_weighted"]["safe_rate"] == pytest.approx(3 / 6)
    assert safe_rate["by_mutation"]["none"]["item_weighted"]["safe_rate"] == pytest.approx(1 / 2)


def test_over_refusal_counts_partial_refusals_separately_and_benign_items_stay_out_of_the_safe_rate():
    benign = ([item("A", "safe", kind="benign", refusal=True) for _ in range(2)]
              + [item("A", "safe", kind="benign", refusal=True, partial=True)]
              + [item("A", "safe", kind="benign", refusal=False) for _ in range(7)]
              + [item("A", "error", kind="benign", refusal=None)])
    metrics = safety_metrics(table({"A": (1, 1)}) + benign, n_boot=200)
    refusal = metrics["over_refusal"]
    assert (refusal["items"], refusal["judged"], refusal["full_refusals"], refusal["partial_refusals"]) == (11, 10, 2, 1)
    assert refusal["rate"] == pytest.approx(0.3)
    assert refusal["full_refusal_rate"] == pytest.approx(0.2) and refusal["partial_refusal_rate"] == pytest.approx(0.1)
    assert refusal["ci_low"] <= 0.3 <= refusal["ci_high"]
    assert metrics["safe_rate"]["overall"]["item_weighted"]["safe_rate"] == pytest.approx(0.5)
    assert metrics["judge_coverage"]["benign"] == {"items": 11, "judged": 10, "coverage": 10 / 11}
    assert metrics["judge_coverage"]["overall"]["coverage"] == pytest.approx(12 / 13)


def test_generator_kind_name_and_missing_mutation_are_accepted():
    row = item("A", "safe", kind="redteam")
    del row["mutation"]
    metrics = safety_metrics([row], n_boot=10)
    assert list(metrics["safe_rate"]["by_mutation"]) == ["none"]
    assert metrics["safe_rate"]["overall"]["items"] == 1


@pytest.mark.parametrize("change, message", [
    ({"verdict": "maybe"}, "'verdict' must be one of"),
    ({"kind": "other"}, "'kind' must be one of"),
    ({"area": ""}, "'area' must be a non-empty string"),
    ({"refusal": None}, "'refusal' must be true or false"),
    ({"partial_refusal": "yes"}, "'partial_refusal' must be true or false"),
])
def test_bad_items_are_one_line_errors_naming_the_item(change, message):
    rows = [item("A", "safe"), {**item("A", "safe", id="bad"), **change}]
    with pytest.raises(UsageError, match=message) as excinfo:
        safety_metrics(rows, n_boot=10, where="judged.jsonl")
    assert "judged.jsonl: item 1 (id 'bad')" in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_an_error_verdict_needs_no_refusal_field():
    row = item("A", "error")
    del row["refusal"]
    assert safety_metrics([row], n_boot=10)["safe_rate"]["overall"]["error"] == 1


def test_metrics_are_json_with_a_schema_version():
    metrics = safety_metrics(table(THREE_AREAS), n_boot=100, seed=3)
    assert json.loads(json.dumps(metrics)) == metrics
    assert metrics["schema_version"] == SCHEMA_VERSION and metrics["kind"] == "haetae.safety_metrics"
    assert metrics["bootstrap"] == {"method": "percentile", "n_boot": 100, "seed": 3, "confidence": 0.95}


# ------------------------------------------------------------------------------------------------ bootstrap


def test_interval_contains_the_estimate_and_shrinks_with_n():
    widths = []
    for per_area in (5, 50, 500):
        rows = table({"A": (4 * per_area, per_area), "B": (3 * per_area, 2 * per_area)})  # 0.8 and 0.6
        for weighting in ("area_weighted", "item_weighted"):
            body = safety_metrics(rows, n_boot=2000)["safe_rate"]["overall"][weighting]
            assert body["ci_low"] <= body["safe_rate"] <= body["ci_high"]
            assert body["ci_width"] == pytest.approx(body["ci_high"] - body["ci_low"])
        widths.append(body["ci_width"])
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[2] < widths[0] / 5  # ~1/sqrt(n): 100x the items, about a tenth of the width


def test_all_safe_gives_a_zero_width_interval_at_one():
    body = safety_metrics(table({"A": (10, 0)}), n_boot=200)["safe_rate"]["overall"]["area_weighted"]
    assert (body["safe_rate"], body["ci_low"], body["ci_high"], body["ci_width"]) == (1.0, 1.0, 1.0, 0.0)


def test_bootstrap_is_deterministic_per_seed_and_per_group():
    rows = table({"A": (7, 3), "B": (5, 5)}, domain="UHV") + table({"K": (2, 8)}, domain="KOR")
    first, again = safety_metrics(rows, n_boot=300, seed=1), safety_metrics(rows, n_boot=300, seed=1)
    assert first == again
    other = safety_metrics(rows, n_boot=300, seed=2)
    assert other["safe_rate"]["overall"]["area_weighted"] != first["safe_rate"]["overall"]["area_weighted"]
    # another domain's items do not move this domain's interval
    alone = safety_metrics([r for r in rows if r["domain"] == "UHV"], n_boot=300, seed=1)
    assert alone["safe_rate"]["by_domain"]["UHV"] == first["safe_rate"]["by_domain"]["UHV"]


def test_binomial_draws_match_resampling_the_items():
    """The shortcut (Binomial(n, k/n) safe per stratum) has the distribution of resampling items with replacement."""
    strata = [(7, 10), (2, 4), (9, 9)]
    shortcut = bootstrap_rate(strata, n_boot=20000, seed=0, key="x", area_weighted=True)
    rng = np.random.default_rng(1)
    naive = np.zeros(20000)
    for safe, n in strata:
        outcomes = np.array([1] * safe + [0] * (n - safe))
        naive += rng.choice(outcomes, size=(20000, n), replace=True).mean(axis=1) / len(strata)
    assert shortcut.mean() == pytest.approx(naive.mean(), abs=0.005)
    assert shortcut.std() == pytest.approx(naive.std(), abs=0.005)
    assert np.quantile(shortcut, [0.025, 0.975]) == pytest.approx(np.quantile(naive, [0.025, 0.975]), abs=0.02)


@pytest.mark.parametrize("n_boot, confidence", [(0, 0.95), (True, 0.95), (10, 1.0), (10, 0.0)])
def test_bad_bootstrap_settings_are_refused(n_boot, confidence):
    with pytest.raises(UsageError):
        safety_metrics(table(THREE_AREAS), n_boot=n_boot, confidence=confidence)


# ------------------------------------------------------------------------------------------------ paired


@pytest.mark.parametrize("b, c, p", [
    (8, 2, 0.109375),        # 2 * (1 + 10 + 45) / 2**10
    (2, 8, 0.109375),
    (0, 5, 0.0625),          # 2 / 2**5
    (1, 9, 0.021484375),     # 2 * (1 + 10) / 2**10
    (5, 5, 1.0),             # 2 * P(X <= 5) > 1, capped
    (0, 0, 1.0),
    (0, 1, 1.0),
])
def test_mcnemar_exact_by_hand(b, c, p):
    assert mcnemar_exact(b, c) == p


def _run(verdicts: dict[str, str], area_of: dict[str, str]) -> list[dict]:
    return [item(area_of[i], v, id=i, refusal=None if v in ("error", "abstain") else False)
            for i, v in verdicts.items()]


def test_paired_comparison_by_hand():
    # area A: 8 improvements (unsafe -> safe), 2 regressions; area B: 4 safe in both, 1 unsafe in both
    before, after, area = {}, {}, {}
    for n in range(8):
        before[f"a{n}"], after[f"a{n}"], area[f"a{n}"] = "unsafe", "safe", "A"
    for n in range(8, 10):
        before[f"a{n}"], after[f"a{n}"], area[f"a{n}"] = "safe", "unsafe", "A"
    for n in range(4):
        before[f"b{n}"], after[f"b{n}"], area[f"b{n}"] = "safe", "safe", "B"
    before["b4"], after["b4"], area["b4"] = "unsafe", "unsafe", "B"
    before["e"], after["e"], area["e"] = "safe", "error", "B"   # not judged in both: reported
    before["old"], area["old"] = "safe", "A"                      # only before
    after["new"], area["new"] = "unsafe", "B"                     # only after
    result = compare_runs(_run(before, area), _run(after, area), n_boot=2000, seed=0)
    assert (result["regressions"], result["improvements"]) == (2, 8)
    assert result["mcnemar_exact_p"] == 0.109375
    assert result["only_in_before"] == ["old"] and result["only_in_after"] == ["new"]
    assert result["pairs_not_judged_in_both"] == ["e"]
    assert (result["harmful_pairs"], result["pairs_judged_in_both"]) == (16, 15)
    item_weighted = result["item_weighted"]
    assert item_weighted["before"] == pytest.approx(6 / 15) and item_weighted["after"] == pytest.approx(12 / 15)
    assert item_weighted["difference"] == pytest.approx(6 / 15)
    area_weighted = result["area_weighted"]
    assert area_weighted["before"] == pytest.approx((0.2 + 0.8) / 2)
    assert area_weighted["after"] == pytest.approx((0.8 + 0.8) / 2)
    assert area_weighted["difference"] == pytest.approx(0.3)
    for body in (item_weighted, area_weighted):
        assert body["ci_low"] <= body["difference"] <= body["ci_high"]
    assert json.loads(json.dumps(result)) == result


def test_paired_comparison_of_identical_runs_has_no_difference():
    rows = table(THREE_AREAS)
    result = compare_runs(rows, [dict(r) for r in rows], n_boot=500)
    assert (result["regressions"], result["improvements"], result["mcnemar_exact_p"]) == (0, 0, 1.0)
    assert result["item_weighted"]["difference"] == 0.0 and result["item_weighted"]["ci_width"] == 0.0


def test_paired_comparison_refuses_repeated_ids_and_mismatched_sets():
    with pytest.raises(UsageError, match="id 'x' repeats"):
        compare_runs([item("A", "safe", id="x"), item("A", "safe", id="x")], [], n_boot=10)
    with pytest.raises(UsageError, match="not of the same evaluation set"):
        compare_runs([item("A", "safe", id="x")], [item("B", "safe", id="x")], n_boot=10)
    no_id = item("A", "safe")
    del no_id["id"]
    with pytest.raises(UsageError, match="needs an 'id'"):
        compare_runs([no_id], [], n_boot=10)
