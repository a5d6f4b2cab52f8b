"""Korean person names as a Presidio recogniser: a closed set of surnames, cue words, Kiwi as a veto.

Why not Kiwi alone: its NNP tag misses most invented names (it splits 김서윤 into 김/서/윤 and guesses 남궁혜린
as a common noun) and tags places (한국, 강남) NNP as well. What does identify a name in Korean text is its
frame: a surname syllable at a word start, one or two given-name syllables, and a cue word — an honorific or
role word after it (홍길동 씨, 김영희 기자, 박재율 교수님) or a form label before it (성명: 제갈도휘, 보호자 김영희,
피고인 김○○). The frame alone would also fire on words that begin with a surname syllable (정부 대표, 이사회
의장, 위하여 대통령, 조카님), so every candidate is checked by Kiwi (:func:`kiwi_vetoes`): a candidate Kiwi reads
fluently as ordinary words is vetoed, one it can only guess (out of vocabulary, odd splits) or knows as a
person-like proper noun stands. Kiwi is loaded lazily, once per process (about 2.3 s and 330 MB), and only runs
on the candidate strings (cached), never on the whole document.

Without a cue nothing is reported (the score of a bare surname-initial word would be far below any
threshold); a name confirmed by a cue is also found where it recurs in the same text without one.
"""

from __future__ import annotations

import functools
import re

from haetae.offline import import_presidio  # isort: split

import_presidio()

from presidio_analyzer import EntityRecognizer, RecognizerResult

from haetae.pipelines.pii.recognizers.base import HANGUL_GATE_START, register

SINGLE_SURNAMES = (
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄채원천방공현함변"
    "염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용예경봉사부가복태목형계피두감음빈동온호범좌팽승"
    "간상시갈단견당화창옹순빙묵요뢰"
)
"""One-syllable Korean surnames (the closed set of the national census, the rare ones trimmed)."""

DOUBLE_SURNAMES = ("남궁", "제갈", "황보", "선우", "독고", "사공", "서문", "동방", "어금", "망절", "소봉", "장곡")
"""Two-syllable surnames; tried before the one-syllable reading (남궁 before 남)."""

MASK = r"[○◯〇●OＯ*＊×XＸㅇ]"
"""Characters that stand for hidden given-name syllables in anonymised text (김○○, 이**, 홍OO)."""

TITLES_AFTER = (
    "씨", "님", "군", "양", "옹", "여사", "기자", "특파원", "앵커", "교수", "교수님", "박사", "대표", "대표이사",
    "대표님", "이사", "이사장", "회장", "회장님", "사장", "사장님", "부사장", "전무", "상무", "부장", "부장님", "차장",
    "과장", "과장님", "대리", "주임", "팀장", "팀장님", "실장", "본부장", "원장", "원장님", "의원", "의장", "위원장",
    "위원", "장관", "차관", "시장", "군수", "구청장", "도지사", "총장", "학장", "선생", "선생님", "교사", "변호사",
    "판사", "검사", "변리사", "세무사", "회계사", "노무사", "의사", "간호사", "약사", "감독", "코치", "선수", "작가",
    "시인", "화백", "고객", "고객님", "회원", "회원님", "수령인", "담당자", "담당", "매니저", "목사", "신부", "스님",
    "총리", "대통령", "후보", "경위", "경사", "경장", "순경", "경감", "형사", "수사관", "연구원", "조교", "주무관",
    "사무관", "환자", "학생", "어린이", "님께", "귀하", "병장", "상병", "일병", "이병", "하사", "중사", "상사", "소위",
    "중위", "대위", "소령", "중령", "대령", "선배", "선배님", "후배", "언니", "오빠", "누나",
)
"""Honorifics and role words that follow a name ("홍길동 기자", "김영희씨는")."""

LABELS_BEFORE = (
    "성명", "이름", "성함", "본명", "보호자", "수령인", "수취인", "받는분", "받는 분", "받는사람", "받는 사람",
    "보내는분", "보내는 분", "보내는사람", "보내는 사람", "신청인", "신청자", "담당자", "담당", "작성자", "대표자",
    "대표이사", "대표", "피고인", "피고", "원고", "피해자", "증인", "고소인", "피고소인", "고객", "고객명", "예금주",
    "환자", "환자명", "학생", "주문자", "계약자", "임차인", "임대인", "세대주", "가입자", "명의자", "참석자",
    "발신인", "발신자", "수신인", "수신자", "기자", "글", "사진", "문의", "연락처", "주문인", "구매자", "판매자",
    "배우자", "저자", "지은이", "옮긴이", "심사위원", "위원", "판사", "재판장", "주심", "대법관", "검사", "변호인",
    "재판관", "상대방", "채무자", "채권자", "청구인", "피청구인", "신고자", "제보자", "운전자", "입주자",
    "민원인", "피보험자", "보험계약자", "수익자", "의뢰인", "지원자", "응시자", "신고인",
)
"""Form labels and roles that precede a name ("성명: 홍길동", "보호자 김영희", "피고인 김○○")."""

