"""Copyright notices in English and Korean, with the holder extracted: :func:`find_copyright`.

What a training-data audit needs to know about a document's rights is, first, whether someone claims them and
who. The shapes found here are those of software headers and of Korean news pages:

| kind                   | examples                                                         | holder            |
|------------------------|------------------------------------------------------------------|-------------------|
| ``copyright``          | Copyright (c) 2019-2023 Jane Doe; © 2024 가람일보; ⓒ 동해신문사;     | the named party   |
|                        | <저작권자 ⓒ 가람뉴스, 무단 전재 금지>; 이 기사의 저작권은 X에 있습니다 |                   |
| ``all_rights_reserved``| All rights reserved; 판권 소유; 모든 권리 보유                        | a same-line holder|
| ``no_redistribution``  | 무단 전재 및 재배포 금지; 무단전재-재배포 금지; 재배포 금지             | a same-line holder|
| ``ai_training_reserved``| AI학습 및 활용 금지; 인공지능 학습 이용 금지; "may not be used to   | a same-line holder|
|                        | train AI"; text and data mining rights reserved; noai            |                   |
| ``byline``             | 홍길동 기자 gildong@example.co.kr; [홍길동 기자]; 홍길동 특파원 =    | the reporter      |
| ``dateline``           | (서울=가람뉴스); 【세종=동해신문】                                     | the news agency   |

A "same-line holder" is the holder of a ``copyright`` notice on the same line (a news footer such as
"ⓒ 동해신문사 무단전재 및 재배포 금지" names it once for all its clauses); None when there is none.

Guards against the common false readings: the word "copyright" alone ("the copyright holders", "Copyright Act")
is no notice, a symbol or a year must follow; "(c)" needs a year or the word Copyright (else it is an item of a
list); a circled ⓒ shortly after a ⓑ enumerates; a byline needs a surname-initial name of 2-4 syllables, a
title not followed by more Hangul (기자는, 기자회견), and a frame (an e-mail, "=", brackets, a dateline before
it, or a line of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("copyright", "all_rights_reserved", "no_redistribution", "ai_training_reserved", "byline", "dateline")

SINGLE_SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄채원천방공현함변"
    "염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부가복태목형계피두감음빈동온호범좌팽승"
    "간상시갈단견당화창옹순빙묵요뢰"
)
"""Kept equal to :data:`haetae.pipelines.pii.recognizers.korea_names.SINGLE_SURNAMES` (a test checks it) without importing
that module, which loads Presidio."""
DOUBLE_SURNAMES = ("남궁", "제갈", "황보", "선우", "독고", "사공", "서문", "동방", "어금", "망절", "소봉", "장곡")


@dataclass(frozen=True)
class Notice:
    """One notice: its kind (see :data:`KINDS`), the holder named (None if none), the character span of the
    notice in the text, and for bylines the reporter's e-mail address."""

    kind: str
    holder: str | None
    span: tuple[int, int]
    email: str | None = None


_I = re.IGNORECASE
_YEAR = r"(?:19|20)\d{2}"
_YEARS = _YEAR + r"(?:\s*(?:[-–~,/]|and|to)\s*(?:" + _YEAR + r"|\d{2}|present|now))*"
_SYM = r"(?:©|ⓒ|Ⓒ|\([cC]\))"

# The head of a copyright notice; the holder is read from where it ends.
_HEAD = re.compile(
    r"(?P<ko>저작권자\s*[(<\[]?\s*)?"
    r"(?:"
    r"(?P<spdx>\bSPDX-FileCopyrightText\s*:)(?:\s*" + _SYM + r")*(?P<pyears>\s*" + _YEARS + r")?"
    r"|(?P<word>\bcopyrights?\b)(?:\s*[:：])?(?:\s*" + _SYM + r")*(?P<wyears>\s*[:：]?\s*" + _YEARS + r")?"
    r"|(?P<sym>©|ⓒ|Ⓒ)(?:\s*copyrights?\b)?(?P<syears>\s*" + _YEARS + r")?"
    r"|(?<![\w(])\((?P<c>[cC])\)(?:\s*copyrights?\b)?(?P<cyears>\s*" + _YEARS + r")?"
    r")",
    _I,
)
_KO_HOLDER = re.compile(r"(?:이\s*)?(?:기사|글|콘텐츠|자료|저작물)?의?\s*저작권은\s*(?P<holder>[^\n,.]{1,40}?)\s*(?:에게|에)\s*있(?:습니다|음|다)?")

