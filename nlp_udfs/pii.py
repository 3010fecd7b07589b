"""Mask personal data in free text.

The masker looks for shapes, not for one spelling, because customers write numbers every way:

1. e-mail -> ``[EMAIL]``: ``@`` or ``＠`` (or ``(at)`` / ``[at]`` / ``艾特``), spaces around it,
   ``.`` ``。`` ``．`` ``点`` between the domain's labels (``a @ qq。com``); a big provider may
   stand without its top-level domain (``li@qq``, ``li@163``). First, because
   ``13800138000@163.com`` is an address, not a phone.
2. digit runs: digits (ASCII, full-width, Chinese ``〇零一二三四五六七八九幺两``, the radio
   alphabet ``洞`` 0 ``拐`` 7 ``勾`` 9, financial ``壹贰叁肆伍陆柒捌玖``) joined by up to three
   separators (space, ``-`` ``.`` ``/``, dashes, full-width and ideographic forms, brackets, commas
   and ``、``), with ``+86`` / ``0086`` / ``86`` in front (and a trunk ``0`` after it).
   A run is classified by its digits alone, whatever the grouping:

   - mobile, 11 digits ``1[3-9]…`` -> ``138****8000`` (``[PHONE]`` with ``full_redaction``);
   - ID card, 18 digits (or 17 + ``X``) or 15 digits with a province code and a calendar date
     where the birth date sits, whatever the check digit -> ``[ID]``;
   - bank card, 16-19 digits starting like a card network (3/4/5/6/9), no Luhn requirement;
     any 15-19 digits after a card word (卡号, 银行卡, 信用卡 ...) -> ``[CARD]``;
   - landline, ``0`` + area code + 7-8 digits (``021 1234 5678``, ``(0755)8765-4321``, with an
     extension) -> ``021-****5678`` (``[TEL]``); 7-8 digits right after a phone word (电话,
     座机 ...) count as a landline without area code.

   After a phone word, a mobile split by words (``手机139，后面是0571，最后2468``) is masked
   group by group when its groups (3-4-4, 3-8, 7-4, 3-3-5, none followed by a unit such as
   元/次/分钟) make exactly a mobile's 11 digits. Digits glued to letters that say phone
   (``WeChat``, ``dh``, ``加V``) are a phone, not a code.

   A run that is not one of those as a whole is tried group by group (``电话13800138000 2``
   holds a phone and a quantity). Runs glued to Latin letters (``SF1380013800``, ``SKU-...``)
   are codes, and runs right after an order, tracking, SKU, barcode or invoice word
   (订单号, 运单, 快递单号, 条码 ...) are left alone up to the first comma, as are 400/800
   hotlines, dates, prices and amounts with thousands separators (``13,800,138,000``)
   (they never have a mobile's, ID's, card's or landline's shape). A 400/800 service number
   (10 digits, any grouping: ``4006-046-805``) is cut off the run before it is classified.

   Recall first: what is left of a run, 7-20 digits that no shape above recognises (a landline
   without area code, a mobile with a digit too many, a number typed one digit per token or
   over a line break), is masked as ``[NUMBER]`` unless it reads as not personal: a unit or a
   money sign around it, a date, a decimal, an IP address, letters right after it, or Chinese
   numerals with no word for a number before them. A mobile's extension goes with it.
3. street address -> ``[ADDRESS]``: a road, lane or estate with a house number, or a chain of
   administrative units down to a district, with the building / unit / room parts after it.
   A county-town address (县/镇/乡 then 村/屯/村委会, a 组) counts too, and after the house
   number a longer building name with its block (``和信商座A座``, ``家属楼5栋``) stays in the mask.
4. a name after a cue (我叫 / 姓名 / 联系人 / 收件人 / 投保人 / 户主 / 患者 ...), optionally
   with a verb (写成了 / 填的是 / 登记为), or after someone "叫" (我儿子叫, 店员叫): a surname
   (single or compound), then one or two characters, or surname + a title (先生/女士/老师 ...)
   -> ``[NAME]``. Right after a role (客户 / 顾客 / 业主 / 会员 ...) or an English cue
   (``my name is``, ``I'm``, ``Contact:``) the name must be closed by punctuation, a digit, a
   Latin letter or a verb (反映 / 投诉 / 说 / 在 ...), and common words (客户经理, 会员权益) are
   not names. Transliterated names (阿依古丽, 买买提·艾力) count after a cue or a role.

   Recall first: after any person noun (a word ending in 人/员/者/生/师/长/主/东/家/友/户/宝/
   孩/儿/客/官/工/警, or a cue or role above), optionally 叫/是/写的是/a colon/an opening quote,
   a surname and one or two characters closed by a boundary or a dictionary word are a name,
   and so is a full name with a title anywhere (温丽君老师). Jieba's dictionary vetoes words
   (钟点工, 任何, 名称). A bare surname with a title (张先生, 康师傅) is not a name: it stays.

Everything is matched on a same-length normalised copy of the text (digit forms -> ASCII,
separators -> one kind), so masks are spliced into the original at the same positions. As
before, full-width digits and ``＋`` ``－`` become half-width in the output.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

from nlp_udfs.names import find_names, is_word

_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+", "－": "-"})

_CHINESE_DIGITS = {
    "〇": "0", "零": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
    # the radio alphabet of numbers: 洞 0, 拐 7, 勾 9 (幺 and 两 above)
    "洞": "0", "拐": "7", "勾": "9",
    "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "叄": "3", "肆": "4", "伍": "5", "陆": "6", "陸": "6",
    "柒": "7", "捌": "8", "玖": "9",
}
_CHINESE_DIGIT_CHARS = frozenset(_CHINESE_DIGITS)
_SPACES = " \t\u3000\u00a0\n\r"  # a line break inside a number joins its groups too
_SEPARATORS = "-‐‑‒–—―−﹣－.．·・/／\\_~～"
# Same-length normalisation for matching: every digit form -> ASCII digit, every separator ->
# "-" (spaces -> " "), brackets -> "(" / ")", full-width ASCII letters and the e-mail punctuation -> ASCII.
_MATCH_TABLE = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | _CHINESE_DIGITS
    | {char: "-" for char in _SEPARATORS}
    | {char: " " for char in _SPACES}
    | {"(": "(", "（": "(", "[": "(", "【": "(", ")": ")", "）": ")", "]": ")", "】": ")"}
    | {"＋": "+", "＠": "@", "。": ".", "｡": ".", "，": ",", "、": ","}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)

# For e-mails: full-width letters, digits and punctuation -> ASCII, 。 and ． -> ".".
_EMAIL_TABLE = str.maketrans(
    {chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    | {"\u3000": " ", "。": ".", "｡": ".", "·": ".", "（": "(", "）": ")", "【": "[", "】": "]"}
)
_HAS_DIGIT = re.compile(r"[0-9]")

# ---- e-mail ------------------------------------------------------------------------------
_EMAIL_LOCAL = r"[A-Za-z0-9][A-Za-z0-9._%+\-]*"
_EMAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
_EMAIL_DOT = r"[ \t]?(?:\.|\(dot\)|\[dot\]| dot |点)[ \t]?"
# The big mail providers are recognised without their top-level domain: "123456@qq", "li@163".
_EMAIL_PROVIDER = r"(?:qq|163|126|139|188|yeah|sina|sohu|foxmail|aliyun|gmail|outlook|hotmail|yahoo|icloud)"
_EMAIL_TLD = r"(?:com|cn|net|org|edu|gov|info|biz|io|me|cc|co|hk|tw|mo|jp|uk|us|de|top|vip|xyz|ai|app|mobi)"
_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9._%+\-]){_EMAIL_LOCAL}"
    rf"(?:[ \t]{{0,2}}@[ \t]{{0,2}}{_EMAIL_LABEL}(?:{_EMAIL_DOT}{_EMAIL_LABEL})*{_EMAIL_DOT}[A-Za-z]{{2,10}}"
    rf"|@{_EMAIL_PROVIDER}(?![A-Za-z0-9.@])"
    rf"|[ \t]?(?:\(at\)|\[at\]|\{{at\}}|<at>|\(@\)| at |#|艾特|圈a)[ \t]?{_EMAIL_LABEL}(?:{_EMAIL_DOT}{_EMAIL_LABEL})*{_EMAIL_DOT}{_EMAIL_TLD})"
    r"(?![A-Za-z0-9])",
    re.I,
)

# ---- digit runs --------------------------------------------------------------------------
# On the normalised text: digits, joined by up to three separators ("-", space-like were mapped
# to "-") or brackets; at least 7 digits; an optional country code in front and X at the end.
_RUN = re.compile(
    r"(?<![0-9])"
    r"(?:\+[-(]{0,2}|\(\+?)?"
    r"[0-9](?:[-() ,]{0,3}[0-9]){6,}"
    r"(?:[- ]{0,2}[Xx](?![A-Za-z]))?"
)
_GROUP = re.compile(r"[0-9]+|[Xx]")
_MAX_GROUPS = 24  # a 19-digit card written one digit per token, with a few spare

_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)
_CARD_FIRST_DIGITS = "34569"
_AREA = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})")

_NEAR_MISS_BEFORE = re.compile(
    r"(?:订单|單號|单号|运单|快递|物流|包裹|编号|編號|货号|貨號|条码|條碼|条形码|型号|批号|批次|工单|流水|交易号|交易单|"
    r"发票|發票|序列号|SN|S/N|IMEI|imei|sku|SKU|Sku|商品|货品|退货单|售后单|服务单|会员号|会员卡号|积分|券码|兑换码|"
    r"验证码|取件码|提货码|房间号|航班|车次|车牌|版本|尾号|价格|金额|合计|共计|售价|原价|¥|￥|代码|编码|"
    r"中通|圆通|申通|韵达|顺丰|极兔|邮政|EMS|德邦|京东|ISBN|isbn|支付|账单|批准文号|追踪号|跟踪号|"
    r"邮件|税号|识别号|信用代码|备案号|许可证|凭证|保单|合同|票号|商户号|设备号|序号|串号|门店|店铺|退款)"
    r"(?:[号碼码]|编号|号码|代码|编码|单号|ID|id|No)?[\s:：#是为為.-]{0,3}(?:[A-Za-z]{1,4}[\s-]?)?$"
)
_PHONE_WORD_BEFORE = re.compile(r"(?:电话|電話|座机|座機|固话|固話|手机|手機|tel|TEL|Tel|热线)[号码碼]{0,2}[\s:：是为-]{0,3}$")
_CARD_WORD_BEFORE = re.compile(r"(?:卡号|卡號|银行卡|銀行卡|信用卡|储蓄卡|借记卡|这张卡|卡)[号码碼]{0,2}[\s:：是为-]{0,3}$")
# Letters that say "phone" (also in pinyin initials: dh 电话, sj 手机; 加V for WeChat).
_LETTER_LEADS_OK = re.compile(
    r"(?:tel|phone|mobile|mob|cell|wx|vx|wechat|weixin|whatsapp|call|contact|sms|dh|sj|(?<![!-~])v)"
    r"(?:\s*(?:no|num|number)\.?)?[\s:.\-_/#]*$",
    re.I,
)
_LOOKBEHIND = 12
_EXTENSION = re.compile(r"(?:-{1,3}|[- ]{0,3}(?:转|分机|ext\.?|x)[- :：]{0,3})[0-9]{1,5}(?![0-9])", re.I)


def is_valid_id_card(number: str) -> bool:
    """True when an 18-character mainland ID number has a valid check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11] == number[17].upper()


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by bank card numbers."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_bank_card(digits: str) -> bool:
    """16-19 digits starting like a card network; the check digit is not required."""
    return 16 <= len(digits) <= 19 and digits.isdigit() and digits[0] in _CARD_FIRST_DIGITS


