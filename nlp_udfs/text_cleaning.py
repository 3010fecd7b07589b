"""Normalise raw customer text before masking, scoring and tagging.

Choices worth knowing:

- ``@mentions`` and ``#topics#`` keep their words and lose the markers. The mentioned account
  or topic usually names the brand, shop, product or issue (``#某某品牌质量问题#``), which is
  signal; the ``@``/``#`` markers are platform syntax that would otherwise become tokens and
  split keywords. A topic is followed by a space so it stays its own phrase instead of
  gluing onto the next sentence. An ``@`` inside an e-mail address is left alone so that
  PII masking still sees the address.
- Full-width ASCII (``ＡＢＣ１２３＠``) becomes half-width so that numbers and addresses are
  masked and keywords match, except the Chinese sentence punctuation ``！，：；？（）``, which
  stays as it is because that is how Chinese text is written (and read in BI).
- Runs of the same punctuation collapse (``！！！`` -> ``！``, ``。。。`` -> ``。``); ``*`` is
  never collapsed because masked numbers use it. The raw text, not the cleaned one, is where
  the sentiment scorer reads exclamation and emoji intensity.
- Line breaks become a single space: the cleaned text is one line for BI tools; the clause
  splitter treats whitespace next to Chinese characters as a boundary, so nothing is lost.
"""

from __future__ import annotations

import html
import re

_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
# Tags that separate text visually: replace with a space, not with nothing.
_BLOCK_TAG = re.compile(r"</?(?:br|p|div|li|ul|ol|tr|td|th|h[1-6]|hr|table)\b[^<>]{0,1000}>", re.I)
_ANY_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:[\s/][^<>]{0,1000})?>")

_CONTROL_AND_ZERO_WIDTH = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u2060\ufeff]")

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_URL = re.compile(
    r"(?:https?://|www\.)" + _URL_CHARS + r"+"
    r"|(?<![A-Za-z0-9.])(?:t\.cn|dwz\.cn|url\.cn|b23\.tv|v\.douyin\.com|xhslink\.com)/[A-Za-z0-9_\-/]+",
    re.I,
)

_TOPIC = re.compile(r"#([^#\n]{1,60})#")
_LONE_HASH = re.compile(r"#")
# "@" of a mention: not preceded by an e-mail local-part character, followed by a name.
_MENTION_MARKER = re.compile(r"(?<![A-Za-z0-9._%+\-])@(?=[\w\u4e00-\u9fff])")

# Emoji and pictographs: the SMP emoji blocks, misc symbols and dingbats, stars/arrows
# block, misc technical (watch, hourglass), variation selectors, zero-width joiner,
# keycap combiner, tag characters (flag sequences).
EMOJI_PATTERN = re.compile(
    "["
    "\U0001F000-\U0001FAFF"
    "\u2600-\u27BF"
    "\u2B00-\u2BFF"
    "\u2300-\u23FF"
    "\uFE00-\uFE0F"
    "\u200D"
    "\u20E3"
    "\u3030\u303D\u3297\u3299"
    "\U000E0020-\U000E007F"
    "]+"
)

_KEEP_FULL_WIDTH = set("！，：；？（）")
_FULL_TO_HALF = {
    code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in _KEEP_FULL_WIDTH
}
_FULL_TO_HALF[0x3000] = 0x20  # ideographic space

# Classes of punctuation whose runs collapse to the first character of the run.
_PUNCT_RUN_CLASSES = ("!！", "?？", "。", ".", "，,", "、", "；;", "：:", "~～", "…", "—", "-", "=", "_", "·")
# One alternation over the classes (they share no character, so one pass equals one pass per class).
_PUNCT_RUN = re.compile(
    "|".join("[" + re.escape(chars) + "]{2,}" for chars in _PUNCT_RUN_CLASSES)
)
_ANY_PUNCT_PAIR = re.compile("[" + re.escape("".join(_PUNCT_RUN_CLASSES)) + "]{2}")
_WHITESPACE = re.compile(r"\s+")
_URL_HINT = re.compile(r"https?:|www\.|\.(?:cn|tv|com)/", re.I)


def strip_html(text: str) -> str:
    """Remove HTML comments and tags (block tags become spaces) and unescape entities."""
    if "<" in text:
        text = _HTML_COMMENT.sub(" ", text)
        text = _BLOCK_TAG.sub(" ", text)
        text = _ANY_TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
        # Escaped markup (&lt;br&gt;) is markup too once unescaped.
        if "<" in text:
            text = _BLOCK_TAG.sub(" ", text)
            text = _ANY_TAG.sub("", text)
    return text


def to_half_width(text: str) -> str:
    """Full-width ASCII letters, digits and symbols -> half-width (Chinese punctuation kept)."""
    return text.translate(_FULL_TO_HALF)


def remove_urls(text: str) -> str:
    if _URL_HINT.search(text) is None:
        return text
    return _URL.sub(" ", text)


def normalize_mentions_and_topics(text: str) -> str:
    """``#topic#`` -> ``topic ``, ``@name`` -> ``name`` (e-mail addresses untouched)."""
    if "#" in text:
        text = _TOPIC.sub(r"\1 ", text)
        text = _LONE_HASH.sub(" ", text)
    if "@" in text:
        text = _MENTION_MARKER.sub("", text)
    return text


def remove_emoji(text: str) -> str:
    if text.isascii():
        return text
    return EMOJI_PATTERN.sub("", text)


def collapse_punctuation(text: str) -> str:
    if _ANY_PUNCT_PAIR.search(text) is None:
        return text  # the common case: no two punctuation marks in a row, nothing to collapse
    return _PUNCT_RUN.sub(_first_of_run, text)


def _first_of_run(match: re.Match[str]) -> str:
    return match.group()[0]


def normalize_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def clean_text(text: str | None) -> str:
    """Clean one piece of customer text; ``None``/empty/whitespace-only -> ``''``.

    Order: HTML -> control characters -> half-width -> URLs -> mentions/topics -> emoji ->
    repeated punctuation -> whitespace. Half-width comes before URL removal so full-width
    URLs are caught; URLs go before mentions so ``@`` inside a URL is not touched.
    """
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if not text or text.isspace():
        return ""
    text = strip_html(text)
    text = _CONTROL_AND_ZERO_WIDTH.sub("", text)
    text = to_half_width(text)
    text = remove_urls(text)
    text = normalize_mentions_and_topics(text)
    text = remove_emoji(text)
    text = collapse_punctuation(text)
    return normalize_whitespace(text)
