"""score_sentiment: lexicon, negation, degree, contrast, exclamation/emoji, sarcasm, labels."""


import math

import pytest

from nlp_udfs import clause_forms, sentiment, sentiment_words
from nlp_udfs.lexicon_files import read_lexicon_lines
from nlp_udfs.sentiment import (
    NEGATIVE_THRESHOLD,
    POSITIVE_THRESHOLD,
    analyze_sentiment,
    label_for,
    score_sentiment,
)
from nlp_udfs.sentiment_words import score_clause_raw


def score(text, raw_text=None):
    return score_sentiment(text, raw_text)[0]


def label(text, raw_text=None):
    return score_sentiment(text, raw_text)[1]


@pytest.mark.parametrize("value", [None, "", "   "])
def test_empty_is_neutral_zero(value):
    assert score_sentiment(value) == (0.0, "neutral")


def test_text_without_sentiment_words_is_neutral():
    assert score_clause_raw("我在周三下单了一件外套") == 0.0
    assert label("我在周三下单了一件外套") == "neutral"


def test_score_bounded_and_rounded():
    very_bad = "垃圾！！！太差了！！！非常失望😡😡😡" * 20
    value, lab = score_sentiment(very_bad)
    assert -1.0 <= value < -0.99 and lab == "negative"
    value, lab = score_sentiment("非常满意，超级好用，强烈推荐👍👍" * 20)
    assert 0.99 < value <= 1.0 and lab == "positive"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("物流很快,包装也不错", "positive"),
        ("快递太慢了,等了一个星期", "negative"),
        ("客服态度差，推诿", "negative"),
        ("给力，好评", "positive"),
        ("外箱破损，东西也摔坏了", "negative"),
        ("还行", "neutral"),
    ],
)
def test_basic_polarity(text, expected):
    assert label(text) == expected


# --- negation -------------------------------------------------------------------------------


def test_negated_negative_is_mildly_positive():
    assert label("慢") == "negative"
    assert label("不慢") == "positive"
    assert 0 < score("不慢") < score("快")


def test_strong_negation_of_negative():
    assert label("敷衍") == "negative"
    assert label("一点也不敷衍") == "positive"
    assert label("客服一点都不敷衍") == "positive"


def test_negation_with_words_in_between():
    assert label("用了半年没出过问题") == "positive"
    assert label("没有任何问题") == "positive"
    assert label("质量有问题") == "negative"


def test_softened_negation_is_weaker_than_full_negation():
    assert label("不太好") == "negative"
    assert score("不好") < score("不太好") < 0
    assert label("不是很满意") == "negative"
    assert score("不满意") < score("不是很满意")


def test_negated_positive_is_negative():
    assert label("不好用") == "negative"
    assert label("不专业") == "negative"
    assert label("不方便") == "negative"


def test_longest_match_beats_negator():
    # 不错 is one positive word, not 不 + 错; 不好意思 is politeness, not criticism
    assert label("不错") == "positive"
    assert label("不好意思，麻烦尽快处理") != "positive"
    assert score_clause_raw("不好意思") == 0.0
    # 快递 is not 快 (fast)
    assert score_clause_raw("快递到了") == 0.0


# --- degree ---------------------------------------------------------------------------------


def test_degree_words_scale():
    assert score("慢") > score("很慢") > score("太慢")
    assert score("有点慢") > score("慢")  # 有点 softens
    assert score("非常好") > score("好") > score("还行")


def test_hao_as_degree_before_negative_word():
    assert label("好慢") == "negative"
    assert score("好慢") < score("慢")


def test_post_degree_word():
    assert score("慢死了") < score("慢")
    assert score("差极了") < score("差")


# --- contrast -------------------------------------------------------------------------------


def test_contrast_later_clause_weighs_more():
    assert label("虽然物流很快，但是包装破了") == "negative"
    assert label("虽然价格贵，但是质量很好") == "positive"
    assert label("东西不错，就是物流慢") == "negative"
    assert label("包装有点简陋，可是东西很好") == "positive"
    assert label("物流快但是包装破了") == "negative"