PARTICLES = (
    "은", "는", "이", "가", "을", "를", "의", "와", "과", "에게", "께", "께서", "도", "만", "로", "으로", "이며",
    "이고", "이다", "입니다", "이라고", "이라는", "라는", "에", "에서", "에게서", "한테", "랑", "이랑", "처럼", "보다",
    "부터", "까지", "로서", "으로서", "였다", "이었다", "였던", "이던", "였으며", "님", "님께", "님께서", "님이",
    "님은", "님의", "님을", "들", "들이", "들은", "들의", "들과",
)
"""Particles (and the plural 들) that may end a name after a form label ("피고인 김○○은", "보호자 김영희가")
or a title after a name ("김영희 기자가", "정희수 의원들과"): a title must end its word, so 의사형성 or
대표단 is no title."""

PLACE_OR_BODY_ENDINGS = "시군구도읍면리국당청부처대교"
"""Last syllables of place and organisation names Kiwi knows as proper nouns (서울시, 민주당, 국방부, 서울대)."""

SPACE = r"[ \t\u00a0\u3000]"
_SURNAME = "(?:" + "|".join(DOUBLE_SURNAMES) + f"|[{SINGLE_SURNAMES}])"
_GIVEN = rf"(?:{MASK}{{1,2}}|{SPACE}?모|[가-힣]{{1,2}}|[가-힣]{MASK}|{MASK}[가-힣])"
_NAME = rf"{_SURNAME}{_GIVEN}(?<![의에는를을])"
"""A surname and a given name (or its mask). A candidate ending in a particle (당시의, 이내에, 국회는) is no
name: given names practically never end in 의, 에, 는, 를 or 을."""


def _alternatives(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_WORD_END = rf"(?=(?:{_alternatives(PARTICLES)})?(?![가-힣]))"
GLUED_TITLES = ("씨", "님", "님께")
"""The honorifics often written glued to a name (김영희씨, 황보민채님께). Other titles and role words are written
after a space (홍길동 기자, 김민수 군); glued, they are mostly compounds (국회의원, 국무총리, 한국군, 감사위원),
so a name needs the space before them. This also keeps most legal text from passing the gate."""
_TITLE_WORDS = _alternatives(TITLES_AFTER)
_SPACED_TITLE = rf"(?:{SPACE}?(?:{_alternatives(GLUED_TITLES)})|{SPACE}(?:{_TITLE_WORDS}))"
_AGE = r"(?:\([0-9]{1,3}(?:세|살)?\)|\((?:남|여)[,·]?[ ]?[0-9]{1,3}(?:세)?\))"
"""An age or sex and age between a name and its title, as in news: 육모(52)씨, 김모(여·35) 씨."""
_LABEL = rf"(?:{_alternatives(LABELS_BEFORE)})명?(?:{SPACE}?\(?한글\)?)?"
"""A form label, also with 명 or a 한글 qualifier (가입자명, 성명 한글, 이름(한글))."""
NAME_BEFORE_TITLE = (
    rf"(?<![가-힣0-9A-Za-z])(?P<name>{_NAME}){_AGE}?(?:{SPACE}?(?P<title>{_alternatives(GLUED_TITLES)})"
    rf"|{SPACE}(?P<spaced_title>{_TITLE_WORDS})){_WORD_END}"
)
NAME_AFTER_LABEL = (
    rf"(?<![가-힣0-9A-Za-z])(?P<label>{_LABEL})(?:{SPACE}?[:：]{SPACE}*|{SPACE}+)(?P<listed>{_NAME})"
    rf"(?:{_WORD_END}|(?={_AGE}?{_SPACED_TITLE}{_WORD_END}))"
)
ASCII_LABELS = ("Name", "name", "NAME", "Full name", "Applicant", "Recipient", "Patient", "Contact")
"""English form labels of bilingual forms ("Name: 천다올"). The match starts at the name, the label is a
lookbehind, so that the gate still starts with a Hangul syllable."""
_ASCII_SEPARATORS = (":", ": ", " : ", " ")
_ASCII_LABEL = "(?<=[: ])(?:" + "|".join(rf"(?<=\b{re.escape(label)}{sep})" for label in ASCII_LABELS
                                          for sep in _ASCII_SEPARATORS) + ")"
"""Led by the one character every label-and-separator ends with: at a Hangul syllable after another (most of
Korean text) the gate fails there instead of trying the 32 lookbehinds (a third of a Korean document's scan)."""
NAME_AFTER_ASCII_LABEL = (
    rf"{_ASCII_LABEL}(?P<labelled>{_NAME})(?:{_WORD_END}|(?={_AGE}?{_SPACED_TITLE}{_WORD_END}))"
)
CUES = re.compile(f"{NAME_BEFORE_TITLE}|{NAME_AFTER_LABEL}|{NAME_AFTER_ASCII_LABEL}")
"""Every reported name comes from a match of this (directly, or as a later mention of such a name)."""

GATE = f"{NAME_BEFORE_TITLE}|{NAME_AFTER_LABEL}|{NAME_AFTER_ASCII_LABEL}"
"""The recogniser's gate: the cue regex itself, so it is a necessary condition by construction. Its matches
start with a Hangul syllable (a surname or a label), which is why it is registered with a Hangul start."""

_LIST_NEXT = re.compile(
    rf"(?:{SPACE}*(?:[,，、·ㆍ/]|및){SPACE}*|(?:와|과){SPACE}+)(?P<name>{_NAME})(?![가-힣])"
)
FIELD_WORDS = ("배송지", "주소", "주소지", "연락처", "전화", "전화번호", "휴대폰", "이메일", "메일", "생년월일", "소속",
               "직위", "직책", "부서", "비고", "날짜", "일시", "장소")
"""Other fields of a form, which may follow a listed name ("수령인 순지호, 배송지 ..."): never a name."""
_CUE_WORDS = frozenset(TITLES_AFTER) | frozenset(LABELS_BEFORE) | frozenset(FIELD_WORDS)
_LIST_PREVIOUS = re.compile(rf"(?<![가-힣])(?P<name>{_NAME}){SPACE}*[,，、·ㆍ]{SPACE}*$")


@functools.lru_cache(maxsize=1)
def shared_kiwi():
    """One Kiwi analyser per process: loading its model takes seconds and hundreds of MB.

    Without the typo and multi-word dictionaries, which a verdict on 2-4 syllable candidates does not use
    (the scores are the same), loading and the first analysis take about 2.3 s instead of 5.9 s and 330 MB
    instead of 520 MB."""
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=-1, load_typo_dict=False, load_multi_dict=False)