# Where a holder ends (searched in the rest of the line after the head).
_HOLDER_END = re.compile(
    r"\s*(?:"
    r"\ball\s+rights\b|\bsome\s+rights\b|판권|무단|재\s*배포|전재|저작권|모든\s*권리"
    r"|\b(?:AI|인공지능)\s*(?:학습|훈련)"
    r"|\b(?:permission|licen[cs]ed|released|distributed|redistribution|spdx|this\s+(?:file|program|software|work|"
    r"article|content|library)|use\s+of|see\s+|the\s+software\s+is|for\s+(?:more|details|license))\b"
    r"|[<>\[\]【】|;\"“”*{}]|-->|\*/|\bhttps?://|[\w.+-]+@[\w-]+\.[\w.]+"
    r"|\s[-–—]\s|\.\s|\.$|$"
    r")",
    _I,
)
_ABBREV = re.compile(r"(?:\b(?:inc|ltd|co|corp|llc|l\.l\.c|jr|sr|s\.a|b\.v|pty|plc|n\.v|a\.g|e\.v|ag|gmbh|al)|(?<![\w.])[A-Z])\.?$", _I)
_TRAIL_YEARS = re.compile(r"[\s,]*(?:\(?" + _YEARS + r"\)?)\s*$")
_LEAD = re.compile(r"^(?:[\s:：,]|by\b|" + _SYM + r")+", _I)

_ARR = re.compile(r"\ball\s+rights\s+reserved\b|판권\s*소유|모든\s*권리\s*(?:를\s*)?보유", _I)
_NO_REDIST = re.compile(
    r"무단\s*(?:전재|복제|복사|배포|게재|도용|사용|이용|수집)"
    r"(?:\s*(?:및|,|·|ㆍ|-|/|&|와|과|또는)?\s*(?:재\s*배포|복제|복사|배포|전재|게재|2차\s*가공|수집))*"
    r"(?:\s*(?:을|를)?\s*(?:금지|금함|금합니다|불가|엄금))?"
    r"|재\s*배포\s*(?:를\s*|는\s*)?(?:금지|금함|금합니다|불가|엄금)"
)
_AI_KO = re.compile(
    r"(?:\bAI|인공지능|A\.I\.|기계\s*학습|머신\s*러닝)\s*(?:학습|훈련)?(?:\s*(?:및|,|·|ㆍ)\s*(?:활용|이용|사용))?"
    r"\s*(?:데이터\s*)?(?:으로의|으로|에|용|에의)?\s*(?:이용|활용|사용)?\s*(?:을|를)?\s*(?:금지|금함|금합니다|불가)"
)
_AI_WORDS = r"(?:AI|A\.I\.|artificial\s+intelligence|machine[-\s]learning|(?:large\s+)?language\s+models?|LLMs?)"
_AI_EN = re.compile(
    r"\b(?:not|never)\s+(?:be\s+)?(?:used|reproduced|copied)\s+(?:for|to\s+train|in)\s+(?:the\s+)?"
    r"(?:training\s+(?:of\s+)?)?(?:any\s+)?" + _AI_WORDS
    + r"|\b" + _AI_WORDS + r"\s+training\s+(?:is\s+)?(?:strictly\s+)?(?:prohibited|not\s+permitted|forbidden)"
    r"|\btext\s+and\s+data\s+mining\b[^\n]{0,80}?\breserv\w*"
    r"|\breserv\w*\s+(?:[\w-]+\s+){0,4}?text\s+and\s+data\s+mining\b"
    r"|\bnoai\b",
    _I,
)
_SURNAME = "(?:" + "|".join(DOUBLE_SURNAMES) + f"|[{SINGLE_SURNAMES}])"
_NAME = rf"{_SURNAME}[가-힣]{{1,3}}"
_TITLES = r"(?:선임기자|수습기자|객원기자|전문기자|사진기자|영상기자|기자|특파원|논설위원|편집위원|통신원)"
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_BYLINE = re.compile(
    rf"(?<![가-힣])(?P<names>{_NAME}(?:\s*[·ㆍ,]\s*{_NAME})*)\s*{_TITLES}(?![가-힣])"
    rf"(?P<tail>[ \t]*(?:=|[(<\[]?[ \t]*(?P<email>{_EMAIL})[ \t]*[)>\]]?))?"
)
_DATELINE = re.compile(r"[(\[【]\s*(?P<place>[가-힣]{1,8}(?:\s*[·ㆍ]\s*[가-힣]{1,8})?)\s*=\s*"
                       r"(?P<outlet>[^()\[\]【】=\n]{1,20}?)\s*[)\]】]")