def test_contrast_changes_the_result_compared_to_plain_sum():
    with_contrast = score("东西不错，但是物流慢")
    without_contrast = score("东西不错，物流慢")
    assert with_contrast < without_contrast


def test_clause_scores_are_per_clause():
    analysis = analyze_sentiment("物流挺快的,但是包装破了")
    labels = [item.label for item in analysis.clauses]
    assert labels == ["positive", "negative"]


# --- raw-text intensity ---------------------------------------------------------------------


def test_exclamation_in_raw_text_intensifies():
    assert score("太慢了！", raw_text="太慢了！！！！") < score("太慢了！", raw_text="太慢了")
    assert score("太慢了!!!") < score("太慢了")


def test_emoji_from_raw_text():
    assert label("收到了", raw_text="收到了👍👍") == "positive"
    assert label("收到了", raw_text="收到了😡") == "negative"
    assert score("还行", raw_text="还行😡") < score("还行")
    # an emoji in the text itself is read too
    assert label("👎👎") == "negative"


def test_emoji_variation_selector_ignored():
    assert label("", raw_text="") == "neutral"
    assert label("收到", raw_text="收到❤️") == "positive"


# --- sarcasm --------------------------------------------------------------------------------


def test_quoted_praise_is_sarcasm():
    assert label('真是"好"质量') == "negative"
    assert label("真是“好”质量，用一天就坏") == "negative"
    assert label("真是好质量") == "positive"


def test_sarcasm_markers_and_laughter():
    assert label("所谓的正品") == "negative"
    assert label("呵呵") == "negative"


# --- labels and lexicons --------------------------------------------------------------------


def test_thresholds_documented_values():
    assert POSITIVE_THRESHOLD == 0.25 and NEGATIVE_THRESHOLD == -0.25
    assert label_for(0.25) == "positive"
    assert label_for(0.2499) == "neutral"
    assert label_for(-0.25) == "negative"
    assert label_for(-0.2499) == "neutral"
    assert label_for(0.0) == "neutral"


def test_lexicons_have_a_few_hundred_entries_and_no_conflicts():
    words = {}
    for name in ("positive.txt", "negative.txt", "negations.txt", "degree.txt", "neutral.txt", "sarcasm.txt"):
        for row in read_lexicon_lines(name):
            assert row[0] not in words, f"{row[0]} in {name} and {words.get(row[0])}"
            words[row[0]] = name
    positives = read_lexicon_lines("positive.txt")
    negatives = read_lexicon_lines("negative.txt")
    assert len(positives) + len(negatives) >= 400
    assert all(float(weight) > 0 for _, weight in positives)
    assert all(float(weight) < 0 for _, weight in negatives)
    for domain_word in ("慢", "破损", "态度差", "推诿", "敷衍", "打不通"):
        assert domain_word in dict(negatives)
    for domain_word in ("好评", "给力", "耐心", "快"):
        assert domain_word in dict(positives)


def test_lexicon_index_is_built_once():
    assert sentiment_words._index() is sentiment_words._index()


def test_20000_character_text_is_scored():
    text = ("物流很快，但是包装破了，客服态度一点也不敷衍！" * 1000)[:20000]
    value, lab = score_sentiment(text)
    assert -1 <= value <= 1 and lab in {"positive", "negative", "neutral"}


# --- inquiries, requests and complaint questions (issue 3) ----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "请问好评返现的红包怎么领取",  # polar word as a topic
        "有人用过这个牌子吗，好用吗",  # yes/no question
        "下单前想确认一下是不是正品",  # A-not-A question, not negation
        "如果质量有问题能换新吗",  # condition
        "可以考虑多开几家门店",  # suggestion
    ],
)
def test_inquiries_with_polar_words_are_neutral(text):
    assert label(text) == "neutral"


def test_a_not_a_question_does_not_negate():
    assert score_clause_raw("是不是正品") > 0
    assert score_clause_raw("有没有优惠") > 0
    assert clause_forms.is_inquiry("这款耐不耐用")


