"""First lexicon-based sentiment scorer for Chinese customer feedback.

How a text is scored (every constant is named so a later tuning issue can measure it). Steps 2-4
and the negated comparisons of 10-11 are the word-level reading in ``sentiment_words.py``; the
questions, requests and constructions of 9 and 11 are recognised in ``clause_forms.py``; the
rest, and the combination of it all, is here:

1. The text is split into clauses (``clauses.split_clauses``).
2. Each clause is read left to right by forward maximum matching against the lexicons in
   ``lexicons/`` (longest entry wins, so ``不错`` is one positive word, ``快递`` is neutral).
3. A sentiment word takes the modifiers found since the previous sentiment word, within
   ``MODIFIER_WINDOW`` characters before it:
   - negators flip it. A negated positive becomes clearly negative (``不好`` = -0.8 x 好), a
     negated negative only mildly positive (``不慢`` = -0.65 x 慢, "not slow" is faint praise);
     softened negators (``不太好``, ``不是很满意``) flip with 0.6 of that strength;
   - degree words multiply it (``很`` 1.5, ``太`` 1.8, ``有点`` 0.6); post-position degree
     words multiply the word right before them (``慢死了``);
   - ``好`` directly before another sentiment word is a degree word (``好慢``), not praise.
4. Sarcasm: a positive word inside quotes (``真是"好"质量``) or after 所谓的/号称 counts as
   negative (x ``SARCASM_FACTOR``); 呵呵 is in the negative lexicon.
5. Contrast: a clause that starts with 但是/可是/不过/就是/... gets weight
   ``CONTRAST_AFTER_WEIGHT`` and every clause before it is multiplied by
   ``CONTRAST_BEFORE_FACTOR``; a concession clause (虽然...) gets ``CONCESSION_WEIGHT``.
6. Raw-text intensity: emoji polarity (``lexicons/emoji.txt``) adds ``EMOJI_WEIGHT`` x weight
   (capped), and each exclamation mark (up to 5) scales the total by ``EXCLAMATION_STEP``.
   Emoji and repeated "！！！" are removed by cleaning, so pass the original text as
   ``raw_text`` when scoring cleaned text.
7. ``score = tanh(SQUASH * total)`` lies in (-1, 1). Labels:
   ``score >= POSITIVE_THRESHOLD`` (0.25) -> positive, ``score <= NEGATIVE_THRESHOLD`` (-0.25)
   -> negative, otherwise neutral. A single plain polar word (~1.0) gives about +-0.5; a
   lukewarm word (还行 0.3) stays neutral.

Models and neutral clauses (issue 3; constants below):

8. The character n-gram polarity model adds ``MODEL_WEIGHT`` x its evidence to a clause
   without sentiment words (x ``MODEL_WEIGHT_WITH_LEXICON`` with them), scaled by the neutral
   gate's probability that the clause takes a side at all (``GATE_SHARPNESS``): a status report
   or request ("物流显示已到达本市转运中心") keeps almost none of it.
9. Inquiries and requests (请问/麻烦/希望/建议, yes/no and A-not-A questions 好用吗/是不是,
   conditions 如果...) keep ``INQUIRY_FACTOR`` of their lexicon score and do not ask the model;
   a question with a complaint cue (怎么还没, 为什么, 到底, 难道, 也好意思, 别再, or 这就是
   before a "？") is a complaint: at most ``RHETORICAL_QUESTION_VALUE``.
10. "没有宣传的那么好用": a negator up to ``COMPARATIVE_NEGATION_REACH`` characters before
   那么/这么 negates the compared word (softened). A contrast clause without praise of its own
   after praise ("外观很漂亮，就是续航有点短", "可惜是到付") names a drawback: at most
   ``IMPLIED_DRAWBACK_VALUE``.
   Clause roles (``clauses.py``): 结果 starts a contrast; 以为/本来/一开始 mark a concession.
11. Comparisons: in a clause without lexicon sentiment, 比 ... [还/更] + an attribute that is
   neutral alone takes a side (``COMPARATIVE_VALUE``): "颜色比图片暗很多" complains,
   "比预计早了两天" praises; 高 only for a price ("会员价比非会员价还高").
   After 不如 ("不如上次买的好用") praise is negated (``INFERIORITY_WORDS``). Having to ask
   again ("第三次联系客服了", "催了好几次") is ``REPEATED_CONTACT_VALUE``; a duration before
   才 ("一个星期才发货") is ``LATE_VALUE``.
   Without any contrast word, a final complaint after praise ("物流挺快的，用了三天就坏了")
   still turns the text: ``UNMARKED_TURN_AFTER`` / ``UNMARKED_TURN_BEFORE``.
12. A text that defers its judgement ("到了再评价", "用了再说") keeps ``DEFERRAL_FACTOR`` of its
   total; a request for a small favour ("帮我备注一下") is an inquiry; a bare thank-you closing
   a request ("请帮我查一下物流，谢谢") is politeness (``POLITE_THANKS``), not praise.
13. Clause scores are cached (``CLAUSE_CACHE_SIZE``): feedback repeats short clauses.

The review model (issue 17, ``model.py``): long real reviews (a book, a hotel stay) hold many
clauses whose sum the clause layer reads poorly, while a whole-review model trained on real
reviews of other shops reads them better. Its share of a text is the gate's probability that
the whole text takes a side (``REVIEW_GATE_SHARPNESS``) times a length ramp from 0 at
``REVIEW_MIN_CHARS`` to 1 at ``REVIEW_FULL_CHARS``: a short message (an inquiry, a status report,
one complaint) is the clause rules' business. The clause total then yields
``REVIEW_CLAUSE_YIELD`` x share of its weight, and the review evidence for the whole text
(log-odds with its prior, capped at ``REVIEW_CAP``) is added, times ``REVIEW_WEIGHT`` x share.
The clause rules keep the last word where they are explicit: a text that defers its judgement,
or a short one (up to ``REVIEW_INQUIRY_MAX_CLAUSES`` clauses) with an inquiry or request clause,
gets no review evidence. (A long review's "建议大家买", "如果你喜欢..." is not an inquiry: a third
of the book reviews have such a clause.)
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from .clause_forms import construction_value, is_complaint_question, is_inquiry
from .clauses import Clause, split_clauses
from .lexicon_files import read_lexicon_lines
from .model import ModelPair, active_pair, normalise_for_model, use_pair
from .sentiment_words import lexicon_score
from .text_cleaning import EMOJI_PATTERN

POSITIVE_THRESHOLD = 0.25
NEGATIVE_THRESHOLD = -0.25
SQUASH = 0.55
CONTRAST_AFTER_WEIGHT = 1.5
CONTRAST_BEFORE_FACTOR = 0.4
CONCESSION_WEIGHT = 0.5
EMOJI_WEIGHT = 0.6
EMOJI_CAP = 2.0
EXCLAMATION_STEP = 0.1
EXCLAMATION_CAP = 5
MODEL_WEIGHT = 0.9
MODEL_WEIGHT_WITH_LEXICON = 0.3
MODEL_CAP = 6.0
# The polarity model never saw a neutral sentence, so on a neutral clause ("快递放在门卫室了")
# it still returns evidence of +-1 to +-3. The neutral gate's probability that the clause is
# polar, sigmoid(GATE_SHARPNESS x gate logit), scales that evidence.
GATE_SHARPNESS = 3.0
# Inquiries and requests are damped to this share of their lexicon score, and the model is not
# asked: their sentiment words are topics or wishes ("好评返现怎么领", "希望发货快一点").
INQUIRY_FACTOR = 0.15
# A question that carries a complaint cue ("到底什么时候给我处理？", "这质量也好意思卖这个价？",
# "难道...吗") is rhetorical: it scores at least this negative.
RHETORICAL_QUESTION_VALUE = -0.8
# A contrast clause without sentiment of its own after praise ("外观很漂亮，就是续航有点短")
# names a drawback: it scores at most this mildly negative value.
IMPLIED_DRAWBACK_VALUE = -1.2
CLAUSE_CACHE_SIZE = 65_536
# The whole-review model (see the module docstring): weight, cap of its evidence, sharpness of the
# text-level gate, and the length ramp (characters of the normalised text) over which it comes in.
REVIEW_WEIGHT = 2.5
REVIEW_CAP = 4.0
REVIEW_GATE_SHARPNESS = 1.0
REVIEW_MIN_CHARS = 20
REVIEW_FULL_CHARS = 80
REVIEW_CLAUSE_YIELD = 0.5
REVIEW_INQUIRY_MAX_CLAUSES = 2

# A text that defers its judgement ("还没到，到了再评价", "先用用看，用一段时间再来追评") is
# neutral unless it judges strongly elsewhere: its total is multiplied by DEFERRAL_FACTOR.
DEFERRAL_FACTOR = 0.3
# A bare thank-you clause that closes a request or question is politeness.
POLITE_THANKS = frozenset({"谢谢", "谢谢了", "谢谢啦", "谢谢你", "谢谢您", "谢谢你们", "多谢", "感谢", "辛苦了",
                           "麻烦了", "麻烦你了", "麻烦您了", "先谢谢了", "提前谢谢"})
UNMARKED_TURN_AFTER = 1.2
UNMARKED_TURN_BEFORE = 0.7
UNMARKED_TURN_MIN = 0.3  # a clause judges when its raw score is at least this far from 0
_DEFERRAL = re.compile(r"再(?:来)?(?:评价|追评|评|反馈)|(?:用|试|穿|吃).{0,6}再说|再观察|有待观察|(?:暂时|先)不(?:评价|评)")
# A question clause: followed by a question mark in the text (or ending with a question
# particle, see clause_forms).
_QUESTION_AFTER = re.compile(r"[\s!！~～…]*[?？]")


@dataclass(frozen=True)
class ScoredClause:
    """A clause with its own (unweighted) raw score, score in [-1, 1] and label."""

    clause: Clause
    raw: float

    @property
    def score(self) -> float:
        return squash(self.raw)

    @property
    def label(self) -> str:
        return label_for(self.score)


@dataclass(frozen=True)
class SentimentAnalysis:
    score: float
    label: str
    clauses: tuple[ScoredClause, ...]


@lru_cache(maxsize=1)
def emoji_weights() -> dict[str, float]:
    return {emoji.replace("\ufe0f", ""): float(weight) for emoji, weight in read_lexicon_lines("emoji.txt")}


def squash(raw: float) -> float:
    return math.tanh(SQUASH * raw)


def label_for(score: float) -> str:
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


@lru_cache(maxsize=1)
def _lukewarm_pattern() -> re.Pattern[str]:
    phrases = sorted((row[0].lower() for row in read_lexicon_lines("lukewarm.txt")), key=len, reverse=True)
    return re.compile("|".join(re.escape(phrase) for phrase in phrases))


# PII masks ("139****5678", "[EMAIL]", lower-cased here) are not words: the gate, which never saw
# them, read "我的手机号139****5678" as polar. The models read the clause without them.
_PII_MASK = re.compile(r"[0-9]*\*{2,}[0-9]*|\[(?:email|id|card|phone|tel)\]", re.IGNORECASE)


def model_signals(clause: str) -> tuple[float, float]:
    """(polarity evidence: the n-gram model's log-odds without the prior, capped; probability
    that the clause is polar at all, from the neutral gate). (0.0, 1.0) without models."""
    pair = active_pair()
    if "*" in clause or "[" in clause:
        clause = _PII_MASK.sub("", clause)
    logits = pair.logits(normalise_for_model(clause)) if pair is not None else None
    if logits is None:
        return 0.0, 1.0
    evidence, gate_logit = logits
    # clamped: a 20,000-character clause sums thousands of weights, exp() must not overflow
    polar_logit = max(-MODEL_CAP, min(MODEL_CAP, gate_logit)) * GATE_SHARPNESS
    return max(-MODEL_CAP, min(MODEL_CAP, evidence)), 1.0 / (1.0 + math.exp(-polar_logit))


def review_signals(text: str, clauses) -> tuple[float, float]:
    """(share of the review model in a whole cleaned, masked text, its capped evidence): (0.0,
    0.0) without a review model, for a text of at most ``REVIEW_MIN_CHARS`` characters, and for a
    short text (up to ``REVIEW_INQUIRY_MAX_CLAUSES`` clauses) that asks or requests."""
    pair = active_pair()
    if pair is None or pair.review is None:
        return 0.0, 0.0
    if "*" in text or "[" in text:
        text = _PII_MASK.sub("", text)
    normalised = normalise_for_model(text)
    length = len(normalised)
    if length <= REVIEW_MIN_CHARS or (len(clauses) <= REVIEW_INQUIRY_MAX_CLAUSES
                                      and any(is_inquiry(clause.text) for clause in clauses)):
        return 0.0, 0.0
    logits = pair.text_logits(normalised)
    if logits is None:
        return 0.0, 0.0
    evidence, gate_logit = logits
    polar_logit = max(-MODEL_CAP, min(MODEL_CAP, gate_logit)) * REVIEW_GATE_SHARPNESS
    ramp = min(1.0, (length - REVIEW_MIN_CHARS) / (REVIEW_FULL_CHARS - REVIEW_MIN_CHARS))
    return ramp / (1.0 + math.exp(-polar_logit)), max(-REVIEW_CAP, min(REVIEW_CAP, evidence))


def review_contribution(text: str, clauses) -> float:
    """The review model's weighted evidence for a whole text (``review_signals``)."""
    share, evidence = review_signals(text, clauses)
    return REVIEW_WEIGHT * share * evidence