def _holder_after(text: str, pos: int) -> tuple[str | None, int]:
    """The holder named from ``pos`` to where it ends on the line, and that end offset."""
    line_end = text.find("\n", pos)
    line_end = len(text) if line_end < 0 else line_end
    rest = text[pos:min(line_end, pos + 160)]
    end = 0
    while True:
        m = _HOLDER_END.search(rest, end)
        if m is None:
            end = len(rest)
            break
        if m.group(0).lstrip().startswith(".") and _ABBREV.search(rest[:m.start()]):
            end = m.start() + m.group(0).index(".") + 1  # "Inc." is part of the name; go on after it
            if end >= len(rest):
                break
            continue
        end = m.start()
        break
    raw = rest[:end]
    holder = _LEAD.sub("", raw)
    holder = _TRAIL_YEARS.sub("", holder)
    holder = " ".join(holder.split()).strip(" \t,:;-–—/&(")
    if holder.endswith(".") and not _ABBREV.search(holder):
        holder = holder.rstrip(".").rstrip()
    holder = holder.strip(" ,")
    span_end = pos + len(raw.rstrip(" \t,:;"))
    if not holder or not re.search(r"[^\W\d_]", holder):
        return None, span_end
    return holder, span_end


def _copyright_notices(text: str) -> list[Notice]:
    found = []
    for m in _HEAD.finditer(text):
        holder, end = _holder_after(text, m.end())
        if m.group("word") and not (m.group("wyears") or re.search(_SYM, m.group(0))):
            # "the copyright holders", "Copyright Act": no symbol, no year; but "Copyright Jane Doe 2020"
            if not (holder and _TRAIL_YEARS.search(text[m.end():end]) and holder[:1].isupper()):
                continue
        if m.group("c") and not (m.group("cyears") or re.search("copyright", m.group(0), _I)):
            continue  # "(c) the third item"
        if m.group("sym") in ("ⓒ", "Ⓒ") and "ⓑ" in text[max(0, m.start() - 300):m.start()]:
            continue  # ⓐ ⓑ ⓒ enumeration
        if m.group("sym") and not (m.group("syears") or holder):
            continue  # a lone © with nothing after it
        end = max(end, m.end())
        if m.group("ko") and end < len(text) and text[end] in ")>]":
            end += 1
        found.append(Notice("copyright", holder, (m.start(), end)))
    for m in _KO_HOLDER.finditer(text):
        holder = m.group("holder").strip()
        if not any(n.span[0] <= m.start() < n.span[1] for n in found):
            found.append(Notice("copyright", holder or None, (m.start(), m.end())))
    return found


def _bylines(text: str) -> list[Notice]:
    found = []
    for m in _BYLINE.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        framed = (
            bool(m.group("tail") and m.group("tail").strip())
            or re.search(r"[(\[【][^()\[\]【】\n]{1,8}=[^()\[\]【】\n]{1,20}[)\]】]\s*$", before) is not None
            or (m.start() > 0 and text[m.start() - 1] in "[(<【=" and text[m.end():m.end() + 1] in ("]", ")", ">", "】"))
            or re.search(r"(?:글|사진|영상|정리|취재)\s*[·ㆍ/]?\s*(?:사진|영상)?\s*=?\s*$", before) is not None
            or (not text[line_start:m.start()].strip() and not text[m.end():line_end].strip())
        )
        if not framed:
            continue
        names = ", ".join(re.split(r"\s*[·ㆍ,]\s*", m.group("names")))
        found.append(Notice("byline", names, (m.start(), m.end()), m.group("email")))
    return found


def find_copyright(text: str) -> list[Notice]:
    """Every copyright notice, rights reservation, news byline and dateline in ``text``, in text order."""
    if not text:
        return []
    notices = _copyright_notices(text)
    for kind, rx in (("all_rights_reserved", _ARR), ("no_redistribution", _NO_REDIST),
                     ("ai_training_reserved", _AI_KO), ("ai_training_reserved", _AI_EN)):
        for m in rx.finditer(text):
            notices.append(Notice(kind, _same_line_holder(text, m.start(), notices), (m.start(), m.end())))
    for m in _DATELINE.finditer(text):
        notices.append(Notice("dateline", m.group("outlet").strip(), (m.start(), m.end())))
    notices.extend(_bylines(text))
    unique = {(n.kind, n.span): n for n in notices}  # the two AI patterns may meet on one phrase
    return sorted(unique.values(), key=lambda n: (n.span, KINDS.index(n.kind)))