FLUENT_SCORE = -24.0
"""Kiwi's log-score above which its best reading of a candidate is fluent ordinary language. Measured on
candidates of 2-4 syllables: common words and word+particle forms (정부 -14.7, 국민의 -19.9, 위하여 -16.1,
이루어 -22.9) score above it; invented names, read as out-of-vocabulary guesses or odd splits (김서윤 -29.1,
성가온 -32.0, 진하람 -33.0, 문지우 -24.7), below it."""


@functools.lru_cache(maxsize=65536)
def kiwi_vetoes(name: str, glued_title: str = "") -> bool:
    """True when Kiwi reads ``name`` as ordinary words rather than a person's name.

    A proper noun Kiwi knows, of three syllables or more and not ending like a place or organisation
    (홍길동, 이상민; not 서울시, 민주당), stands, and so does any reading with an out-of-vocabulary guess. Otherwise
    the candidate is vetoed when Kiwi's best reading is fluent (above :data:`FLUENT_SCORE`): 정부, 이번엔,
    위하여, 한국. A name glued to its title that Kiwi knows as one word (하느님) is vetoed too. Masked names
    (김○○, and 김모 or 김 모 unless glued to its title, which 부모님 would be) never are.
    """
    if re.search(MASK, name) or (len(name) == 2 and name.endswith("모") and not glued_title):
        return False
    kiwi = shared_kiwi()
    if glued_title:
        whole = kiwi.tokenize(name + glued_title)
        if len(whole) == 1 and not whole[0].oov:
            return True
    tokens, score = kiwi.analyze(name, top_n=1)[0][:2]
    if any(token.oov for token in tokens):
        return False
    if len(tokens) == 1 and tokens[0].tag == "NNP" and tokens[0].len >= 3:
        return tokens[0].form[-1] in PLACE_OR_BODY_ENDINGS
    if _proper_noun_and_name_suffix(tokens):
        return False
    return score > FLUENT_SCORE


def _proper_noun_and_name_suffix(tokens) -> bool:
    """Kiwi's reading is a proper noun and the suffix 이 that Korean adds to given names (선재이 = 선재 + 이,
    as in 선재이가): a name by Kiwi's own reading."""
    return (len(tokens) == 2 and tokens[0].tag == "NNP" and tokens[0].len >= 2 and tokens[1].tag == "XSN"
            and tokens[1].form == "이")