def model_evidence(clause: str) -> float:
    """The n-gram model's evidence for one clause (log-odds without the prior), capped."""
    return model_signals(clause)[0]


def _model_contribution(lowered: str, lexicon: float) -> float:
    """The weighted model evidence for a lower-cased clause, scaled by the gate's polar
    probability; 0.0 where the model is not asked."""
    # The lexicon reads negation, degree and sarcasm; the model does not. Where the lexicon
    # found sentiment, the model only nudges; where it found none, the model speaks; in a
    # lukewarm or stock clause ("一般般", "默认好评") it is not asked.
    if _lukewarm_pattern().search(lowered) is not None:
        return 0.0
    weight = MODEL_WEIGHT * (MODEL_WEIGHT_WITH_LEXICON if lexicon else 1.0)
    evidence, polar = model_signals(lowered)
    if lexicon * evidence < 0:
        return 0.0  # they disagree: the lexicon read the grammar ("不是很满意"), trust it
    return weight * evidence * polar


@lru_cache(maxsize=CLAUSE_CACHE_SIZE)
def clause_parts(text: str, question: bool = False) -> tuple[float, float]:
    """(lexicon score, raw score) of one clause; see ``score_clause``. Cached: feedback repeats
    short clauses ("物流很快", "好评") across many texts."""
    lowered = text.lower()
    lexicon = lexicon_score(lowered) or construction_value(lowered)
    if is_complaint_question(text, question):
        raw = min(lexicon + _model_contribution(lowered, lexicon), RHETORICAL_QUESTION_VALUE)
    elif is_inquiry(text):
        raw = lexicon * INQUIRY_FACTOR
    else:
        raw = lexicon + _model_contribution(lowered, lexicon)
    return lexicon, raw