def _calendar_date(month: str, day: str) -> bool:
    return "01" <= month <= "12" and "01" <= day <= "31"


def looks_like_id_card(number: str) -> bool:
    """18 characters (17 digits + digit or X) or 15 digits: a province code and a birth date
    where they belong. The check digit is deliberately not checked."""
    if number[:2] not in _PROVINCES:
        return False
    if len(number) == 18:
        return (
            number[:17].isdigit()
            and (number[17].isdigit() or number[17] in "Xx")
            and number[6:8] in ("18", "19", "20")
            and _calendar_date(number[10:12], number[12:14])
        )
    if len(number) == 15:
        return number.isdigit() and _calendar_date(number[8:10], number[10:12])
    return False


def _classify(digits: str, *, plus: bool, card_word: bool, phone_word: bool) -> str | None:
    """The kind of PII a run of digits (and a final X) is: phone, id, card, tel or None."""
    if digits[-1] in "Xx":
        return "id" if looks_like_id_card(digits) else None
    length = len(digits)
    national = digits
    if digits.startswith("0086"):
        national = digits[4:]
    elif digits.startswith("86") and length in (13, 12, 11) and (plus or length == 13):
        national = digits[2:]
    elif digits.startswith("860") and length == 14 and plus:
        national = digits[2:]
    if national is not digits:
        if national.startswith("0"):
            national = national[1:]  # a trunk 0 after the country code: +86 (0)21 ..., +86 0139 ...
        if len(national) == 11 and national[0] == "1" and national[1] in "3456789":
            return "phone"
        if 9 <= len(national) <= 11 and _AREA.match("0" + national):
            return "tel"
        return None
    if length == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "phone"
    if length == 12 and digits.startswith("01") and digits[2] in "3456789":
        return "phone"  # trunk 0 in front of a mobile
    if length in (15, 18) and looks_like_id_card(digits):
        return "id"
    if looks_like_bank_card(digits) or (card_word and 15 <= length <= 19):
        return "card"
    if 10 <= length <= 12 and digits[0] == "0":
        area = _AREA.match(digits)
        if area and 7 <= length - area.end() <= 8 and digits[area.end()] != "0":
            return "tel"
    if phone_word and 7 <= length <= 8 and digits[0] in "2345678":
        return "tel"
    return None


def _mask_for(kind: str, digits: str, full_redaction: bool) -> str:
    if kind == "num":
        return "[NUMBER]"
    if kind == "id":
        return "[ID]"
    if kind == "card":
        return "[CARD]"
    if kind == "phone":
        return "[PHONE]" if full_redaction else f"{digits[-11:-8]}****{digits[-4:]}"
    if full_redaction:
        return "[TEL]"
    national = digits
    if digits.startswith("0086") or digits.startswith("86"):
        national = digits[4:] if digits.startswith("0086") else digits[2:]
        national = national if national.startswith("0") else "0" + national  # +86 (0)21 / +86 21
    area = _AREA.match(national) if national.startswith("0") else None
    local = national[area.end():] if area else national
    prefix = f"{area.group(0)}-" if area else ""
    return f"{prefix}{'*' * (len(local) - 4)}{local[-4:]}"


def _groups(norm: str, original: str, start: int, end: int) -> list[tuple[int, int]]:
    """Digit groups of a run: split at separators and where the script changes (ASCII digits
    vs Chinese numerals), so that ``第一13800138000`` can be cut after ``一``."""
    groups = []
    for match in _GROUP.finditer(norm, start, end):
        g_start = match.start()
        previous = original[g_start] in _CHINESE_DIGIT_CHARS
        for index in range(g_start + 1, match.end()):
            chinese = original[index] in _CHINESE_DIGIT_CHARS
            if chinese != previous:
                groups.append((g_start, index))
                g_start, previous = index, chinese
        groups.append((g_start, match.end()))
    return groups


def _context(norm: str, start: int) -> tuple[bool, bool, bool]:
    """(near-miss word before, card word before, phone word before) the run at ``start``."""
    before = norm[max(0, start - _LOOKBEHIND):start]
    if not before:
        return False, False, False
    return (
        _NEAR_MISS_BEFORE.search(before) is not None,
        _CARD_WORD_BEFORE.search(before) is not None,
        _PHONE_WORD_BEFORE.search(before) is not None,
    )


def _glued_to_a_code(norm: str, original: str, start: int) -> bool:
    """``SF1380013800``, ``SKU-13800138000``: digits glued to Latin letters (directly or by ``-``
    ``_`` ``.`` ``/`` ``#``) are a code, unless the letters say phone (``tel``, ``vx`` ...)."""
    if start == 0:
        return False
    before = norm[start - 1]
    if not (before.isascii() and before.isalpha()):
        if not (start > 1 and original[start - 1] in "-_./#" and norm[start - 2].isascii() and norm[start - 2].isalpha()):
            return False
    return _LETTER_LEADS_OK.search(norm[max(0, start - 16) : start]) is None


