"""Pure MinHash dedup logic: parameters, normalisation, shingles, banding, clustering (in-memory path)."""

from __future__ import annotations

import jsonschema
import numpy as np
import pytest

from haetae.pipelines.dedup.minhash import (
    UNITS,
    VERIFY_MODES,
    UnionFind,
    band_keys,
    bucket_pairs,
    char_shingle_hashes,
    exact_jaccard,
    is_empty_signature,
    large_star,
    shingle_text,
    small_star,
    verify_similarity,
)
from haetae.pipelines.dedup.transforms import (
    DEDUP_PARAMS_SCHEMA,
    DedupParams,
    MinHasher,
    dedup_assignments,
    estimate_jaccard,
    exact_key,
    minhash_signature,
    near_duplicate_clusters,
    normalize_text,
    shingles,
)

KO_BASE = (
    "국가는 모든 국민이 인간다운 생활을 할 권리를 가진다는 원칙에 따라 사회보장과 사회복지의 증진에 노력할 의무를 "
    "진다. 국가는 여자의 복지와 권익의 향상을 위하여 노력하여야 하며, 노인과 청소년의 복지향상을 위한 정책을 "
    "실시할 의무를 진다. 신체장애자 및 질병·노령 기타의 사유로 생활능력이 없는 국민은 법률이 정하는 바에 의하여 "
    "국가의 보호를 받는다."
)
KO_OTHER = (
    "대통령은 내란 또는 외환의 죄를 범한 경우를 제외하고는 재직중 형사상의 소추를 받지 아니한다. 전직대통령의 "
    "신분과 예우에 관하여는 법률로 정한다. 대통령은 국가의 원수이며, 외국에 대하여 국가를 대표한다. 대통령은 "
    "국가의 독립·영토의 보전·국가의 계속성과 헌법을 수호할 책무를 진다."
)


def test_params_defaults_validate_and_match_schema():
    p = DedupParams()
    assert p.bands * p.rows == p.num_perm
    jsonschema.validate(p.to_dict(), DEDUP_PARAMS_SCHEMA)
    props = DEDUP_PARAMS_SCHEMA["properties"]
    assert (props["unit"]["enum"], props["verify"]["enum"]) == (list(UNITS), list(VERIFY_MODES))
    assert DedupParams.from_dict({"threshold": 0.8, "ngram": 4}) == DedupParams(threshold=0.8, ngram=4)
    assert DedupParams.from_dict(None) == p


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"num_perm": 128, "bands": 30, "rows": 4}, "bands \\* rows"),
        ({"threshold": 0}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"unit": "word"}, "unit"),
        ({"ngram": "5"}, "ngram"),
        ({"max_bucket_size": 1}, "max_bucket_size"),
        ({"fold_particles": "yes"}, "fold_particles"),
        ({"star_rounds": -1}, "star_rounds"),
        ({"verify": "exact"}, "verify"),
    ],
)
def test_params_reject_bad_values(bad, message):
    with pytest.raises(ValueError, match=message):
        DedupParams.from_dict(bad)


def test_params_reject_unknown_keys_naming_them():
    with pytest.raises(ValueError, match="unknown dedup parameter.*'treshold'"):
        DedupParams.from_dict({"treshold": 0.7})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"treshold": 0.7}, DEDUP_PARAMS_SCHEMA)


def test_normalisation_and_exact_key():
    assert normalize_text("  Ｈｅｌｌｏ\t\nWORLD  ") == "hello world"
    assert exact_key("Hello   world") == exact_key("hello world\n")
    assert exact_key("hello world") != exact_key("hello, world")
    assert len(exact_key("가")) == 64


def test_char_shingles_ignore_spacing_and_punctuation():
    p = DedupParams(ngram=3)
    assert shingles("대한 민국, 만세!", p) == shingles("대한민국만세", p) == {"대한민", "한민국", "민국만", "국만세"}
    assert shingles("ab", p) == {"ab"}
    assert shingles(" \n ", p) == set()


def test_particle_folding_makes_particle_swaps_invisible():
    swapped = KO_BASE.replace("국민이", "국민가").replace("국민은", "국민는").replace("생활을", "생활를")
    folded, plain = DedupParams(fold_particles=True), DedupParams(fold_particles=False)
    assert shingles(swapped, folded) == shingles(KO_BASE, folded)
    assert shingles(swapped, plain) != shingles(KO_BASE, plain)
    assert shingles("Hello world", folded) == shingles("Hello world", plain)


