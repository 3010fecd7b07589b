"""Chinese personal names by likelihood (issue 14, round 5).

A small model of what a Chinese name looks like, built once from jieba's dictionary (shipped in
the ``jieba`` package; nothing is downloaded):

- **given-name characters**: every word jieba tags ``nr`` (a person's name) that starts with a
  surname gives its other characters; their counts, against each character's weight in ordinary
  words (the dictionary's word frequencies), make a log-likelihood ratio per character. ``伟``,
  ``婉``, ``韬``, ``曦`` are far likelier in a given name than in text; ``绕``, ``开``, ``把`` are not.
- **surnames**: single (common and rare: 訾, 桂, 臧, 耿 ...) and compound (钟离, 南宫 ...).
- **context**: what stands left of the candidate (a person noun: a list of occupations, family and
  roles, plus any dictionary noun ending like one: 理发师, 配送员, 班主任) and right of it (the end,
  punctuation, a title, or a word jieba tags as a verb, adverb, preposition, conjunction or
  particle), or a sentence that opens with the candidate and a comma.

A candidate is a surname and one or two given characters that is not itself an ordinary word;
its score is the given characters' ratio plus the context evidence, and it is a name when the
score passes :data:`THRESHOLD` (chosen on dev, see devtools/pii_eval/README.md). A bare surname
with a title (张先生, 康师傅) is never a candidate. Names written in pinyin after an English cue
(``My name is Liu Xinyi``) are found by a pinyin surname list and a capitalised given name.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
from pathlib import Path

SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴"
    "霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑"
    "景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
    "萧蔺阙郦邰訾阚乜晁仝逯闻薄寿燕冀郏邴蒯鞠荆竺权桓盖庾暨璩濮滑荀羿储嵇宓郗钭厉戎郜韶宿胥莘逄扶堵宰雍扈"
    "茹宦慎衡弘匡禄殳蔚夔厍鄢傅洪赖郁阎禹伏谈茅强裘芮井富巴牧班封惠屠索鄂危宣钮汲糜浦幸苍廉奚贝皮湛狄冼揭"
    "杭笪庹谌粟翦仉佴缑隆冒晋粱靖拓冶戈谯钦帅蓟楚植栗亓昝蹇习鹿满郇"
)
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 南宫 轩辕 独孤 钟离 呼延 赫连 澹台 "
    "申屠 公羊 万俟 闻人 太史 东郭 西门 百里 拓跋 鲜于 左丘 第五 公冶 濮阳 淳于 单于 仲孙 漆雕 乐正".split()
)
# Surnames that are mostly function words (本人和孩子, 顾客向店员, 于是): a name only with a
# person noun before it and a clear end after it.
WEAK_SURNAMES = frozenset("和于向与及把被在从对给让将就也都还又时全成明文连高安方万常应师商谈管单解查车金石关包")

FUNCTION_SURNAMES = frozenset("和于向与及把被在从对给让将就也都还又")  # ... and never before a word

# Person nouns: occupations, family and roles. Any dictionary noun ending in one of PERSON_ENDS
# counts too (理发师, 配送员, 班主任, 营业员).
PERSON_WORDS = frozenset(
    """
    导游 护士 司机 中介 服务员 理发师 医生 老师 配送员 快递员 外卖员 骑手 客服 店员 店长 导购 经理 主管 销售 保安 前台
    技师 师傅 教练 律师 会计 收银 收银员 营业员 柜员 专员 顾问 管家 物业 保洁 阿姨 护工 月嫂 保姆 厨师 大夫 主任 院长
    校长 班主任 助教 队长 组长 领班 空姐 空乘 乘务员 列车员 售票员 安装工 维修工 工程师 设计师 美容师 按摩师 咨询师
    老公 老婆 丈夫 妻子 媳妇 爱人 对象 男友 女友 男朋友 女朋友 儿子 女儿 孩子 小孩 宝宝 闺女 孙子 孙女 外孙 侄子
    侄女 妈妈 爸爸 父亲 母亲 爷爷 奶奶 外公 外婆 姥姥 姥爷 婆婆 公公 岳父 岳母 哥哥 姐姐 弟弟 妹妹 表哥 表姐 表弟
    表妹 老妈 老爸 我妈 我爸 我哥 我姐 我弟 我妹 朋友 同学 同事 室友 邻居 老板 老板娘 房东 租客 租户 业主 车主 户主
    客户 顾客 用户 会员 买家 卖家 商家 学员 学生 家长 病人 患者 游客 乘客 旅客 访客 员工 工作人员 负责人 对接人
    联系人 收件人 收货人 寄件人 签收人 取件人 本人 委托人 代理人 监护人 当事人 投诉人 法人
    """.split()
)
# Verbs whose object is a person: 感谢钟离晓峰, 表扬孟庆华, 投诉陶文斌.
PERSON_VERBS = ("感谢", "谢谢", "多谢", "表扬", "夸夸", "投诉", "举报")
PERSON_ENDS = frozenset("师员生士工长主人手医警官姐哥嫂姨叔婆爷奶妈爸友")
TITLES = (
    "先生", "女士", "小姐", "太太", "经理", "老师", "师傅", "医生", "护士", "律师", "主管", "店长", "总监", "教练",
    "大夫", "同学", "阿姨", "叔叔", "大姐", "大哥", "老板", "总", "工", "姐", "哥", "叔", "姨", "队", "科",
)
_PERSON_TITLES = tuple(title for title in TITLES if len(title) > 1)
# A name is closed by these (a particle, preposition, an adverb or a common verb of feedback).
CLOSERS = frozenset("的了在是说和跟与对给让把被从向今请帮已也都就又还要想去来到找问打拨买办反投表称讲骂不没很太真态")
_POS_CLOSING = ("v", "d", "p", "c", "u", "r", "m", "t", "f", "y")  # jieba tags that follow a name

THRESHOLD = 3.0  # score a candidate needs with a person noun before it (chosen on dev)
THRESHOLD_BARE = 6.5  # ... and without one (a sentence opening with the name, a verb after it)

_CN = re.compile(r"[\u4e00-\u9fff]")


def _dictionary_path() -> Path | None:
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    return path if path.is_file() else None


@functools.lru_cache(maxsize=1)
def _model() -> tuple[dict[str, float], dict[str, tuple[int, str]]]:
    """(log-likelihood ratio per given-name character, {word: (frequency, tag)} for words of
    2-4 characters)."""
    path = _dictionary_path()
    if path is None:
        return {}, {}
    given: dict[str, int] = {}
    text: dict[str, int] = {}
    words: dict[str, tuple[int, str]] = {}
    given_total = text_total = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split()
            if len(fields) != 3:
                continue
            word, frequency, tag = fields[0], int(fields[1]), fields[2]
            if 2 <= len(word) <= 4:
                words[word] = (frequency, tag)
            if tag == "nr":
                surname = 2 if word[:2] in COMPOUND_SURNAMES else 1 if word[0] in SURNAMES else 0
                rest = word[surname:]
                if surname and 1 <= len(rest) <= 2:
                    for character in rest:
                        given[character] = given.get(character, 0) + 1
                        given_total += 1
                continue  # a name's frequency says little about ordinary text
            for character in word:
                text[character] = text.get(character, 0) + frequency
                text_total += frequency
    ratio = {}
    for character in set(given) | set(text):
        ratio[character] = math.log((given.get(character, 0) + 0.5) / given_total) - math.log(
            (text.get(character, 0) + 50) / text_total
        )
    return ratio, words


def is_word(piece: str) -> bool:
    """``piece`` (2-4 characters) is a word of jieba's dictionary with frequency >= 30."""
    _, words = _model()
    return words.get(piece, (0,))[0] >= 30