def _find_numbers(norm: str, original: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, digits) of every PII number in the text."""
    found: list[tuple[int, int, str, str]] = []
    for run in _RUN.finditer(norm):
        start, end = run.span()
        groups = _groups(norm, original, start, end)
        plus = "+" in norm[start:start + 3]
        near_miss, card_word, phone_word = _context(norm, start)
        if near_miss or _glued_to_a_code(norm, original, start):
            # the code or order number ends at the first comma: "运单号 7730…，13800138000"
            cut = _after_first_comma(norm, groups)
            if cut is None:
                continue
            groups = groups[cut:]
            plus = card_word = phone_word = False
        if _machine_address(norm, original, groups):
            continue  # 192.168.10.254: an IP address, not a phone
        hotline = _hotline_groups(norm, groups)
        if hotline:  # 4006-046-805: a service line, never a person's number
            groups = groups[hotline:]
            plus = card_word = phone_word = False
        if len(groups) > _MAX_GROUPS:
            groups = groups[:_MAX_GROUPS]
        hits = _classify_groups(norm, groups, 0, len(groups), plus, card_word, phone_word)
        if hits and len(groups) >= _MIN_PERSONAL_DIGITS and all(b - a == 1 for a, b in groups):
            covered = sum(len(digits) for _, _, _, digits in hits)
            if covered < len(groups):  # 1 8 6 2 0 4 4 7 1 3 9 9: one number typed digit by digit
                digits = "".join(norm[a:b] for a, b in groups)
                found.append((groups[0][0], groups[-1][1], "num", digits))
                continue
        found.extend(hits)
        found.extend(_unrecognised(norm, original, groups, hits))
    return found


# ---- recall first: a long digit run nobody recognised is masked unless shown not personal --------
# 7+ digits can identify a person (a landline without area code, a phone with a typo, a card or
# ID missing a digit). Such a run is masked as [NUMBER] unless its shape shows what else it is.
_MIN_PERSONAL_DIGITS = 7
_MAX_PERSONAL_DIGITS = 20  # longer runs are serials, payment ids and e-invoices
# A unit, a time or a quantity right after the digits: 1500000元, 2000000次, 12345678ml, 10:30.
_QUANTITY_AFTER = re.compile(
    r"[ ]?(?:[元块圆次个件天年月日号周岁%‰℃°位分秒时点万亿千百米斤克吨倍台箱瓶份张页字条行人多余+:：]|"
    r"(?i:ml|l\b|g\b|kg|mg|gb|mb|kb|tb|km|cm|mm|m\b|w\b|kw|mah|hz|px|rmb|usd|cny|pcs))"
)
_MONEY_BEFORE = re.compile(
    r"(?:[¥￥$€£]|rmb|RMB|CNY|第|共|约|近|价|额|值|排名|版本|[Vv]|No\.?|NO\.?|#|"
    r"量|数|粉丝|阅读|播放|点赞|浏览|销量|库存|余额|积分|总计|合计|累计|达到|超过|突破|高达)[为是了达到:： ]{0,2}$"
)
_EXTENSION_AFTER_PHONE = re.compile(r"(?:-{1,3}|[ ]{0,2}(?:转|分机|ext\.?)[ :：]{0,2})[0-9]{1,5}(?![0-9])", re.I)


_NUMERAL_CUE = re.compile(r"电话|電話|手机|手機|座机|固话|号码|號碼|号|卡|证|联系|微信|打|拨|call|phone|tel", re.I)


def _a_date(norm: str, groups: list[tuple[int, int]]) -> bool:
    """2024-10-01, 2024.10.01 10, 20241001: a year (19xx/20xx) then month and day."""
    first = norm[groups[0][0]:groups[0][1]]
    if len(groups) >= 2 and len(first) == 4 and first[:2] in ("19", "20"):
        rest = [norm[a:b] for a, b in groups[1:]]
        return all(len(part) <= 2 for part in rest[:2])
    digits = "".join(norm[a:b] for a, b in groups)
    return len(digits) in (8, 12, 14) and digits[:2] in ("19", "20") and _calendar_date(digits[4:6], digits[6:8])


def _unrecognised(norm, original, groups, hits):
    """(start, end, "num", digits) for each stretch of the run's groups outside ``hits`` that
    holds 7-20 digits and does not read as an amount, a quantity, a date or a serial."""
    covered = [any(a <= g_start < b for a, b, _, _ in hits) for g_start, _ in groups]
    spans = []
    index = 0
    while index < len(groups):
        if covered[index]:
            index += 1
            continue
        end = index
        while end + 1 < len(groups) and not covered[end + 1]:
            end += 1
        stretch = groups[index:end + 1]
        index = end + 1
        digits = "".join(norm[a:b] for a, b in stretch)
        if not (_MIN_PERSONAL_DIGITS <= len(digits) <= _MAX_PERSONAL_DIGITS):
            continue
        start, stop = stretch[0][0], stretch[-1][1]
        if _QUANTITY_AFTER.match(norm, stop) or _MONEY_BEFORE.search(norm, max(0, start - 6), start):
            continue
        if _a_date(norm, stretch) or _thousands(norm, stretch, 0, len(stretch) - 1):
            continue
        if stop < len(norm) and norm[stop].isascii() and norm[stop].isalpha():
            continue  # 91440300MA5F2K8X3Q: digits running into letters are a code
        if len(stretch) == 2 and norm[stretch[0][1]:stretch[1][0]] == "-" and original[stretch[0][1]] in ".．":
            continue  # 23866.3765: a decimal number
        if len(stretch) >= 3 and "." in original[start:stop] and all(b - a <= 3 for a, b in stretch):
            continue  # 192.168.1.100, 1.2.3.4567: an address of a machine or a version
        if not any(original[a].isdigit() for a, _ in stretch) and not _NUMERAL_CUE.search(norm, max(0, start - 12), start):
            continue  # 一二三四五六七: numerals alone are a number only after a word for one
        spans.append((start, stop, "num", digits))
    return spans


def _machine_address(norm: str, original: str, groups: list[tuple[int, int]]) -> bool:
    """Four groups of 1-3 digits joined by single dots: 192.168.10.254."""
    if len(groups) != 4 or any(b - a > 3 for a, b in groups):
        return False
    return all(original[groups[i][1]:groups[i + 1][0]] in (".", "．") for i in range(3))


def _after_first_comma(norm: str, groups: list[tuple[int, int]]) -> int | None:
    """Index of the first group after a comma between groups, or None."""
    for index in range(1, len(groups)):
        if "," in norm[groups[index - 1][1]:groups[index][0]]:
            return index
    return None


def _thousands(norm: str, groups: list[tuple[int, int]], first: int, last: int) -> bool:
    """``13,800,138,000``: groups joined by bare commas, three digits each after the first, are
    one amount written with thousands separators, not a dictated number."""
    if first == last:
        return False
    for index in range(first + 1, last + 1):
        if norm[groups[index - 1][1]:groups[index][0]] != "," or groups[index][1] - groups[index][0] != 3:
            return False
    return groups[first][1] - groups[first][0] <= 3


def _hotline_groups(norm: str, groups: list[tuple[int, int]]) -> int:
    """How many leading groups of a run make a 400/800 service number (10 digits), or 0."""
    digits = ""
    for index, (a, b) in enumerate(groups[:4]):
        digits += norm[a:b]
        if len(digits) >= 10:
            return index + 1 if len(digits) == 10 and digits[:3] in ("400", "800") else 0
    return 0


def _classify_groups(norm, groups, lo, hi, plus, card_word, phone_word):
    """The PII numbers among ``groups[lo:hi]``: the longest span of whole groups first, then
    recursively left and right of it."""
    for size in range(hi - lo, 0, -1):
        for first in range(lo, hi - size + 1):
            last = first + size - 1
            digits = "".join(norm[a:b] for a, b in groups[first:last + 1])
            if len(digits) < 7 or _thousands(norm, groups, first, last):
                continue
            if first == lo and lo == 0:
                kind = _classify(digits, plus=plus, card_word=card_word, phone_word=phone_word)
            else:
                kind = _classify(digits, plus=False, card_word=False, phone_word=False)
            if kind is None:
                continue
            if kind == "card" and not luhn_valid(digits):
                last = _luhn_valid_head(norm, groups, first, last) or last
                digits = "".join(norm[a:b] for a, b in groups[first:last + 1])
            span_start = groups[first][0]
            if first == 0 and lo == 0:
                span_start = _prefix_start(norm, span_start)
            span_end = groups[last][1]
            if kind in ("tel", "phone"):
                extension = (_EXTENSION if kind == "tel" else _EXTENSION_AFTER_PHONE).match(norm, span_end)
                if extension:
                    span_end = extension.end()
                    if last + 1 < hi and groups[last + 1][0] < span_end:
                        last += 1  # the extension was the next group of the run
            hit = (span_start, span_end, kind, digits)
            return (
                _classify_groups(norm, groups, lo, first, plus, card_word, phone_word)
                + [hit]
                + _classify_groups(norm, groups, last + 1, hi, False, False, False)
            )
    return []


def _luhn_valid_head(norm, groups, first, last) -> int | None:
    """A card number needs no valid check digit, but when the run is longer than a card and a
    head of it is a card with a valid one (``6228 4800 1234 5671 12元``), the tail is not part
    of it: the last group of that head, or None."""
    for head_last in range(last - 1, first - 1, -1):
        if norm[groups[head_last][1]] != " ":
            return None  # "6214-8371-1047-0444-035" is one number however its head checks
        digits = "".join(norm[a:b] for a, b in groups[first:head_last + 1])
        if len(digits) < 16:
            return None
        if looks_like_bank_card(digits) and luhn_valid(digits):
            return head_last
    return None


# A mobile split by words: "139，后面是0571，最后2468", "手机139 然后 0571 2468". Only after a
# word that says phone, and only when the groups (3-8 digits each, a few words apart within one
# sentence) make exactly a mobile's 11 digits.
_PHONE_CUE = re.compile(r"电话|電話|手机|手機|号码|號碼|联系方式|联系|微信|致电|打|拨|call|phone|mobile|tel", re.I)
_DIGITS = re.compile(r"[0-9]+")
_SPLIT_GAP = re.compile(r"(?:[^0-9。！？!?；;\n]|[0-9](?=位)){1,8}")  # 后四位 reads 后4位
_SPLIT_GAP_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z]")
_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SPLITS = {(3, 4, 4), (3, 8), (7, 4), (3, 3, 5)}  # how people break a mobile when dictating
# A group followed by a unit is a quantity (135分钟, 1280元), not part of a number.
_UNIT_AFTER = re.compile(r"[元块次个件天号米斤岁年月日周%位分秒小公单张台箱瓶份]|毛|角|小时|公里")


def _split_mobiles(norm: str, original: str, taken: list[tuple[int, int]], full_redaction: bool):
    """(start, end, mask) of each digit group of a mobile split by words."""
    groups = [m.span() for m in _DIGITS.finditer(norm) if 3 <= m.end() - m.start() <= 8]
    spans: list[tuple[int, int, str]] = []
    index = 0
    while index < len(groups):
        match = _split_mobile_at(norm, groups, index, taken)
        if match is None:
            index += 1
            continue
        chosen = groups[index:match]
        digits = "".join(norm[a:b] for a, b in chosen)
        position = 0
        for a, b in chosen:
            if full_redaction:
                spans.append((a, b, "[PHONE]"))
            else:  # 139****2468 spread over the groups
                spans.append((a, b, "".join(
                    digits[position + k] if position + k < 3 or position + k >= 7 else "*" for k in range(b - a)
                )))
            position += b - a
        index = match
    return spans


def _split_mobile_at(norm, groups, index, taken) -> int | None:
    """The end index of groups[index:end] that make a mobile split by words, or None."""
    start = groups[index][0]
    if any(a < groups[index][1] and start < b for a, b in taken) or _context(norm, start)[0]:
        return None
    if start and norm[start - 1].isascii() and norm[start - 1].isalpha():
        return None
    digits = norm[start:groups[index][1]]
    cue = _PHONE_CUE.search(norm, max(0, start - 10), start) is not None
    worded = False
    for end in range(index + 1, min(index + 4, len(groups))):
        gap_start, gap_end = groups[end - 1][1], groups[end][0]
        if not _SPLIT_GAP.fullmatch(norm, gap_start, gap_end):
            return None
        worded = worded or _SPLIT_GAP_WORD.search(norm, gap_start, gap_end) is not None
        cue = cue or _PHONE_CUE.search(norm, gap_start, gap_end) is not None
        digits += norm[groups[end][0]:groups[end][1]]
        if len(digits) > 11 or _context(norm, groups[end][0])[0]:
            return None
        if len(digits) == 11:
            lengths = tuple(b - a for a, b in groups[index:end + 1])
            ok = worded and cue and _MOBILE.fullmatch(digits) is not None and lengths in _MOBILE_SPLITS
            ok = ok and not any(_UNIT_AFTER.match(norm, b) for a, b in groups[index:end + 1])
            ok = ok and not any(a < groups[end][1] and groups[index][0] < b for a, b in taken)
            ok = ok and not (groups[end][1] < len(norm) and norm[groups[end][1]].isascii() and norm[groups[end][1]].isalpha())
            return end + 1 if ok else None
    return None


def _prefix_start(norm: str, start: int) -> int:
    """Take a ``+`` / ``(`` right before the first group into the mask."""
    while start > 0 and norm[start - 1] in "+(":
        start -= 1
    return start


# ---- addresses and names -------------------------------------------------------------------
_CN = "\u4e00-\u9fff"
# Characters that never start a place name: verbs and particles around an address.
_NOT_PLACE_START = "在住是到寄送发往给从于为我你他她的了和与及或把被请帮麻烦地址收货件邮寄搬家就也还都去来回写填改"
_PLACE = rf"[{_CN}](?<![{_NOT_PLACE_START}])[{_CN}0-9]{{0,7}}?"
# Addresses are matched on the text with full-width digits made ASCII and Chinese numerals kept
# (四川省 is a place, 一百二十号 a house number).
_ADDRESS_TABLE = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"－": "-", "‐": "-", "–": "-", "—": "-"})
_CN_NUMERALS = "〇零一二三四五六七八九十百两"
_NUM = rf"(?:[0-9]{{1,5}}|[{_CN_NUMERALS}]{{1,6}})(?:-[0-9]{{1,5}}){{0,3}}"  # 12, 12-3-1203, 一百二十
_ADMIN = rf"(?:{_PLACE}(?:省|自治区|特别行政区|市|自治州|地区|盟|区|县|旗|镇|乡|街道|开发区|新区))"
_ROAD = rf"(?:{_PLACE}(?:路|街|大道|大街|巷|弄|胡同|里|道|公路|环路))"
_ESTATE = rf"(?:{_PLACE}(?:小区|花园|家园|公寓|大厦|广场|苑|园|庭|府|城|村委会|居委会|村|新村|屯|社区|中心|大楼|宿舍|院))"
_UNIT = r"(?:号院|号楼|号门|号|弄|栋|幢|座|单元|楼|层|室|户|排|组|区|期|段|门|舍)"
_HOUSE = rf"(?:(?:{_NUM}|[A-Za-z]{{1,2}}[0-9]{{0,3}}){_UNIT})"
# Inside an address, after a road or an estate, 写字楼 / 收发室 / 地下室 are buildings: only the
# verbs and particles that end an address stop a building name.
_NOT_HOUSE_START = "在住是到寄送发往给从于为我你他她的了和与及或把被请帮麻烦就也还都去来回电"
# A building named freely ("星河国际7幢", "办公楼1座", "东塔907"): a few characters, a number.
_NAMED_HOUSE = rf"(?:[{_CN}A-Za-z](?<![{_NOT_HOUSE_START}，。])[{_CN}A-Za-z]{{0,5}}? ?(?:{_HOUSE}|{_NUM}(?![0-9])))"
# A crossing of two roads, where a place is given without a number: 花园路与农业路交叉口东北角.
_CROSSING = rf"(?:[与和]{_ROAD})?(?:交叉口|交汇处|交界处|路口)(?:[东西南北]{{1,2}}(?:角|侧))?"
# A longer building name after a house number ("和信商座A座", "电子科大家属楼5栋"): up to 11
# characters, then a house written with ASCII digits or letters and a unit.
_LONG_NAMED_HOUSE = (
    rf"(?:[{_CN}A-Za-z](?<![我你他她的了在是])[{_CN}A-Za-z]{{0,10}}?"
    rf"(?:[0-9]{{1,5}}(?:-[0-9]{{1,5}}){{0,3}}|[A-Za-z]{{1,2}}[0-9]{{0,3}}){_UNIT})"
)
_ADDRESS = re.compile(
    rf"{_ADMIN}{{0,4}}"
    rf"(?:{_ROAD}(?:{_NUM}段)?(?:{_NUM}(?:号|弄|號)|{_ESTATE}|{_HOUSE})|{_ESTATE}{_HOUSE}|{_ADMIN}(?<=区|县|旗|镇|乡|道)(?:{_ROAD}|{_ESTATE}))"
    rf"(?:{_ROAD}|{_ESTATE}|{_HOUSE}|{_CROSSING}|{_NAMED_HOUSE}|{_LONG_NAMED_HOUSE}|[-#][0-9]{{1,5}})*"
    rf"(?:{_NUM}(?![0-9])|[A-Za-z]{{1,2}}-?[0-9]{{1,5}}(?:-[0-9]{{1,5}}){{0,2}})?"
)
# Cheap scans of the raw text that say whether a step can find anything at all. Every address
# the pattern above accepts contains one of these cores (a road and a number, a number and a
# unit, an estate and a number or letter, a district/town then a road or estate).
_DIGIT_LIKE = "0-9０-９〇零一二三四五六七八九幺两洞拐勾壹贰貳叁參叄肆伍陆陸柒捌玖"
_ROAD_END = "路街巷弄道里"
_ESTATE_LAST = "区园寓厦场苑庭府城会村屯心楼舍院"  # last characters of the _ESTATE words
_ADDRESS_HINTS = tuple(
    re.compile(pattern)
    for pattern in (
        rf"[{_ROAD_END}][{_DIGIT_LIKE}十]{{1,5}}[号弄號段]",
        rf"[{_DIGIT_LIKE}][号弄栋幢座元室组楼层户区期舍]",
        rf"[{_ESTATE_LAST}][{_DIGIT_LIKE}A-Za-zＡ-Ｚ]",
        rf"[区县旗镇乡路街巷弄][^\s，。,！？!?]{{0,8}}?[路街道巷弄同{_ESTATE_LAST}]",
    )
)
_DIGIT_RUN_HINT = re.compile(rf"[{_DIGIT_LIKE}](?:[^{_DIGIT_LIKE}]{{0,3}}[{_DIGIT_LIKE}]){{6,}}")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "萧蔺阙郦邰訾阚乜聂晁仝逯闻薄寿燕冀郏邴蒯鞠荆竺权桓盖庾暨璩濮滑荀羿储嵇宓郗钭厉戎郜韶宿胥莘逄扶堵宰雍扈"
    "茹宦慎衡弘匡禄殳蔚夔厍鄢傅洪赖郁阎禹伏谈茅强裘芮井富巴牧班封惠屠索鄂危宣钮汲糜浦幸苍廉奚贝皮湛狄冼揭"
    "杭笪庹谌粟翦仉佴缑隆冒晋粱靖拓冶戈谯钦帅蓟楚"
)
_COMPOUND_SURNAMES = (
    "欧阳|司马|诸葛|上官|东方|皇甫|尉迟|公孙|慕容|长孙|宇文|司徒|夏侯|令狐|端木|南宫|轩辕|独孤|钟离|呼延|赫连|澹台|"
    "申屠|公羊|万俟|闻人"
)
# Characters that end a name: particles, verbs and words that follow a name in a sentence.
_NOT_IN_NAME = "的在想要是了啊呢吧电手号联系我你他她说和跟从请麻烦收寄地址住家人工客服打给到上下者兴么个们真很非常太也还都就会能可以不没有被让，。"
# After a word that announces a name (姓名, 联系人 ...) almost anything is a name: only particles
# and verbs end it. After 我是 most things are not, so the longer list above applies there.
_NOT_IN_ANNOUNCED_NAME = "的了是在和与及电手号码联系您你我他她想要说请问买退换打来去给到住从跟对把被就也还都很太不没有吗呢吧啊哦嗯上下"


# Words between the cue and the name: 姓名写成了X, 收件人填的是X, 名字登记为X.
_NAME_VERB = (
    r"(?:(?:写|填|登记|更正|改|签|留)(?:写|的)?(?:成了|成|作|为|的是|是)?|是叫|叫做|应为|应该是|是|为|叫)"
)
_TITLES = "先生|女士|小姐|老师|师傅|阿姨|经理"


def _name_pattern(lead: str, stop: str) -> str:
    given = rf"[{_CN}](?<![{stop}])"
    return (
        rf"(?:{lead})(?!(?<=叫)[车醒])[\s:：]{{0,3}}(?:{_NAME_VERB}了?)?[\s:：]{{0,2}}"
        rf"((?:{_COMPOUND_SURNAMES}|(?![{stop}])[{_SURNAMES}])(?:{_TITLES}|{given}(?:{given})?))"
    )


# Words that announce a name: a person's role on a form, ticket or parcel (收件人, 持卡人 ...).
_ANNOUNCING_LEADS = (
    "我叫|我的名字|名字|姓名|名叫|全名|称呼|联系人|收件人|收货人|签收人|寄件人|取件人|提货人|领取人|户名|账户名|开户名|"
    "持卡人|乘车人|乘机人|乘客|旅客|入住人|开户人|订票人|购票人|预订人|预约人|报名人|登记人|申请人|投保人|被保险人|"
    "受益人|经办人|办理人|就诊人|患者|实名|署名|落款|法人|法定代表人|户主|监护人|代理人|委托人|收款人|付款人|汇款人|"
    "下单人|订购人|购买人|承租人|借款人|担保人|签名|[Nn]ame"
)
# Someone's name said in passing: 我是X (the stricter stop list applies) and 我儿子叫X, 店员叫X
# (what follows 叫 is a name as surely as after 姓名).
_PERSON_LEADS = "我是(?:业主|车主|客户|顾客|买家|会员|用户|租户|家长|学员)?"
_CALLED_LEADS = (
    "(?:我|他|她|儿子|女儿|孩子|小孩|宝宝|闺女|孙子|孙女|外孙|侄子|侄女|老公|老婆|丈夫|妻子|媳妇|爱人|对象|男朋友|"
    "女朋友|妈妈|爸爸|父亲|母亲|爷爷|奶奶|外公|外婆|姥姥|姥爷|婆婆|公公|朋友|同学|同事|室友|邻居|店员|导购|客服|师傅|"
    "快递员|快递小哥|骑手|配送员|司机|经理|店长|柜员|收银员|服务员|营业员|前台|保安|技师|医生|护士|老师|教练)"
    "(?:的名字)?叫(?!了)"
)
# A form field: a role word ending like 填写人 / 业主 / 顾客 / 投诉人 that starts the text or a
# clause (not the end of an @nickname: "//@爱吃草莓的打工人:"), then a colon.
_FIELD_LEAD = rf"(?<![{_CN}@A-Za-z0-9_])[{_CN}]{{0,3}}[人主客户者员][:：]"
# A name transliterated from Uyghur, Kazakh, Tibetan or Mongolian (阿依古丽, 买买提·艾力, 扎西次仁)
# has no Han surname: 3-6 characters of those transcriptions, or two parts joined by a dot.
_TRANSLITERATION = (
    "阿艾爱买麦吐努热古丽依迪拉娜尔江提木汗尼扎克孜斯巴合曼帕夏米玛伊亚沙托肉哈力甫吾布库穆罕默德则再加旦"
    "玉素祖菲然瓦卜都不逊西卓格桑央金多吉姆旺堆达索朗普白次仁措乌兰其苏和图雅宝音那额敦琴日勒朝鲁敖珍平曲洛增"
)
_TRANSLITERATED = rf"[{_TRANSLITERATION}]{{2,5}}[·•・][{_TRANSLITERATION}]{{2,5}}|[{_TRANSLITERATION}]{{3,6}}"
_NAME = re.compile(
    _name_pattern(rf"{_ANNOUNCING_LEADS}|{_CALLED_LEADS}", _NOT_IN_ANNOUNCED_NAME)
    + "|"
    + _name_pattern(rf"{_PERSON_LEADS}|本人|{_FIELD_LEAD}", _NOT_IN_NAME)
)
_NAME_HINT_WORDS = rf"{_ANNOUNCING_LEADS}|叫|我是|本人|[人主客户者员][:：]"  # every lead holds one of these
# The first characters of those words, in a lookahead: re tries the alternation only there.
_NAME_HINT_FIRST = "".join(sorted({word[1] if word.startswith("[") else word[0] for word in _NAME_HINT_WORDS.split("|")}))
_NAME_HINT = re.compile(rf"(?=[{_NAME_HINT_FIRST}人主客户者员n])(?:{_NAME_HINT_WORDS})")

# A role that a name follows directly, with nothing between (顾客王丽反映, 业主房立新，, 客户端木清):
# the words after such a role are mostly not names (客户经理, 业主群, 顾客至上, 客户明天来), so
# the name must end where a clause or a typical verb begins, and common words that start with a
# surname character are never names.
_ROLE_LEADS = (
    "客户|顾客|用户|业主|会员|买家|车主|租户|租客|房东|住户|学员|家长|病人|游客|访客|投诉人|当事人|负责人|对接人|"
    "专员|顾问|管家|店员|店长|导购|客服|技师|司机|骑手|快递员|外卖员|师傅|同事|员工|工作人员|经理|主管|销售|"
    "业务员|推销员|营业员|收银员|服务员|保安|前台|医生|护士|律师|老师|班主任|教练|代表|老公|老婆|丈夫|妻子|爱人|"
    "儿子|女儿|孩子|宝宝|父亲|母亲|爸爸|妈妈|朋友|邻居|同学|联系"
)
# English cues in mixed-language feedback: "my name is 庞…", "I'm 刘…", "Contact person: 冉…".
_ENGLISH_LEADS = (
    r"(?<![A-Za-z])(?i:my\s+name\s+is|my\s+name's|name\s+is|i\s+am|i'm|i’m|this\s+is|it's|contact(?:\s+person|\s+name)?|"
    r"recipient|receiver|consignee|customer|client|attn\.?|name|dear|mr\.?|mrs\.?|ms\.?|miss|hi|hello|sender|"
    r"passenger|guest|buyer)(?![A-Za-z])"
)
_AFTER_A_NAME = (
    rf"(?=$|[^{_CN}]|反映|投诉|表示|来电|致电|打来|称|说|讲|问|要求|在|于|已经|因为|到店|去|来|打|拨|购买|买了|购|办|"
    rf"反馈|询问|咨询|想|希望|先生|女士|本人|下单|预约|订了|申请|提出|留言|评价|和|与|跟|对|给|让|把|从|电话|手机|联系|的)"
)
# Common words that start with a surname character and follow a role (客户曾经…, 会员权益…).
_NOT_A_NAME = (
    "曾经|明天|明年|明日|明确|明显|明白|明明|向来|时候|时间|时常|常常|全部|全都|全是|连续|连着|房间|房子|房屋|房产|"
    "房租|金额|钱款|东西|方面|方式|方便|高度|安全|安装|关系|关注|关怀|关于|管理|成功|成本|申请|申诉|车辆|车位|信息|"
    "应该|万一|于是|齐全|付款|付费|单位|单据|单价|余额|包裹|包装|路上|解决|何时|何必|何况|任何|许多|许久|周末|周边|"
    "周围|司机|宁可|权益|权限|权利|费用|文件|文化|康复|温度|毛病|程序|水平|习惯|宣传|成绩|成员|安排|包括|金卡|"
    "宁愿|龙头|于|和|向|与"
)
# After a role the given name may hold 家, 人 ... (顾家乐): the follower above closes it.
_ROLE_GIVEN = rf"[{_CN}](?<![{_NOT_IN_ANNOUNCED_NAME}们个么者真非常能可以会让人客服工收寄地址])"
_ROLE_NAME_PART = (
    rf"(?!{_NOT_A_NAME})"
    rf"((?:{_COMPOUND_SURNAMES}|(?![{_NOT_IN_NAME}])[{_SURNAMES}])(?:{_TITLES}|{_ROLE_GIVEN}(?:{_ROLE_GIVEN})?)"
    rf"|{_TRANSLITERATED}){_AFTER_A_NAME}"
)
# Two patterns: a literal alternation first (the Chinese roles) lets re skip ahead fast; the
# English cues, matched without case, run only on texts whose lower case holds one of them.
_ROLE_NAME = re.compile(rf"(?:{_ROLE_LEADS})(?![{_CN}]{{0,2}}(?:人员|们)){_ROLE_NAME_PART}")
_ROLE_LEAD = re.compile(_ROLE_LEADS)
# A parcel label: the name right before 收 (（王小明收）, "寄给 欧阳娜娜 收").
_RECEIVER = re.compile(
    rf"(?:(?<![{_CN}])|(?<=[给交寄]))((?:{_COMPOUND_SURNAMES}|[{_SURNAMES}]){_ROLE_GIVEN}(?:{_ROLE_GIVEN})?)"
    rf" ?(?:收|收件|收货|签收)(?=$|[^{_CN}])"
)
_ENGLISH_NAME = re.compile(rf"{_ENGLISH_LEADS}[\s:：,，-]{{0,3}}{_ROLE_NAME_PART}")
_ENGLISH_HINT = re.compile(
    r"name|i'm|i’m|i\s+am|this\s+is|it's|contact|recipient|receiver|consignee|customer|client|attn|dear|mr|ms|miss|hi|"
    r"hello|sender|passenger|guest|buyer"
)
_COMMON_WORD_MIN_FREQUENCY = 100


@functools.lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    """Words of jieba's dictionary (2-3 characters, frequency >= 100, not tagged as a person's
    name) that start with a surname character: 高端, 成绩, 石头 ... Right after a role such a word
    is what the role has or does, not a name. Read once, on the first role match."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    if not path.is_file():
        return frozenset()
    starts = set(_SURNAMES) | set(_COMPOUND_SURNAMES.replace("|", ""))
    words = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if (
                len(fields) == 3
                and 2 <= len(fields[0]) <= 3
                and fields[0][0] in starts
                and not fields[2].startswith("nr")
                and int(fields[1]) >= _COMMON_WORD_MIN_FREQUENCY
            ):
                words.add(fields[0])
    return frozenset(words)