@pytest.mark.parametrize(
    "text",
    ["我的快递怎么还没到", "为什么每次都要我自己去驿站拿", "到底什么时候给我处理？", "这质量也好意思卖这个价？",
     "难道我花钱就是为了受气吗", "能不能别再给我打推销电话了"],
)
def test_complaint_questions_are_negative(text):
    assert label(text) == "negative"


def test_question_mark_makes_a_cue_rhetorical():
    assert clause_forms.is_complaint_question("这就是你们说的品质保证", question=True)
    assert not clause_forms.is_complaint_question("这就是你们说的品质保证", question=False)
    assert label("这就是你们说的品质保证？") == "negative"


def test_inquiry_damping_is_lifted_by_a_complaint_cue():
    assert clause_forms.is_inquiry("请问还没发货的订单怎么处理")
    assert sentiment.score_clause("请问为什么还没发货") <= sentiment.RHETORICAL_QUESTION_VALUE


# --- comparative negation, implied drawback, counter-expectation ------------------------------


def test_comparative_negation_reaches_back_to_the_negator():
    assert label("并没有宣传的那么好用") == "negative"
    assert score_clause_raw("没有想象中那么惊艳") < 0
    assert score_clause_raw("想象中那么惊艳") > 0


def test_contrast_clause_without_sentiment_after_praise_is_a_drawback():
    analysis = analyze_sentiment("外观很漂亮，就是续航有点短")
    assert analysis.clauses[1].raw <= sentiment.IMPLIED_DRAWBACK_VALUE
    assert analysis.label != "positive"
    # ... unless the contrast clause only asks something
    assert label("东西不错，就是想问一下有没有大号") == "positive"
    # ... and not without earlier praise
    assert analyze_sentiment("就是续航有点短").clauses[0].raw > sentiment.IMPLIED_DRAWBACK_VALUE


def test_false_expectation_and_outcome():
    assert label("以为会很难用，结果上手很快") == "positive"
    assert label("说是真皮，结果是人造革") == "negative"
    assert label("一开始挺好用的，两个月后就开始漏水了") == "negative"


def test_comparison_and_resolution_words():
    assert label("比我想象的好太多了") == "positive"
    assert label("问题处理得很干脆") == "positive"
    assert label("按说明书安装好了，明天试试") == "neutral"


# --- the n-gram models and the neutral gate ------------------------------------------------


def test_neutral_gate_separates_requests_from_complaints():
    _, polar_request = sentiment.model_signals("麻烦帮我改一下收货地址")
    _, polar_complaint = sentiment.model_signals("等了五六天还没发货")
    assert polar_request < 0.5 < polar_complaint


def test_gate_scales_model_evidence_on_neutral_status():
    # a neutral status report: the polarity model alone would call it negative
    assert label("物流显示已到达本市转运中心") == "neutral"
    assert label("快递员上门取件了") == "neutral"


def test_clause_scores_are_cached_and_equal_uncached():
    sentiment.clause_parts.cache_clear()
    first = analyze_sentiment("物流很快，但是包装破了")
    second = analyze_sentiment("物流很快，但是包装破了")
    assert sentiment.clause_parts.cache_info().hits >= 2
    assert first == second
    uncached = sentiment.clause_parts.__wrapped__("物流很快", False)
    assert uncached == sentiment.clause_parts("物流很快", False)


def test_clause_roles_for_outcome_and_expectation():
    from nlp_udfs.clauses import split_clauses

    assert [c.role for c in split_clauses("说是真皮，结果是人造革")] == ["plain", "contrast"]
    assert [c.role for c in split_clauses("以为会很难用，结果上手很快")] == ["concession", "contrast"]
    # 后来 after a first impression is the turn (round 2: a contrast, it was plain)
    assert [c.role for c in split_clauses("一开始挺好用的，后来就坏了")] == ["concession", "contrast"]
    assert label("一开始挺好用的，后来就坏了") == "negative"