@contextmanager
def use_models(pair: ModelPair | None) -> Iterator[None]:
    """Score with ``pair`` instead of the shipped models inside the block (evaluation only); the
    clause memo is cleared on entry and exit so no score of one pair leaks into the other."""
    clause_parts.cache_clear()
    try:
        with use_pair(pair):
            yield
    finally:
        clause_parts.cache_clear()


def score_clause(text: str, question: bool = False) -> float:
    """Raw score of one clause: lexicon score plus the weighted model evidence.

    ``question``: the clause is followed by a question mark in the text. Inquiries and
    requests are damped (their sentiment words are topics or wishes: "希望发货快一点"); a
    complaint question ("怎么还没到") is at least ``RHETORICAL_QUESTION_VALUE``.
    """
    return clause_parts(text, question)[1]


def clause_weights(clauses: list[Clause] | tuple[Clause, ...]) -> list[float]:
    """Weights from contrast/concession roles: the later side of a contrast counts more."""
    weights = [1.0] * len(clauses)
    for index, clause in enumerate(clauses):
        if clause.role == "plain":  # the common case
            continue
        if clause.role == "contrast" and index > 0:
            for earlier in range(index):
                weights[earlier] *= CONTRAST_BEFORE_FACTOR
            weights[index] *= CONTRAST_AFTER_WEIGHT
        elif clause.role == "concession":
            weights[index] *= CONCESSION_WEIGHT
    return weights