def _same_line_holder(text: str, pos: int, notices: list[Notice]) -> str | None:
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line_end = len(text) if line_end < 0 else line_end
    holders = [n for n in notices if n.kind == "copyright" and n.holder and line_start <= n.span[0] < line_end]
    if not holders:
        return None
    return min(holders, key=lambda n: abs(n.span[0] - pos)).holder


def holders(notices: list[Notice]) -> list[str]:
    """Distinct holders named by ``copyright`` notices and datelines, in order of first appearance (the
    parties whose rights a document carries; reporters are authors, listed by their bylines)."""
    seen: dict[str, None] = {}
    for n in notices:
        if n.holder and n.kind in ("copyright", "dateline"):
            seen.setdefault(n.holder, None)
    return list(seen)


_HOLDER_GATES = ("copyright", "©", "ⓒ", "(c)", "저작권")


def notice_holders(text: str) -> list[str]:
    """:func:`holders` of ``text`` without the work holders do not need (bylines, reservations): what the
    audit runs on every document. Texts with no notice head skip the notice patterns."""
    if not text:
        return []
    lowered = text.lower()
    notices = _copyright_notices(text) if any(g in lowered for g in _HOLDER_GATES) else []
    if "=" in text:
        notices += [Notice("dateline", m.group("outlet").strip(), (m.start(), m.end())) for m in _DATELINE.finditer(text)]
    return holders(sorted(notices, key=lambda n: n.span))


PERSONAL_HOLDER = "<HOLDER>"
_ORG_WORDS = re.compile(
    r"\b(?:inc|incorporated|ltd|limited|llc|llp|corp|corporation|co|company|gmbh|ag|s\.?a|b\.?v|plc|pty|k\.?k"
    r"|foundation|project|authors|contributors|developers|maintainers|team|community|university|college|school"
    r"|institute|institution|association|society|academy|council|committee|consortium|organi[sz]ation|agency"
    r"|government|ministry|department|office|bureau|press|media|news|newspaper|times|herald|journal"
    r"|magazine|broadcasting|publishing|publishers?|publications|group|labs?|software|systems|technologies"
    r"|technology|networks|studios?|games|entertainment|partners|holdings|industries"
    r"|services|solutions|international|global)\b\.?",
    re.IGNORECASE,
)
_ORG_KO = re.compile(
    r"신문|뉴스|뉴시스|일보|방송|통신|미디어|매거진|주식회사|\(주\)|㈜|재단|협회|학회|연합|대학|연구원|연구소|공사|공단"
    r"|위원회|정부|부처|시청|도청|구청|출판|그룹|기업|센터|닷컴|프레스|타임스|헤럴드|저널|에디터|편집국|기자단"
)
_DOMAIN = re.compile(r"\b[\w-]+\.(?:com|net|org|kr|co\.kr|or\.kr|go\.kr|io|ai|dev|edu)\b", re.IGNORECASE)
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9&]{1,9}\d*$")


def is_organisation(holder: str) -> bool:
    """Whether a holder reads as an organisation (a company, outlet, project, public body), not a person.

    Conservative: what is not recognisably an organisation (a suffix or word such as Inc., Foundation, 신문,
    일보, 재단; a domain name; a single acronym such as KBS) is treated as a possible person."""
    name = holder.strip()
    if _ORG_WORDS.search(name) or _ORG_KO.search(name) or _DOMAIN.search(name):
        return True
    if _ACRONYM.match(name):
        return True
    return bool(re.fullmatch(r"[가-힣]{3,}사", name))  # 동해신문사, 가람출판사; a 3-syllable name ending 사 is rare


def public_holders(names: list[str]) -> list[str]:
    """Holders as the audit's ledger and report may show them: organisations by name, any other holder as
    :data:`PERSONAL_HOLDER` (one entry each, so they can be counted)."""
    return [n if is_organisation(n) else PERSONAL_HOLDER for n in names]


def personal_names(text: str) -> list[str]:
    """Names a report must not show: holders that are not organisations and the reporters of bylines."""
    notices = find_copyright(text)
    names = [n for n in holders(notices) if not is_organisation(n)]
    for n in notices:
        if n.kind == "byline" and n.holder:
            names.extend(part for part in n.holder.split(", ") if part)
    return list(dict.fromkeys(names))
