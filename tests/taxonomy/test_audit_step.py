"""The inline audit of generated data decides as the pipeline's ledger does: the policy's own rules, in order."""

from __future__ import annotations

from haetae.taxonomy.audit_step import audit_documents

RRN = "주민등록번호 900101-1234568 로 가입했습니다. 확인 부탁드립니다."
HELPLINE = "상담 전화 1393 으로 언제든 연락하세요. 도움을 받을 수 있습니다."


def test_inline_audit_applies_pii_rules_before_exact_duplicates(tmp_path):
    """A copy of a text holding PII is dropped for the PII, as in the pipeline (whose dedup sees only undecided
    records), not passed off as a mere duplicate, which the generator would not count as a rejection."""
    docs = [{"id": "a1", "lang": "ko", "text": RRN}, {"id": "a2", "lang": "ko", "text": RRN},
            {"id": "b1", "lang": "ko", "text": HELPLINE}, {"id": "b2", "lang": "ko", "text": HELPLINE}]
    decisions = audit_documents(docs, tmp_path, "inline").decisions
    assert decisions == {
        "a1": ("drop", "pii.entities.KR_RRN", ["1 x KR_RRN"]),
        "a2": ("drop", "pii.entities.KR_RRN", ["1 x KR_RRN"]),
        "b1": ("keep", "default.keep", []),  # PHONE_NUMBER is kept in generated data (public helplines)
        "b2": ("drop", "dedup.exact", ["exact duplicate of b1"]),
    }