def test_comparison_gives_a_neutral_attribute_a_side():
    assert clause_forms.comparative_value("颜色比图片暗很多") == -clause_forms.COMPARATIVE_VALUE
    assert clause_forms.comparative_value("比预计的早了两天") == clause_forms.COMPARATIVE_VALUE
    assert clause_forms.comparative_value("会员价比非会员价还高") == -clause_forms.COMPARATIVE_VALUE
    assert label("屏幕比宣传的暗") == "negative"
    assert label("这一代比上一代轻不少") == "positive"


def test_comparison_ignores_other_uses_of_bi_and_higher_non_price():
    assert clause_forms.comparative_value("比较暗") == 0.0  # 比较 = "rather"
    assert clause_forms.comparative_value("性价比比别家高") == 0.0  # 性价比 is not a price
    assert clause_forms.comparative_value("质量比以前高") == 0.0  # only a price compared higher complains
    assert clause_forms.comparative_value("没有对比过") == 0.0
    assert label("性价比还挺高") == "positive"


def test_comparison_only_used_without_lexicon_sentiment():
    # 贵 is in the lexicon, so the lexicon (with its negation) decides, not the comparison.
    assert label("这次比上次贵") == "negative"
    assert label("比上次便宜") == "positive"


def test_not_used_yet_is_not_useless():
    assert label("还没用，等用一段时间再来评价") == "neutral"
    assert label("我还没用过这个功能") == "neutral"
    assert label("这东西根本没用") == "negative"


def test_same_as_elsewhere_is_lukewarm_not_bad():
    assert label("价格和其他店差不多") == "neutral"


def test_mildly_negative_contrast_after_praise_is_a_full_drawback():
    analysis = analyze_sentiment("送货很快，可惜要到付")
    assert analysis.clauses[1].raw <= sentiment.IMPLIED_DRAWBACK_VALUE


def test_shortfalls_and_silence_complain():
    assert label("电池用了半年只剩一半的续航") == "negative"
    assert label("充满电用了两个小时就关机了") == "negative"
    assert label("客服说帮我登记，之后就再没联系过我") == "negative"
    assert label("点了提交没有任何反应") == "negative"


def test_not_tired_is_praise_and_still_ok_is_lukewarm():
    assert label("走了一天脚也不累") == "positive"
    assert label("总体还可以") == "neutral"
    assert label("还可以，挺好用的") == "positive"


def test_inferiority_negates_the_praise_it_compares():
    assert label("不如上次买的好用") == "negative"
    assert label("效果不如以前") == "negative"  # 效果 is the compared subject, not praise
    assert label("虽然不如大牌，但是很好用") == "positive"


def test_plainly_yet_and_no_use_complain():
    assert label("明明签收了却说我没签收") == "negative"
    assert label("会员费交了也没什么用") == "negative"


def test_deferred_judgement_is_damped():
    assert label("还没到，到了再评价") == "neutral"
    assert abs(score("物流有点慢，用了再说")) < abs(score("物流有点慢"))
    assert label("太差了，到了三天就坏了") == "negative"


def test_request_for_a_small_favour_is_an_inquiry():
    assert clause_forms.is_inquiry("帮我备注一下放门口就行")
    assert not clause_forms.is_inquiry("帮我解决了问题")
    assert label("麻烦看看怎么到现在还没发货") == "negative"


def test_false_friends_of_sentiment_words_are_blocked():
    assert label("说下周到货") == "neutral"  # 周到 (thoughtful) inside 下周到货
    assert label("麻烦填一下满意度调查") == "neutral"
    assert label("好不容易才打通") != "positive"
    assert label("只好自己去驿站拿") == "negative"


def test_amounts_and_degrees_are_not_questions():
    assert not clause_forms.is_inquiry("等了好几天")
    assert not clause_forms.is_inquiry("没多久就坏了")
    assert not clause_forms.is_inquiry("不怎么好用")
    assert clause_forms.is_inquiry("几天能到")
    assert label("等了好几天") == "negative"
    assert label("不怎么好用") == "negative"


def test_pii_masks_are_not_read_by_the_models():
    assert sentiment.model_signals("我的手机号139****5678") == sentiment.model_signals("我的手机号")
    assert label("我的手机号139****5678，麻烦回个电话") == "neutral"