def char_score(character: str) -> float:
    """How much likelier ``character`` is in a given name than in ordinary text (log ratio)."""
    ratio, _ = _model()
    return ratio.get(character, -2.0)


# What may stand between a person noun and the name: 联系人：X, 孩子叫X, 收件人写的X, 房东「X」.
_GLUE = re.compile(
    r"(?:的名字叫|名字叫|叫做|名叫|叫|就是|是|写的是|写的|写成了|写成|写|填的是|填的|填|为|登记的是|姓名|名字|全名|"
    r"[Nn]ame|[:：\s“「『【\"'《(（])+$"
)
_SAID = re.compile("(?:叫|是|一下)$")
_NOT_A_PERSON_BEFORE = frozenset("没无有别每个些这那哪谁多少几啥众等让")


def _is_person_before(text: str, start: int) -> bool:
    """A person noun (or a verb whose object is a person) ends at ``start``, perhaps followed by
    叫 / 是 / 写的 / a colon / an opening quote (the glue)."""
    if text[max(0, start - 2):start] in ("我叫", "名叫", "我是", "本人"):
        return True
    glue = _GLUE.search(text, max(0, start - 8), start)
    if glue:
        if re.search("名|[Nn]ame|我是|我叫", text[max(0, glue.start() - 2):start]):
            return True  # 姓名：X, 开户名：X, 名字叫X, Name: X, 我是业主X
        start = glue.start()
    _, words = _model()
    for length in (5, 4, 3, 2):
        if start - length < 0:
            continue
        word = text[start - length:start]
        if word in PERSON_WORDS:
            return True
        entry = words.get(word)
        if entry and entry[1].startswith("n") and not entry[1].startswith("nr") and word[-1] in PERSON_ENDS:
            return True
    if start >= 2 and text[start - 1] in "人员" and _CN.match(text[start - 2]) and text[start - 2] not in _NOT_A_PERSON_BEFORE:
        return True  # 入住人, 订餐人, 开票人: any word for a person ending like one
    if any(text.endswith(verb, 0, start) for verb in PERSON_VERBS):
        return True
    return False