def test_vectorised_char_hashes_hash_exactly_the_shingle_set():
    for params in (DedupParams(ngram=5), DedupParams(ngram=3, fold_particles=False)):
        a_text, b_text = KO_BASE, KO_BASE[:150] + KO_OTHER
        a = char_shingle_hashes(shingle_text(a_text, params.fold_particles), params.ngram)
        b = char_shingle_hashes(shingle_text(b_text, params.fold_particles), params.ngram)
        sa, sb = shingles(a_text, params), shingles(b_text, params)
        assert a.dtype == np.uint32 and len(a) == len(sa) and len(b) == len(sb)
        assert len(np.intersect1d(a, b)) == len(sa & sb) > 0
    assert len(char_shingle_hashes("ab", 5)) == 1 and len(char_shingle_hashes("", 5)) == 0


def test_morpheme_shingles_drop_particles():
    p = DedupParams(unit="morpheme", ngram=2)
    assert shingles("국민은 권리를 가진다", p) == shingles("국민이 권리가 가진다", p)


def test_signature_is_deterministic_and_estimates_jaccard():
    p = DedupParams()
    hasher = MinHasher(p)
    sig = hasher.signature(KO_BASE)
    assert sig.dtype == np.uint32 and sig.shape == (p.num_perm,)
    assert np.array_equal(sig, minhash_signature(KO_BASE, p))
    edited = KO_BASE.replace("국민은", "국민이").replace("사회보장과", "사회 보장과") + " 끝."
    a, b = shingles(KO_BASE, p), shingles(edited, p)
    true_j = len(a & b) / len(a | b)
    est = estimate_jaccard(sig, hasher.signature(edited))
    assert abs(est - true_j) < 0.12  # 128 permutations: standard error ~0.04
    assert estimate_jaccard(sig, hasher.signature(KO_OTHER)) < 0.2
    assert is_empty_signature(hasher.signature("  ..  ")) and band_keys(hasher.signature(""), p) == []
    assert len(band_keys(sig, p)) == len(set(band_keys(sig, p))) == p.bands


def test_bucket_pairs_caps_oversized_buckets():
    pairs, oversized = bucket_pairs(["c", "a", "b"], max_bucket_size=3)
    assert pairs == [("a", "b"), ("a", "c"), ("b", "c")] and not oversized
    ids = [f"d{i:03d}" for i in range(50)]
    pairs, oversized = bucket_pairs(reversed(ids), max_bucket_size=10)
    assert oversized and len(pairs) == 2 * 50 - 3
    assert all(a < b for a, b in pairs)
    assert ("d000", "d049") in pairs and ("d048", "d049") in pairs


def test_union_find_uses_smallest_id_as_root():
    uf = UnionFind()
    for a, b in [("e", "d"), ("c", "e"), ("x", "y"), ("b", "y")]:
        uf.union(a, b)
    assert uf.mapping() == {"c": "c", "d": "c", "e": "c", "b": "b", "x": "b", "y": "b"}


def test_in_memory_clusters_korean_near_duplicates():
    items = [
        ("k1", KO_BASE),
        ("k2", KO_BASE.replace("국민이", "국민은").replace("국가는 여자의", "국가는  여자 의")),  # particles, spacing
        ("k3", KO_BASE + "\n출처: 국가법령정보센터"),  # appended footer
        ("k0", KO_BASE.upper()),  # exact duplicate after normalisation
        ("k4", KO_OTHER),
        ("k5", KO_BASE[:60] + KO_OTHER[60:]),  # heavy edit: mostly another text
    ]
    clusters = near_duplicate_clusters(items)
    assert clusters == {"k0": "k0", "k1": "k0", "k2": "k0", "k3": "k0", "k4": "k4", "k5": "k5"}
    full = dedup_assignments(items)
    assert full["k1"]["kind"] == "exact" and full["k1"]["similarity"] == 1.0
    assert full["k0"]["kind"] == "representative" and full["k0"]["cluster_size"] == 4
    assert full["k2"]["kind"] == "near" and 0.5 <= full["k2"]["similarity"] < 1.0
    assert full["k4"] == {"cluster": "k4", "cluster_size": 1, "kind": "unique", "similarity": 1.0}
    assert near_duplicate_clusters(list(reversed(items))) == clusters


def test_in_memory_rejects_repeated_ids():
    with pytest.raises(ValueError, match="duplicate id 'a'"):
        near_duplicate_clusters([("a", "x"), ("a", "y")])


def test_texts_without_letters_are_only_exact_duplicates():
    clusters = near_duplicate_clusters([("a", "!!! ---"), ("b", "?? ..."), ("c", "!!!   ---\n"), ("d", "")])
    assert clusters == {"a": "a", "b": "b", "c": "a", "d": "d"}


def test_star_steps_by_hand():
    # large-star at b: neighbours {a, c, d} -> larger neighbours c, d linked to the minimum a
    assert large_star("b", ["a", "c", "d"]) == [("a", "c"), ("a", "d")]
    assert large_star("a", ["b", "c"]) == [("a", "b"), ("a", "c")]
    # small-star at d: smaller neighbours {b, c} and d itself linked to the minimum b
    assert small_star("d", ["b", "c", "e"]) == [("b", "c"), ("b", "d")]
    assert small_star("a", ["b"]) == []