def test_having_to_ask_again_complains():
    assert clause_forms.repeated_contact_value("已经第三次提交工单了") == clause_forms.REPEATED_CONTACT_VALUE
    assert clause_forms.repeated_contact_value("催了好几次") == clause_forms.REPEATED_CONTACT_VALUE
    assert clause_forms.repeated_contact_value("第二次买了") == 0.0  # a repeat purchase
    assert label("打了五次电话") == "negative"
    assert label("这是第三次回购") == "positive"


def test_greetings_topic_headings_and_change_requests_are_neutral():
    assert label("客服你好，我想问下退款到哪了") == "neutral"
    assert label("发票问题：请把抬头改成个人") == "neutral"
    assert label("尺码不合适想换大一号") == "neutral"
    assert label("质量太差想退货") == "negative"


def test_no_effect_is_a_clear_complaint():
    assert score("没有效果") < score("没有优惠") < 0
    assert label("还是老样子，没什么效果") == "negative"
    assert label("效果不明显") == "negative"


def test_common_complaints_and_praise_the_lexicon_missed():
    for text in ("根本没法用", "偷工减料", "劝退", "勉强能用"):
        assert label(text) == "negative", text
    for text in ("不腥", "一点也不油腻", "玩游戏不卡", "无限回购", "这个真的yyds", "宝藏店铺"):
        assert label(text) == "positive", text


def test_final_complaint_after_praise_turns_the_text_without_a_contrast_word():
    assert label("外观挺好看的，用了三天就坏了") == "negative"
    # a near-neutral last clause is no complaint: the praise stands
    assert label("退货流程很简单，快递员上门取件") == "positive"
    # a complaint before praise does not turn (no contrast word, no weight change)
    from nlp_udfs.clauses import split_clauses

    clauses = split_clauses("用了三天就坏了，外观挺好看的")
    assert sentiment.unmarked_turn_weights(clauses, [-1.0, 1.0], [1.0, 1.0]) == [1.0, 1.0]


def test_never_again_complains():
    assert label("好到我再也不来了") == "negative"
    assert label("便宜没好货") == "negative"


def test_own_slips_and_no_hurry_are_neutral():
    assert label("颜色选错了，能改吗") == "neutral"
    assert label("今天刚收到，还没来得及试") == "neutral"
    assert label("不着急，慢慢来") == "neutral"
    assert label("发错货了") == "negative"  # the shop's slip is a complaint


def test_a_duration_before_cai_is_a_delay():
    assert clause_forms.late_value("快递在驿站放了三天才通知我") == clause_forms.LATE_VALUE
    assert clause_forms.late_value("一个星期才发货") == clause_forms.LATE_VALUE
    assert clause_forms.late_value("才用了三天") == 0.0
    assert label("下单一个星期才发货") == "negative"


def test_damage_loss_and_relief_words():
    assert label("收到的盒子是瘪的") == "negative"
    assert label("会员积分无故少了两千") == "negative"
    assert label("安装费多收了一百") == "negative"
    assert label("穿了一天脚也不疼") == "positive"
    assert label("质量怎么样还要用段时间才知道") == "neutral"


def test_neither_good_nor_bad_is_neutral():
    assert label("一般般吧，不好不坏") == "neutral"
    assert label("还行吧，就那样") == "neutral"


def test_good_de_after_a_degree_word_is_praise():
    assert label("虽然物流慢了点，东西还是很好的") == "positive"
    assert label("好的，收到") == "neutral"  # an acknowledgement


def test_value_and_decline_words():
    assert label("性价比不高") == "negative"
    assert label("没什么可挑剔的") == "positive"
    assert label("质量明显下降") == "negative"


def test_first_look_and_earlier_time_are_concessions_but_not_in_comparisons():
    from nlp_udfs.clauses import split_clauses

    assert [c.role for c in split_clauses("看着挺好，用起来不行")] == ["concession", "plain"]
    assert [c.role for c in split_clauses("以前挺好的，现在不行了")][0] == "concession"
    assert split_clauses("比以前好多了")[0].role == "plain"
    assert label("看着挺好，用起来不行") == "negative"
    assert label("比以前好多了") == "positive"