_TWO_CHARACTER_WORD_MIN_FREQUENCY = 30
# Given names are rarely among the most frequent words: 客服连基本参数 is no 连基本.
_FREQUENT_WORD_MIN_FREQUENCY = 5000


@functools.lru_cache(maxsize=1)
def _dictionary_words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Two-character words of jieba's dictionary (frequency >= 30): (all of them, those not
    tagged as a person's name, those of these with frequency >= 5000). The first says where a
    cue runs into a word (师傅, 任何, 工单); the second what a candidate name really is (钟点,
    名称) or what follows one (态度, 今年); the third what no given name is (基本)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return frozenset(), frozenset(), frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    if not path.is_file():
        return frozenset(), frozenset(), frozenset()
    every, not_names, frequent = set(), set(), set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if len(fields) == 3 and len(fields[0]) == 2 and int(fields[1]) >= _TWO_CHARACTER_WORD_MIN_FREQUENCY:
                every.add(fields[0])
                if not fields[2].startswith("nr"):
                    not_names.add(fields[0])
                    if int(fields[1]) >= _FREQUENT_WORD_MIN_FREQUENCY:
                        frequent.add(fields[0])
    return frozenset(every), frozenset(not_names), frozenset(frequent)


_PERSON_TITLES = "先生|女士|小姐|太太|经理|老师|师傅|医生|护士|律师|主管|店长|总监|教练|大夫|同学|阿姨|叔叔|大姐|大哥|老板"