def _closed_after(text: str, end: int) -> float:
    """Evidence that a name ends at ``end``: 2 for the end, punctuation or a title, 1.5 for a
    closing particle or a dictionary verb/adverb/... word, 0 otherwise."""
    if end >= len(text) or not _CN.match(text[end]):
        return 2.0
    if text.startswith(TITLES, end):
        return 2.0
    if text[end] in CLOSERS:
        return 1.5
    _, words = _model()
    for length in (4, 3, 2):
        entry = words.get(text[end:end + length])
        if entry and entry[1].startswith(_POS_CLOSING):
            return 1.5
    if char_score(text[end]) < 1.0:
        return 0.5  # the next character is one names rarely bear: the name has ended
    return 0.0


def _ordinary_word(name: str, person: bool) -> bool:
    """A candidate (or its first two characters) that is a common dictionary word: 王者, 马克,
    黄焖, 李子, 田园, 宋体; or one jieba tags as a name (温馨 335, 杨梅 67, 宁可 847), unless a
    person noun stands before it (服务员宁可欣)."""
    _, words = _model()
    for piece in {name, name[:2]}:
        entry = words.get(piece)
        if entry is None or len(piece) < 2:
            continue
        if entry[1] != "nr" and entry[0] >= (300 if person else 30):
            return True
        if entry[1] == "nr" and entry[0] >= 30 and not person:
            return True
    return False


def _candidates(text: str, start: int):
    """(surname length, given-name length) pairs for a name starting at ``start``."""
    if text[start:start + 2] in COMPOUND_SURNAMES:
        yield 2, 2
        yield 2, 1
    if text[start] in SURNAMES:
        yield 1, 2
        yield 1, 1


def score_at(text: str, start: int) -> tuple[int, float] | None:
    """(end, score) of a name starting at ``start``, or None. Of the candidates that something
    closes (surname + two given characters first, then one), the longest wins, unless its last
    character is one names rarely bear and the shorter one is closed by a word or punctuation."""
    _, words = _model()
    if (
        text.startswith(TITLES, start)
        or (start > 0 and words.get(text[start - 1:start + 1], (0,))[0] >= 30)
        or (start > 1 and words.get(text[start - 2:start + 1], (0,))[0] >= 30)
    ):
        return None  # 师傅明早: a title; 王者荣耀, 石家庄: the candidate starts inside a word
    person = _is_person_before(text, start)
    # 叫 / 是 / 的是 / 一下 alone (接待我们的叫X, 表扬一下X): weaker evidence than a person noun
    said = not person and _SAID.search(text, max(0, start - 2), start) is not None
    found = []
    for surname, given_length in _candidates(text, start):
        end = start + surname + given_length
        if end > len(text):
            continue
        given = text[start + surname:end]
        if not all(_CN.match(character) for character in given):
            continue
        if text.startswith(TITLES, start + surname):
            continue  # 张先生, 康师傅: a surname with a title names nobody in particular
        name = text[start:end]
        if surname == 1 and _ordinary_word(name, person):
            continue
        if name[-2] == name[-1] and char_score(name[-1]) < 1.5:
            continue  # 常常, 钱迟迟: doubled characters that names rarely bear
        scores = [char_score(character) for character in given]
        after = _closed_after(text, end)
        if not after:
            continue
        strong = person and after >= 1.5  # a person noun before, a word or punctuation after
        if not strong and (min(scores) < -1.0 or (given_length == 2 and scores[0] < -0.5 and scores[1] < 1.0)):
            continue  # a character names rarely bear: 绕, 开, 的 (一鸣, 天佑 need the strong context)
        if min(scores) < -3.0:
            continue  # 的, 了, 把: never in a name
        if given_length == 2 and text.startswith(_PERSON_TITLES, end):
            person = True  # 牛宝山师傅, 严振东先生: a full name with a title
        if surname == 1 and text[start] in WEAK_SURNAMES and (
            not (person and after >= 1.5) or (text[start] in FUNCTION_SURNAMES and words.get(given, (0, "nr"))[1] != "nr")
        ):
            continue  # 和, 于, 向 ... as surnames only with strong evidence (本人和朋友: a word)
        given_score = sum(scores) * (1.6 if given_length == 1 else 1.0)  # one character carries it all
        evidence = after + (2.0 if person else 1.0 if said else 0.0)
        opening = start == 0 or text[start - 1] in "，。！？；,.!?; \n"
        if opening and given_length == 2 and text[end:end + 1] in ("，", ","):
            evidence += 1.5  # 温可馨，你们家的客服…: a sentence that opens by naming someone
        found.append((end, given_score + evidence, person, opening, scores, after))
    if not found:
        return None
    end, score, person, opening, scores, after = found[0]
    if len(found) > 1 and len(scores) == 2 and scores[1] < 0 and found[1][5] >= 1.5:
        end, score, person, opening, scores, after = found[1]
    if (person or said) and score >= THRESHOLD:
        return end, score
    if opening and score >= THRESHOLD_BARE:
        return end, score
    return None