def unmarked_turn_weights(clauses, raws: list[float], weights: list[float]) -> list[float]:
    """"物流挺快的，收到是坏的", "服务真好，让我等了两个小时": praise followed by a complaint
    without a contrast word still turns on the complaint. Without any contrast clause, a text
    whose last judging clause (``UNMARKED_TURN_MIN``) is negative after a positive one weighs it like a contrast clause
    (``UNMARKED_TURN_AFTER`` and ``UNMARKED_TURN_BEFORE`` for the clauses before it)."""
    # cheap exits first: most texts do not hold both a complaint and praise
    if min(raws) > -UNMARKED_TURN_MIN or max(raws) < UNMARKED_TURN_MIN \
            or any(clause.role == "contrast" for clause in clauses):
        return weights
    last = next((i for i in range(len(raws) - 1, -1, -1) if abs(raws[i]) >= UNMARKED_TURN_MIN), None)
    if last is None or raws[last] >= 0 or not any(raw >= UNMARKED_TURN_MIN for raw in raws[:last]):
        return weights
    turned = [weight * UNMARKED_TURN_BEFORE for weight in weights[:last]] + weights[last:]
    turned[last] *= UNMARKED_TURN_AFTER
    return turned


def raw_text_intensity(raw_text: str) -> tuple[float, float]:
    """(emoji contribution, exclamation multiplier) read from the raw text."""
    emoji_total = 0.0
    if raw_text and not raw_text.isascii():
        weights = emoji_weights()
        for run in EMOJI_PATTERN.findall(raw_text):
            for char in run:
                emoji_total += weights.get(char, 0.0)
    emoji_total = max(-EMOJI_CAP, min(EMOJI_CAP, emoji_total))
    exclamations = min(raw_text.count("!") + raw_text.count("！"), EXCLAMATION_CAP) if raw_text else 0
    return EMOJI_WEIGHT * emoji_total, 1.0 + EXCLAMATION_STEP * exclamations