_FREQUENT_NAME_WORD_MIN_FREQUENCY = 300


@functools.lru_cache(maxsize=1)
def _frequent_name_words() -> frozenset[str]:
    """Two-character words that jieba tags as a name but that are frequent as words (荣耀 493,
    高峰 1556): a candidate starting with one needs a clear end (punctuation, a digit)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    if not path.is_file():
        return frozenset()
    with path.open(encoding="utf-8") as lines:
        return frozenset(
            fields[0]
            for fields in map(str.split, lines)
            if len(fields) == 3 and len(fields[0]) == 2 and fields[2].startswith("nr")
            and int(fields[1]) >= _FREQUENT_NAME_WORD_MIN_FREQUENCY
        )


# ---- names, recall first: any person noun, then a surname and one or two given characters -------
# The cue is any word for a person: one ending like 收件人 / 店员 / 患者 / 学生 / 老师 / 店长 /
# 业主 / 房东 / 管家 / 朋友 / 用户 / 宝宝 / 小孩 / 女儿 / 买家 / 考官 / 护工 / 民警, a role above
# or 我是; then optionally 叫 / 是 / 写 / a colon / an opening quote or bracket; then the name.
_PERSON_NOUN_END = "人员者生师长主东家友户宝孩儿客官工警妈爸哥姐弟妹爷奶婆叔姨舅嫂"
_CUE_GLUE = r"(?:叫做|名叫|叫|就是|是|写的是|写的|写成|写|填的是|填的|填|为|签的是)?"
_OPEN_QUOTE = re.escape("“「『【\"'《(（[〔")
_CLOSE_QUOTE = re.escape("”」』】\"'》)）]〕")
_GIVEN = rf"[{_CN}](?<![{_NOT_IN_ANNOUNCED_NAME}们个么者真非常能可以会让人客服工收寄地址名称])"
_TITLE_AT = re.compile(
    "先生|女士|小姐|太太|经理|老师|师傅|医生|护士|律师|主管|店长|总监|教练|大夫|同学|阿姨|叔叔|大姐|大哥|老板|总|工|姐|哥|叔|姨"
)
# The cue words that do not end like a person noun (those that do are found by their last
# character): 姓名, 联系, 经理, 司机 ...
_CUE_WORDS = "|".join(
    word for word in f"{_ROLE_LEADS}|{_ANNOUNCING_LEADS}|我是".split("|") if word[-1] not in _PERSON_NOUN_END
)
_CUE_FIRST = "".join(sorted({word[0] for word in _CUE_WORDS.split("|") if word[0] != "["} | set("Nn")))
# Two steps, for speed: a cue (a literal word, found from its first character, or a person
# noun's last character after a Han one), then the name right after it.
_CUE = re.compile(rf"(?=[{_CUE_FIRST}{_PERSON_NOUN_END}])(?:(?:{_CUE_WORDS})|(?<=[{_CN}])[{_PERSON_NOUN_END}])")
_CUED = rf"((?:{_COMPOUND_SURNAMES}|[{_SURNAMES}]){_GIVEN}(?:{_GIVEN})?|{_TRANSLITERATED})"
_AFTER_CUE = re.compile(rf"[{_CLOSE_QUOTE}]?[\s:：]{{0,2}}{_CUE_GLUE}[\s:：]{{0,2}}[{_OPEN_QUOTE}]?{_CUED}")
# ... with a few words before a verb (联系人一栏写的“…”): tried only when 写 / 填 / 叫 is near.
_AFTER_CUE_WORDS = re.compile(
    rf"[{_CLOSE_QUOTE}]?[\s:：]{{0,2}}[{_CN}]{{0,3}}?(?:写的是|写的|写成|填的是|填的|叫做|叫)[\s:：]{{0,2}}[{_OPEN_QUOTE}]?{_CUED}"
)
_VERB_NEAR = re.compile("[写填叫]")
# A form label and a colon at the start of a clause (寄件方：, 签字：): a name there must be closed
# by punctuation, a digit or the end. A name that opens a sentence, before a verb of reporting
# (李娜反映, 张三丰打电话).
_LABEL_NAME = re.compile(
    rf"(?:^|(?<=[，。！？；,.!?;\s]))[{_CN}]{{2,4}}[:：]\s{{0,2}}"
    rf"((?:{_COMPOUND_SURNAMES}|[{_SURNAMES}]){_GIVEN}(?:{_GIVEN})?)(?=$|[^{_CN}])"
)
_OPENING_NAME = re.compile(
    rf"(?:^|(?<=[，。！？；,.!?;\s]))((?:{_COMPOUND_SURNAMES}|[{_SURNAMES}]){_GIVEN}(?:{_GIVEN})?)"
    rf"(?=反映|投诉|来电|致电|打电话|打来|表示|要求|留言|反馈|称)"
)
_LABEL_OR_OPENING_GATE = re.compile(r"[:：]|反映|投诉|来电|致电|打电话|打来|表示|要求|留言|反馈|称")
# What may follow a name: not a Han character, a title, a verb or particle, or a dictionary word.
_NAME_FOLLOWER = re.compile(
    rf"$|[^{_CN}]|(?:{_PERSON_TITLES})"
    rf"|[的在是说和跟与对给让把被从向今请帮已也都就又还要想去来到找问打拨买办反投表称讲骂不没很太真人]"
)
# A full name with a title anywhere: 温丽君老师, 詹海龙师傅, 路婉婷女士 (two given characters:
# 宿管阿姨 is a job, not a person).
_FULL_NAME_TITLE = re.compile(
    rf"((?:{_COMPOUND_SURNAMES}){_GIVEN}(?:{_GIVEN})?|[{_SURNAMES}]{_GIVEN}{_GIVEN})"
    rf"(?:{_PERSON_TITLES})"
)


_NOT_A_PERSON_BEFORE = frozenset("没无有别每个些这那哪谁多少几啥众等让")
_COMPOUND_SURNAME_SET = frozenset(_COMPOUND_SURNAMES.split("|"))
_FUNCTION_CHARACTERS = frozenset("和于向与及把被在从对给让将就也都还又")


_TITLE_WORD = re.compile(rf"(?=[先女小太经老师医护律主店总教大同阿叔])(?:{_PERSON_TITLES})")


def _name_ok(text: str, start: int, end: int, *, word_start_ok: bool = True, verb_after: bool = False) -> bool:
    """A candidate name that is not a dictionary word (高端, 钟点工, 名称) and that its cue does
    not run into (师傅自己: 师傅 is a word; 任何通知: 任何 is)."""
    name = text[start:end]
    every, words, frequent = _dictionary_words()
    if name in _common_words() or (len(name) == 2 and name[0] == name[1]):
        return False
    if len(name) == 3 and (name in _common_words() or name[1:] in frequent):
        return False
    if name[0] in _FUNCTION_CHARACTERS:
        return False  # 本人和孩子, 顾客向店员: 和 and 向 are surnames but here they join words
    closed = end >= len(text) or not ("\u4e00" <= text[end] <= "\u9fff")  # punctuation, a digit, a quote
    surname = 2 if name[:2] in _COMPOUND_SURNAME_SET else 1
    if surname == 2:
        return not (start > 0 and text[start - 1:start + 1] in every)
    if name[:2] in words and not (len(name) == 3 and closed and word_start_ok):
        return False  # 钟点工阿姨, 金牌: a word; 甘露露【 stays a name
    if name[:2] in _frequent_name_words() and not closed and not verb_after:
        return False  # 王者荣耀皮肤: 荣耀 is a frequent word (tagged a name too) that runs on
    if start > 0 and text[start - 1:start + 1] in every:
        return False  # 师傅自己, 任何通知: the cue runs into the candidate
    if not closed and not verb_after and text[end - 1:end + 1] in words:
        return False  # 销售方名称: the candidate runs into the next word
    if _TITLE_AT.match(text, start + 1):
        return False  # 张先生, 康师傅, 王小姐: a surname with a title is not a full name
    return True


def _cued_names(text: str):
    """(start, end) of the names after a person noun: the given name is taken long (two
    characters) when a boundary closes it there, else short."""
    _, words, _ = _dictionary_words()
    for cue in _CUE.finditer(text):
        if cue.end() - cue.start() == 1 and text[cue.start() - 1] in _NOT_A_PERSON_BEFORE:
            continue  # 没人管, 有人说, 个人信息: not someone in particular
        if cue.end() - cue.start() == 1 and is_word(text[cue.start() - 1 : cue.end() + 1]):
            continue  # 石家庄: the person-noun ending is inside a longer word
        match = _AFTER_CUE.match(text, cue.end())
        if match is None and _VERB_NEAR.search(text, cue.end() + 1, cue.end() + 6):
            match = _AFTER_CUE_WORDS.match(text, cue.end())
        if match is None:
            continue
        start, end = match.span(1)
        compound = text[start:start + 2] in _COMPOUND_SURNAME_SET
        for stop in sorted({end, start + (3 if compound else 2)}, reverse=True):
            if stop > end:
                continue
            follower = _NAME_FOLLOWER.match(text, stop) or text[stop:stop + 2] in words
            if follower and _name_ok(text, start, stop):
                yield start, stop
                break


# A transliterated name after a word that announces one (姓名：阿依古丽, 联系人 买买提·艾力).
_ANNOUNCED_TRANSLITERATED = re.compile(
    rf"(?:{_ANNOUNCING_LEADS})[\s:：]{{0,3}}(?:{_NAME_VERB}了?)?[\s:：]{{0,2}}({_TRANSLITERATED}){_AFTER_A_NAME}"
)
# A surname with a title where no word runs into it: "王先生您好", "顾客刘女士反映", "找陈师傅".
# 经理/老师/师傅 ... make a name too: with the surname it points at one person.


# Gates: one character class each (a fast scan) before the slower hint or pattern.
_EMAIL_HINT = re.compile(r"[@＠#]|艾特|圈a|[Aa][Tt][\W_]")
_EMAIL_GATE = re.compile(r"[@＠#艾圈AaＡａ]")
_ADDRESS_GATE = re.compile(rf"[号弄號段栋幢座元室组楼层户期舍{_ESTATE_LAST}{_ROAD_END}同]")
_NAME_GATE = re.compile(r"[叫字名人是患乘旅落称Nn主客户者员]")  # a character of every _NAME_HINT word


def _role_names(text: str):
    """Matches of the names after a role, an English cue or before 收 (group 1 is the name).
    Each pattern runs only from where a cheap scan found its cue."""
    lead = _ROLE_LEAD.search(text)
    if lead:
        yield from _ROLE_NAME.finditer(text, lead.start())
    if _ENGLISH_HINT.search(text.lower()):
        yield from _ENGLISH_NAME.finditer(text)
    at = text.find("收")
    while at > 0:  # a parcel label: try the few places a name before 收 can start
        for start in range(max(0, at - 5), at - 1):
            match = _RECEIVER.match(text, start)
            if match and match.end(1) >= at - 1:
                yield match
                break
        at = text.find("收", at + 1)


def _splice(text: str, spans: list[tuple[int, int, str]]) -> str:
    if not spans:
        return text
    spans.sort()
    out, position = [], 0
    for start, end, replacement in spans:
        if end <= position:
            continue  # inside a mask already placed
        if start < position:
            start = position  # overlaps the previous mask: mask the rest too
            replacement = "" if out and out[-1] == replacement else replacement
        out.append(text[position:start])
        out.append(replacement)
        position = end
    out.append(text[position:])
    return "".join(out)


def mask_pii(text: str | None, *, full_redaction: bool = False) -> str:
    """Mask e-mails, ID cards, bank cards, mobiles, landlines, addresses and names;
    ``None`` -> ``''``."""
    if not text:
        return ""
    if not isinstance(text, str):
        text = str(text)
    spans: list[tuple[int, int, str]] = []
    norm = None
    if _EMAIL_GATE.search(text) and _EMAIL_HINT.search(text):
        email_norm = text.translate(_EMAIL_TABLE)
        for match in _EMAIL.finditer(email_norm):
            spans.append((match.start(), match.end(), "[EMAIL]"))
        if spans:
            # what is an e-mail is no longer a number, an address or a name
            norm = _splice(text.translate(_MATCH_TABLE), [(a, b, "~" * (b - a)) for a, b, _ in spans])
    if _DIGIT_RUN_HINT.search(text):
        norm = norm or text.translate(_MATCH_TABLE)
        unrecognised = []
        for start, end, kind, digits in _find_numbers(norm, text):
            (unrecognised if kind == "num" else spans).append((start, end, _mask_for(kind, digits, full_redaction)))
        if _PHONE_CUE.search(norm):
            split = _split_mobiles(norm, text, [(a, b) for a, b, _ in spans], full_redaction)
            spans.extend(split)
            unrecognised = [(a, b, m) for a, b, m in unrecognised if not any(a < d and c < b for c, d, _ in split)]
        spans.extend(unrecognised)
    if _ADDRESS_GATE.search(text) and any(hint.search(text) for hint in _ADDRESS_HINTS):
        address_norm = text.translate(_ADDRESS_TABLE)
        if spans:  # e-mails and numbers found above are not part of an address
            address_norm = _splice(address_norm, [(a, b, "~" * (b - a)) for a, b, _ in spans])
        for match in _ADDRESS.finditer(address_norm):
            spans.append((match.start(), match.end(), "[ADDRESS]"))
    if _NAME_GATE.search(text) and _NAME_HINT.search(text):
        for match in _NAME.finditer(text):
            group = 1 if match.group(1) else 2
            spans.append((match.start(group), match.end(group), "[NAME]"))
        for match in _ANNOUNCED_TRANSLITERATED.finditer(text):
            spans.append((match.start(1), match.end(1), "[NAME]"))
    for match in _role_names(text):
        if not _name_ok(text, match.start(1), match.end(1)):
            continue  # 常常: a doubled word; 高端, 成绩, 方名称: a word, not a name
        spans.append((match.start(1), match.end(1), "[NAME]"))
    for start, end in _cued_names(text):
        spans.append((start, end, "[NAME]"))
    for gate in _LABEL_OR_OPENING_GATE.finditer(text):  # try the few places a match can start
        if gate.group(0) in ":：":  # 寄件方：祁伟明; 备注：周末送 is no name: no word may start it
            for start in range(max(0, gate.start() - 4), gate.start() - 1):
                match = _LABEL_NAME.match(text, start)
                if match and _name_ok(text, match.start(1), match.end(1), word_start_ok=False):
                    spans.append((match.start(1), match.end(1), "[NAME]"))
                    break
        else:  # a verb of reporting closes a name opening a sentence (李娜反映)
            for start in range(max(0, gate.start() - 4), gate.start() - 1):
                match = _OPENING_NAME.match(text, start)
                if match and match.end(1) == gate.start() and _name_ok(text, match.start(1), match.end(1), verb_after=True):
                    spans.append((match.start(1), match.end(1), "[NAME]"))
                    break
    for start, end in find_names(text):  # round 5: names by likelihood and context (names.py)
        spans.append((start, end, "[NAME]"))
    for title in _TITLE_WORD.finditer(text):  # try the few places a full name before it can start
        for start in range(max(0, title.start() - 4), title.start() - 2):
            match = _FULL_NAME_TITLE.match(text, start)
            if match and match.end() == title.end() and _name_ok(text, match.start(1), match.end(1)):
                spans.append((match.start(1), match.end(1), "[NAME]"))
                break
    return _splice(text, spans)


# ---- raw payloads (quarantine samples) ------------------------------------------------------
SAFE_PAYLOAD_KEYS = frozenset(
    """
    response_id survey_id survey_name submitted_at updated_at created_at modified_at channel
    nps csat ces store_id product_sku order_id
    ticket_id status priority category assignee_team first_response_at solved_at
    satisfaction_rating at author_role
    review_id platform shop_id rating append_at has_images
    post_id published_at likes comments reposts is_repost followers verified
    tier home_store_id registered_at consent_analytics
    store_name region opened_at product_name product_line launched_at
    """.split()
)
"""Keys of the source contracts whose values are not personal data. A quarantine sample keeps
these (still run through :func:`mask_pii`); every other value is replaced by ``***``, whatever
its key: an allow-list, so a field a vendor adds tomorrow is masked until someone lists it."""
PAYLOAD_MASK = "***"
_SAFE_VALUE_CHARS = 80
_PAIR = re.compile(r'"([^"\\]{1,60})"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?[0-9]+(?:\.[0-9]+)?|true|false|null)')


def _mask_safe_string(value: str) -> str:
    masked = mask_pii(value, full_redaction=True)
    return masked if len(masked) <= _SAFE_VALUE_CHARS else masked[: _SAFE_VALUE_CHARS - 1] + "…"


def _mask_payload_value(value, key_is_safe: bool):
    if isinstance(value, dict):
        return {
            mask_pii(str(key), full_redaction=True)[:40]: _mask_payload_value(item, str(key) in SAFE_PAYLOAD_KEYS)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_payload_value(item, key_is_safe) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if not key_is_safe:
        return PAYLOAD_MASK
    if isinstance(value, (int, float)):
        return value
    return _mask_safe_string(str(value))


def mask_payload(payload: str | None) -> str:
    """A raw source line (quarantine) with only :data:`SAFE_PAYLOAD_KEYS` values left readable.

    JSON keeps its structure (keys, nesting, nulls and booleans); a line that is not valid JSON
    keeps the ``"key": value`` pairs of safe keys that can still be read from it, and says how
    long it was; anything else (a CSV row) becomes a note of its length and field count.
    """
    if payload is None:
        return ""
    text = str(payload)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    else:
        if isinstance(parsed, (dict, list)):
            masked = _mask_payload_value(parsed, False)
            return json.dumps(masked, ensure_ascii=False, separators=(", ", ": "))
    pairs = [_readable_pair(key, literal) for key, literal in _PAIR.findall(text) if key in SAFE_PAYLOAD_KEYS]
    if pairs:
        return "{" + ", ".join(pairs) + f", …}} (not valid JSON, {len(text)} characters)"
    if text.lstrip().startswith(("{", "[")):
        return f"(not valid JSON, {len(text)} characters)"
    return f"(not JSON: {len(text)} characters, {text.count(',') + 1} comma-separated fields)"


def _readable_pair(key: str, literal: str) -> str:
    """``"key": value`` of a safe key found in a line that is not valid JSON."""
    try:
        value = json.loads(literal)
    except ValueError:
        value = literal.strip('"')
    return f'"{key}": {json.dumps(_mask_payload_value(value, True), ensure_ascii=False)}'