def test_thanks_closing_a_request_is_politeness():
    assert label("请帮我查一下物流，谢谢") == "neutral"
    assert label("请问有货吗？谢谢") == "neutral"
    assert label("退款收到了，谢谢") == "positive"  # thanks for something done
    assert label("谢谢你们的帮助") == "positive"


def test_the_present_after_a_concession_is_the_turn():
    from nlp_udfs.clauses import split_clauses

    assert [c.role for c in split_clauses("以前挺好的，现在不行了")] == ["concession", "contrast"]
    assert [c.role for c in split_clauses("物流很快，现在已经在用了")] == ["plain", "plain"]
    assert label("第一次买还不错，这次质量明显下降") == "negative"


# --- the whole-review model (issue 17, round 5) ---------------------------------------------


def _review_pair(weights: dict[str, float], gate_weights: dict[str, float] | None = None):
    from nlp_udfs.model import ModelPair, NgramModel

    gate = NgramModel(gate_weights or {}, 3.0)
    return ModelPair(NgramModel({}, 0.0), gate, NgramModel(weights, -0.5))


def test_text_logits_read_the_review_model_and_the_gate_in_one_pass():
    from nlp_udfs.model import ModelPair, NgramModel, char_ngrams

    review = NgramModel({"好看": 2.0, "失望": -3.0}, -0.5)
    gate = NgramModel({"好看": 0.5, "请问": -4.0}, 1.0)
    pair = ModelPair(NgramModel({"好看": 1.0}, 0.0), gate, review)
    text = "故事好看但结局让人失望请问"
    evidence, gate_logit = pair.text_logits(text)
    assert evidence == pytest.approx(review.logit(text))
    assert gate_logit == pytest.approx(gate.logit_of_ngrams(char_ngrams(text)))
    assert pair.text_logits("") is None and ModelPair(review, gate).text_logits(text) is None


def test_review_model_moves_long_reviews_only():
    long_review = ("这本书我读了两遍，情节安排得非常巧妙，人物也写得有血有肉，值得一读，推荐给喜欢推理小说的朋友们，"
                   "尤其是喜欢东野圭吾和阿加莎的读者，一定不会失望的，物流也很快，包装完好无损")
    pair = _review_pair({"值得一": 30.0})
    with sentiment.use_models(pair):
        moved = sentiment.review_contribution(long_review, sentiment.split_clauses(long_review))
        short = sentiment.review_contribution("值得一读", sentiment.split_clauses("值得一读"))
    # 85 characters: past the length ramp; the gate (intercept 3) says polar with p = sigmoid(3)
    assert moved == pytest.approx(sentiment.REVIEW_WEIGHT * sentiment.REVIEW_CAP / (1 + math.exp(-3.0)))
    assert short == 0.0


def test_review_model_is_not_asked_for_inquiries_or_deferred_judgements():
    pair = _review_pair({"值得一": -30.0, "这本书": -30.0})
    inquiry = "请问这本书是精装版还是平装版，值得一读的那个版本什么时候有货？"
    deferred = "书刚收到还没来得及看，值得一读的话到时候再来追评吧，先这样"
    with sentiment.use_models(pair):
        assert sentiment.review_contribution(inquiry, sentiment.split_clauses(inquiry)) == 0.0
        assert analyze_sentiment(inquiry).label == "neutral"
        assert analyze_sentiment(deferred).label == "neutral"


def test_review_evidence_follows_the_gate():
    text = "物流显示已到达本市转运中心，预计明天下午送达，到时候家里有人"
    clauses = sentiment.split_clauses(text)
    with sentiment.use_models(_review_pair({"送达": -30.0}, {"物流显": -20.0})):
        gated = sentiment.review_contribution(text, clauses)
    with sentiment.use_models(_review_pair({"送达": -30.0})):
        open_gate = sentiment.review_contribution(text, clauses)
    assert open_gate < -1.0 and abs(gated) < 0.01