def _is_followed_by_question_mark(text: str, clause: Clause) -> bool:
    return _QUESTION_AFTER.match(text, clause.start + len(clause.text)) is not None


def _polite_thanks_after_request(clauses, raws: list[float]) -> list[float]:
    """"请帮我查一下物流，谢谢", "请问有货吗？谢谢": a bare thank-you closing a request or a
    question is politeness, not praise: it scores 0 when another clause of the text asks."""
    thanks = [index for index, clause in enumerate(clauses) if clause.text in POLITE_THANKS]
    if not thanks or not any(is_inquiry(clause.text) for clause in clauses):
        return raws
    return [0.0 if index in thanks else raw for index, raw in enumerate(raws)]


def score_clauses(text: str, clauses: list[Clause]) -> list[float]:
    """Raw score of every clause of ``text``; a contrast clause without sentiment words after
    praise names a drawback ("外观很漂亮，就是续航有点短"): at most ``IMPLIED_DRAWBACK_VALUE``."""
    raws = []
    praised = thanked = False
    question_after = _QUESTION_AFTER.match
    for clause in clauses:
        clause_text = clause.text
        # (_is_followed_by_question_mark inlined: this loop runs for every clause)
        followed = question_after(text, clause.start + len(clause_text)) is not None
        lexicon, raw = clause_parts(clause_text, followed)
        if praised and clause.role == "contrast" and lexicon <= 0.0 and not is_inquiry(clause_text):
            raw = min(raw, IMPLIED_DRAWBACK_VALUE)
        praised = praised or raw > 0
        thanked = thanked or clause_text in POLITE_THANKS
        raws.append(raw)
    if thanked and len(raws) > 1:
        raws = _polite_thanks_after_request(clauses, raws)
    return raws


def analyze_sentiment(text: str | None, raw_text: str | None = None) -> SentimentAnalysis:
    """Score ``text`` overall and per clause. ``raw_text`` (the uncleaned original) is only
    read for emoji and exclamation intensity; defaults to ``text``."""
    if not text or text.isspace():
        text = ""
    clauses = split_clauses(text)
    raws = score_clauses(text, clauses)
    scored = tuple(ScoredClause(clause, raw) for clause, raw in zip(clauses, raws))
    weights = clause_weights(clauses)
    if len(raws) > 1 and min(raws) <= -UNMARKED_TURN_MIN and max(raws) >= UNMARKED_TURN_MIN:
        weights = unmarked_turn_weights(clauses, raws, weights)  # only a text with both sides
    total = sum(map(operator.mul, weights, raws))
    deferred = ("再" in text or "观察" in text or "不评" in text) and _DEFERRAL.search(text) is not None
    if not deferred and len(text) > REVIEW_MIN_CHARS:
        share, evidence = review_signals(text, clauses)
        if share:
            total = total * (1.0 - REVIEW_CLAUSE_YIELD * share) + REVIEW_WEIGHT * share * evidence
    if total and deferred:
        total *= DEFERRAL_FACTOR
    emoji_part, exclamation_multiplier = raw_text_intensity(text if raw_text is None else raw_text)
    total = (total + emoji_part) * exclamation_multiplier
    score = round(squash(total), 4)
    if score == 0:
        score = 0.0  # no "-0.0"
    return SentimentAnalysis(score, label_for(score), scored)


def score_sentiment(text: str | None, raw_text: str | None = None) -> tuple[float, str]:
    """(score in [-1, 1], label in negative/neutral/positive) for one text."""
    analysis = analyze_sentiment(text, raw_text)
    return analysis.score, analysis.label