@functools.lru_cache(maxsize=65536)
def kiwi_reads_as_name(name: str) -> bool:
    """Evidence for a name without a cue of its own (the next one in "참석자: 김철수, 이영희"): it is not a cue or
    field word, and Kiwi guesses it out of vocabulary, knows it as a person-like proper noun, or splits it into
    pieces without reading them fluently (the test a cued name passes, :func:`kiwi_vetoes`)."""
    if re.search(MASK, name):
        return True
    if name in _CUE_WORDS:
        return False
    tokens = shared_kiwi().analyze(name, top_n=1)[0][0]
    if any(token.oov for token in tokens):
        return True
    if len(tokens) == 1:
        return tokens[0].tag == "NNP" and tokens[0].len >= 3 and not kiwi_vetoes(name)
    return not kiwi_vetoes(name)  # split oddly (엄/태/경, 편하/랑) and not fluent: as a cued name would stand


@register
class KoreanPersonNameRecognizer(EntityRecognizer):
    """Korean person names framed by a cue word (see the module docstring); entity PERSON."""

    NAME = "kr_person_name"
    ENTITY = "PERSON"
    DESCRIPTION = "Korean person names: surname + given name framed by a title or form label, Kiwi veto"
    GATE = GATE
    GATE_START = HANGUL_GATE_START
    """Its matches start with a Hangul syllable (a surname or a label): compiled apart from the digit-led gates."""

    CUE_SCORE = 0.85
    """A surname-initial name with a title or label after Kiwi's check."""
    MASKED_SCORE = 0.8
    """An anonymised name (김○○, 홍모 씨): the frame is certain, the person hidden but still identifying."""
    REPEAT_SCORE = 0.7
    """A name already confirmed in the same text, recurring without a cue."""

    def __init__(self, supported_language: str = "ko", supported_entity: str = "PERSON", name: str | None = None,
                 context: list[str] | None = None):
        super().__init__(supported_entities=[supported_entity], supported_language=supported_language, name=name,
                         context=context or [])

    def load(self) -> None:
        """Kiwi is loaded on the first candidate, not here: most documents have none."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        if entities and self.supported_entities[0] not in entities:
            return []
        found: dict[tuple[int, int], float] = {}
        position = 0
        while (match := CUES.search(text, position)) is not None:
            group = next(g for g in ("name", "listed", "labelled") if match.group(g))
            start, end = match.span(group)
            name = match.group(group)
            title = match.group("title") or ""
            glued = title if title and match.end("name") == match.start("title") else ""
            if kiwi_vetoes(re.sub(SPACE, "", name), glued):
                # the vetoed word may be the label of the next cue ("보호자 성함 : 피소담"): search on from it
                position = max(start, match.start() + 1)
                continue
            found[(start, end)] = self._score(name)
            self._add_list_neighbours(text, match, found)
            position = end
        self._add_repeats(text, found)
        entity = self.supported_entities[0]
        return [
            RecognizerResult(entity, start, end, score,
                             recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                                   RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
            for (start, end), score in sorted(found.items())
        ]

    def _score(self, name: str) -> float:
        masked = re.search(MASK, name) or (len(name.replace(" ", "")) == 2 and name.endswith("모"))
        return self.MASKED_SCORE if masked else self.CUE_SCORE

    def _add_list_neighbours(self, text: str, match: re.Match, found: dict[tuple[int, int], float]) -> None:
        """Names listed with the cued one: after a label ("참석자: 김철수, 이영희") or before a shared title
        ("김영희·박철수 기자")."""
        if match.group("label") or match.group("labelled"):
            position = match.end("listed" if match.group("listed") else "labelled")
            while (following := _LIST_NEXT.match(text, position)) is not None:
                if not kiwi_reads_as_name(following.group("name")):
                    break
                found[following.span("name")] = self._score(following.group("name"))
                position = following.end("name")
        else:
            position = match.start("name")
            while (previous := _LIST_PREVIOUS.search(text[max(0, position - 16):position])) is not None:
                offset = max(0, position - 16)
                if not kiwi_reads_as_name(previous.group("name")):
                    break
                found[(offset + previous.start("name"), offset + previous.end("name"))] = self._score(
                    previous.group("name"))
                position = offset + previous.start("name")

    def _add_repeats(self, text: str, found: dict[tuple[int, int], float]) -> None:
        """Later or earlier mentions of a confirmed full name (three syllables or more, not masked)."""
        names = {text[s:e] for s, e in found if e - s >= 3 and not re.search(MASK, text[s:e])}
        for name in names:
            for mention in re.finditer(rf"(?<![가-힣]){re.escape(name)}{_WORD_END}", text):
                span = mention.span()
                if not any(s < span[1] and span[0] < e for s, e in found):
                    found[span] = self.REPEAT_SCORE