def test_exact_verification_uses_the_true_shingle_jaccard():
    params = DedupParams(verify="shingles")
    hasher = MinHasher(params)
    a_text, b_text = KO_BASE, KO_BASE[:200] + KO_OTHER[:100]
    sig_a, hashes_a = hasher.sketch(a_text)
    _, hashes_b = hasher.sketch(b_text)
    sa, sb = shingles(a_text, params), shingles(b_text, params)
    assert verify_similarity(hashes_a, hashes_b, params) == pytest.approx(len(sa & sb) / len(sa | sb))
    assert np.array_equal(sig_a, MinHasher(DedupParams()).signature(a_text))  # same signature in both modes
    assert exact_jaccard(hashes_a, hashes_a) == 1.0 and exact_jaccard(hashes_a[:0], hashes_a[:0]) == 0.0


DATASKETCH_TEXTS = [KO_BASE, KO_OTHER, KO_BASE[:7], "x", "", " .. ", "Hello, World! Hello, World! " * 40]


@pytest.mark.parametrize("num_perm, seed", [(128, 42), (64, 1), (256, 0), (1, 7)])
def test_vendored_permutations_equal_datasketch(num_perm, seed):
    from datasketch import MinHash

    from haetae.pipelines.dedup.minhash import affine32_permutations

    ours = affine32_permutations(num_perm, seed)
    theirs = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert ours.dtype == theirs.dtype == np.uint32 and np.array_equal(ours, theirs)


@pytest.mark.parametrize("params", [DedupParams(), DedupParams(ngram=3, num_perm=64, bands=16, seed=3),
                                    DedupParams(unit="morpheme", ngram=2)])
def test_signatures_equal_datasketch_update_batch(params):
    from datasketch import MinHash

    hasher = MinHasher(params)
    for text in DATASKETCH_TEXTS:
        expected = MinHash(num_perm=params.num_perm, seed=params.seed, hashfunc=int, scheme="affine32")
        expected.update_batch(hasher.shingle_hashes(text).tolist())
        assert np.array_equal(hasher.signature(text), expected.hashvalues), text[:20]


def test_signature_over_several_blocks_and_with_repeated_hashes():
    from datasketch import MinHash

    hasher = MinHasher(DedupParams())
    long_text = "".join(chr(0xAC00 + i) for i in range(2000))  # 1,996 distinct 5-grams: several blocks
    hashes = hasher.shingle_hashes(long_text)
    assert len(hashes) == 1996
    expected = MinHash(num_perm=128, seed=42, hashfunc=int, scheme="affine32")
    expected.update_batch(hashes.tolist())
    assert np.array_equal(hasher.signature(long_text), expected.hashvalues)
    assert np.array_equal(hasher.signature("", np.concatenate([hashes[::-1], hashes])), expected.hashvalues)


def test_keyed_sketch_is_exact_key_and_sketch_from_one_normalisation():
    for params in (DedupParams(), DedupParams(verify="shingles")):
        hasher = MinHasher(params)
        for text in DATASKETCH_TEXTS:
            key, sig, verify_by = hasher.keyed_sketch(text)
            expected_sig, expected_verify = hasher.sketch(text)
            assert key == exact_key(text)
            assert np.array_equal(sig, expected_sig) and np.array_equal(verify_by, expected_verify)


def test_text_steps_match_their_regex_definitions():
    import re
    import unicodedata

    from haetae.pipelines.dedup.minhash import _word_chars, distinct

    texts = ["  a\u00a0b\u2028c\x1c\x1dd\u3000e\t\n", "Ｈｅｌｌｏ_wörld! 국민은 ②항 \ud800 ﬁ", "", "\n\n"]
    for text in texts:
        casefolded = unicodedata.normalize("NFKC", text).casefold()
        assert normalize_text(text) == re.sub(r"\s+", " ", casefolded).strip()
        assert shingle_text(text) == re.sub(r"[\W_]+", "", normalize_text(text))
    assert shingle_text("국민은 국민는 과와", fold_particles=True) == "국민은국민은와와"
    word_chars, non_word = _word_chars(), re.compile(r"[\W_]")
    for cp in [*range(0x3200), 0xD800, 0xFF3F, *range(0x3200, 0x110000, 37)]:
        assert word_chars[cp] == (non_word.match(chr(cp)) is None), hex(cp)
    values = np.array([5, 3, 5, 0, 3, 9], dtype=np.uint32)
    assert np.array_equal(distinct(values), np.unique(values)) and distinct(values[:0]).dtype == np.uint32