_PLAUSIBLE = 0.0  # a candidate needs one given character at least this name-like


# The characters that can stand right before a name the model accepts: the last character of a
# person noun, of a verb whose object is a person, of the glue, or punctuation (an opening).
_LEFT_OF_A_NAME = frozenset(
    {word[-1] for word in PERSON_WORDS}
    | {verb[-1] for verb in PERSON_VERBS}
    | PERSON_ENDS
    | set("人员叫是写的成了填为名字姓下") | set(":：“「『【\"'《(（[ \t") | set("eE")
    | set("，。！？；,.!?;\n")
)


@functools.lru_cache(maxsize=1)
def _candidate_start() -> re.Pattern[str]:
    """A surname followed within two characters by a name-like one (ratio >= _PLAUSIBLE): the
    scan runs in the regex engine, and only its hits are scored."""
    ratio, _ = _model()
    plausible = "".join(sorted(c for c, value in ratio.items() if value >= _PLAUSIBLE and "\u4e00" <= c <= "\u9fff"))
    starts = "".join(sorted(SURNAMES | {name[0] for name in COMPOUND_SURNAMES}))
    return re.compile(f"[{starts}](?=[{plausible}]|[\u4e00-\u9fff][{plausible}])")


def find_names(text: str) -> list[tuple[int, int]]:
    """(start, end) of the Chinese names in ``text`` (given by likelihood and context)."""
    spans: list[tuple[int, int]] = []
    position = 0
    candidate = _candidate_start()
    while True:
        match = candidate.search(text, position)
        if match is None:
            break
        start = match.start()
        if not (
            start == 0
            or text[start - 1] in _LEFT_OF_A_NAME
            or text.startswith(_PERSON_TITLES, start + 3)
            or text.startswith(_PERSON_TITLES, start + 4)
        ):
            position = start + 1
            continue  # no person noun, glue, verb or opening before it, no title after: skip it
        found = score_at(text, start)
        if found:
            spans.append((start, found[0]))
            position = found[0]
        else:
            position = start + 1
    return spans + find_pinyin_names(text)


PINYIN_SURNAMES = frozenset(
    """
    Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Gao Lin Luo Zheng Liang Xie Song Tang
    Han Feng Deng Cao Peng Zeng Xiao Tian Dong Yuan Pan Yu Jiang Cai Du Ye Cheng Su Wei Lv Lyu Ding Ren Shen Yao
    Lu Cui Zhong Tan Fan Jin Shi Liao Jia Xia Fu Fang Bai Zou Meng Xiong Qin Qiu Yin Xue Yan Duan Lei Hou Long Tao
    Mao Hao Gong Shao Wan Qian Dai Mo Kong Xiang Chang Wen Kang Niu Geng Ou Ouyang Sima Zhuge Shangguan Situ Qi Qiao
    Pang Ni Zhuang Nie Bao Ning Kou Ge Gu Mu Yue Zhai Yi Zhan Shu Ruan Ke Ji Mei Tong Ling Bi Shan Pei Huo
    """.split()
)
_PINYIN_NAME = re.compile(
    r"(?<![A-Za-z])(?i:my\s+name\s+is|my\s+name's|name\s*:|this\s+is|i\s+am|i'm|i’m|contact(?:\s+person)?\s*:?|"
    r"dear|mr\.?|mrs\.?|ms\.?|miss|attn\.?|recipient\s*:?|signed|regards,?|from)\s+"
    r"([A-Z][a-z]{1,7}(?:[ -]?[A-Z]?[a-z]{1,6})?\s+[A-Z][a-z]{1,9}(?:-?[a-z]{1,6})?)"
)


def find_pinyin_names(text: str) -> list[tuple[int, int]]:
    """Names in pinyin after an English cue: surname first (Liu Xinyi) or last (Xinyi Liu)."""
    spans = []
    if not re.search(r"[A-Z][a-z]", text):
        return spans
    for match in _PINYIN_NAME.finditer(text):
        first, _, last = match.group(1).rpartition(" ")
        if first.split()[0] in PINYIN_SURNAMES or last in PINYIN_SURNAMES:
            spans.append(match.span(1))
    return spans
