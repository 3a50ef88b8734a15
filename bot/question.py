"""Question analysis: what kind of answer is asked for, about which names, with which key words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.english import NAME_TAGS, PLACE_SUFFIXES, Lexicon, english_kind, general_glosses, stem
from index.analyzer import STOPWORDS, normalize, pos_tokenizer, tokenize
from index.figures import ASKED_UNIT_RE, UNIT_KIND, Figure, find_figures

# What an amount of money is the amount of: "营业收入是多少", "GDP是多少", "总造价多少".
MONEY_TOPICS = (
    "收入|营收|产值|生产总值|gdp|增加值|总额|销售额|营业额|成交额|零售额|消费|外资|利润|税收|"
    "票房|预算|造价|总投资|投资额|捐款|融资|贷款|工资|薪酬|补贴|奖金|收益|财政"
)
# Roles whose holder a question asks for by name: "管委会主任叫什么名字" asks for a person.
ROLES = (
    "书记|主任|市长|县长|区长|省长|局长|校长|院长|董事长|总经理|经理|负责人|站长|队长|主席|"
    "冠军|亚军|季军|教练|记者|作者|选手|院士|医生|主持人|创始人|传人|发言人|厅长|部长|所长|"
    "社长|总裁|馆长|会长|理事长"
)
# Checked in order; the first pattern that matches the normalised question decides its kind.
KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ordinal", re.compile(r"第几|几连|连续几|几届|哪一届|第多少")),
    (
        "date",
        re.compile(r"什么时候|何时|几时|哪一?年|哪一?天|几月|几号|什么时间|哪个月|日期|啥时候?"),
    ),
    (
        "measure",
        re.compile(
            r"百分之多少|百分之几|多少个?百分点|几个百分点|增长率|增速|增幅|比例|比率|占比|比重|"
            r"几岁|多少岁|年龄|年纪|多大年纪|今年多大|多大了"
        ),
    ),
    (
        "duration",
        re.compile(
            r"多久|多长时间|多少年|几年|多少天|几天|多少个月|几个月|多少个?小时|几个?小时|"
            r"用时|耗时|历时|工期|时长|运行时间|用了多长"
        ),
    ),
    (
        "money",
        re.compile(
            r"多少钱|多少资金|多少经费|多少元|多少万元|多少亿|价值多少|金额|耗资|花费|花了多少|"
            r"投入(了)?多少|投资(了)?多少|资金多少|拨付(了)?多少|补助(了)?多少|多少投资|造价|"
            r"多少[^，,。？?]{0,6}(资金|经费|钱|款|费用|金额|投资|补贴|补助|奖金)|"
            rf"(?:{MONEY_TOPICS})(?:的|是|为|有|达|达到|实现|约|共|总计|合计|大约){{0,2}}(?:多少|几)"
        ),
    ),
    (
        "area",
        re.compile(r"多少亩|几亩|多大面积|面积|多少平方|多少公顷|土地|用地|耕地|林地|草场|占地"),
    ),
    (
        "measure",
        re.compile(r"多少%|率(是|为|有|达到?)?多少|满意度|多少公里|多少吨|多高|多长|多重"),
    ),
    (
        "person",
        re.compile(
            rf"谁|哪位|什么人|哪个人|叫什么名字的人|(?:{ROLES})的?(?:叫什么|名字|姓名|姓什么)"
        ),
    ),
    (
        "place",
        re.compile(r"哪(个|座|一个)?(城市|地方|县|市|区|省|州|地区|乡|镇|村)|哪里|哪儿|什么地方"),
    ),
    (
        "name",
        re.compile(
            r"叫什么|什么名字|名称|称为|称作|被誉为|什么品牌|品牌是|口号|哪个|哪家|哪些|是什么|"
            r"什么[\u4e00-\u9fff]{0,2}"
        ),
    ),
    ("count", re.compile(r"多少|几|数量|数目|总数|个数|人数")),
]
# "增长了多少": the answer is the change written right after such a verb ("增长8.7%").
GROWTH_RE = re.compile(r"(增长|增加|提高|提升|下降|减少|降低|上涨|增收)了?(百分之)?(多少|几)")
FRAME_KINDS = {"name", "person", "date", "duration", "place"}
# What frames a question of a kind, where it is not its kind's pattern: the role stays a key word
FRAMES = {
    "person": re.compile(r"谁|哪位|什么人|哪个人|叫什么名字|叫什么|什么名字|的?名字|姓名|姓什么")
}
ENGLISH_GROWTH_RE = re.compile(
    r"\b(grow|grows|grew|grown|growth|increased?|increases|rise|rises|rose|risen|fall|falls|fell|"
    r"fallen|drop|drops|dropped|decline|declined|declines)\b"
)
ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}")
# Words that only say "the number / size / title of": never written beside the figure itself.
FRAME_WORDS = frozenset(
    "数量 数目 总数 总量 个数 人数 面积 大面积 多大 规模 称号 荣誉称号 情况 具体 分别 大约 大概".split()
)
# "今年", "目前": when the question is asked, which the article may not repeat
TIME_DEIXIS = frozenset("今年 目前 现在 当前 如今 截至目前 迄今 至今 这次 本次 此次".split())
# "多高", "多长", "多大": how a question asks for a size
SIZE_WORD = "多[长大高重远久深宽厚]"
QUESTION_WORDS = re.compile(rf"多少|几|什么|怎么|怎样|如何|哪|谁|吗|呢|何|{SIZE_WORD}")


@dataclass
class Question:
    """An analysed question: `words` are its key words, `tokens` what BM25 is given."""

    text: str
    normalized: str
    kind: str
    asked_unit: str | None
    names: list[str]
    words: list[str]
    tokens: list[str]
    pos: dict[str, str] = field(default_factory=dict)
    # What the question writes right after its "多少个" slot, and where nouns end in it:
    # "多少名建国前入伍老战士颁发了" -> ("建国前入伍老战士颁发了...", {2, 4, 8})
    after_slot: str = ""
    noun_ends: frozenset[int] = frozenset()
    # English words stand for Chinese terms: "stations" -> [("站", 1.0), ("驻地", 1.0)]
    alternatives: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    unknown_names: list[str] = field(default_factory=list)
    # Figures the question itself writes ("连续6次"), matched by value, not by script
    figures: list[Figure] = field(default_factory=list)
    # How an English question's counted thing may be written ("volunteers" -> 志愿者)
    counted_forms: list[str] = field(default_factory=list)
    # "增长了多少": the change is asked for, written right after such a verb in the article
    growth: bool = False
    # "缩短到了多少": the figure after 到/至 ("由42分钟缩短至18分钟"), not the one after 由/从
    change_to: bool = False
    # The key word that says what is asked of its subject: "水稻亩产是多少" -> 亩产
    focus: str | None = None

    def forms(self, word: str) -> list[tuple[str, float]]:
        """How a key word may be written in the articles, with the credit each form earns."""
        return self.alternatives.get(word) or [(word, 1.0)]

    lang: str = "zh"
    extra_tokens: list[str] = field(default_factory=list)

    def is_noun(self, word: str) -> bool:
        """Nouns (and noun-like idioms) can be read as the counted thing after a figure."""
        return self.pos.get(word, "n")[:1] in {"n", "l", "j"} or self.pos.get(word) == "vn"

    def importance(self, word: str) -> float:
        """Verbs and adverbs say less about which passage is meant than nouns do."""
        if word in TIME_DEIXIS or self.pos.get(word, "n")[:1] in {"v", "d", "a", "p", "c"}:
            return 0.3
        return 0.5 if len(word) == 1 else 1.0  # a character left over from a name jieba cut

    @property
    def counted_noun(self) -> str | None:
        """The last noun of what is counted: "多少个光荣之家荣誉牌" -> 荣誉牌 (None if none)."""
        if not self.noun_ends:
            return None
        end = max(self.noun_ends)
        start = max((e for e in self.noun_ends if e < end), default=0)
        return self.after_slot[start:end] or None


def detect_lang(text: str) -> str:
    """'en' for mostly Latin-script questions, 'zh-hant' for traditional script, else 'zh'."""
    letters = sum(1 for c in text if c.isascii() and c.isalpha())
    hanzi = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    if letters > 2 * hanzi and letters >= 3:
        return "en"
    if hanzi and normalize(text) != "".join(c.lower() if c.isascii() else c for c in _nfkc(text)):
        return "zh-hant"
    return "zh"


def _nfkc(text: str) -> str:
    import unicodedata

    return "".join(
        folded if len(folded := unicodedata.normalize("NFKC", c)) == 1 else c for c in text
    )


def question_names(normalized: str) -> list[str]:
    """Proper names in a question: what jieba tags as one, or a place written without its
    suffix (大理 for 大理州, which jieba knows as a place)."""
    tokenizer = pos_tokenizer()
    tags = tokenizer.word_tag_tab
    found = []
    for pair in tokenizer.lcut(normalized):
        word = pair.word
        if len(word) < 2 or word in STOPWORDS:
            continue
        if pair.flag in NAME_TAGS or any(tags.get(word + s) == "ns" for s in PLACE_SUFFIXES):
            found.append(word)
    return list(dict.fromkeys(found))


# Kinds whose answer is an amount, as opposed to a date, an ordinal, a person or a name
AMOUNT_KINDS = frozenset({"count", "money", "area", "measure", "duration"})


def question_kind(normalized: str, asked_unit: str | None) -> str:
    """The kind of answer asked for; a unit the question asks in ("多少名") has the last word
    over the words around it ("投入了多少名官兵" asks for people, not money)."""
    unit_kind = UNIT_KIND.get(asked_unit or "")
    for kind, pattern in KIND_PATTERNS:
        if pattern.search(normalized):
            if kind == "count" and asked_unit:
                return unit_kind or "count"
            if kind in AMOUNT_KINDS and unit_kind in AMOUNT_KINDS and asked_unit != "个":
                return unit_kind
            return kind
    return "other"


def key_words(normalized: str, exclude: set[str]) -> dict[str, str]:
    """Content words of the question with their part of speech, without question words and units."""
    words: dict[str, str] = {}
    for pair in pos_tokenizer().lcut(normalized):
        word = pair.word.strip()
        if (
            not word
            or word in STOPWORDS
            or word in exclude
            or word in FRAME_WORDS
            or not re.search(r"[\w\u4e00-\u9fff]", word)
            or QUESTION_WORDS.fullmatch(word)
            or (len(word) == 1 and word in UNIT_KIND)
            or QUESTION_WORDS.search(word)
            or re.fullmatch(r"[\d.,%]+|[零〇一二两三四五六七八九十百千万亿]+", word)
        ):
            continue
        words.setdefault(word, pair.flag)
    return words


SLOT_RE = re.compile(r"(?:多少|几)")
# "主塔有多高", "今年多大": the words that ask for a size are no key words
ASKED_SIZE_RE = re.compile(rf"有?{SIZE_WORD}了?")
FOCUS_RE = re.compile(rf"(?:的|是|为|有|达到?|共|约|了|大约|一共|总共)*(?:多少|几|{SIZE_WORD})")


def focus_word(normalized: str, words: dict[str, str]) -> str | None:
    """The key word right before the question's slot ("亩产是多少" -> 亩产, "投入了多少" -> 投入),
    if it is a noun or a verb."""
    slot = FOCUS_RE.search(normalized)
    if not slot:
        return None
    before = normalized[: slot.start()]
    for word, flag in words.items():
        if before.endswith(word) and flag[:1] in {"n", "v", "l", "j"}:
            return word
    return None


NOUN_FLAGS = ("n", "l", "j")
PHRASE_BREAK_FLAGS = ("p", "u", "c", "r", "x", "w", "y", "e")
COUNTED_MAX = 10


def counted_phrase(normalized: str, asked_unit: str | None) -> tuple[str, frozenset[int]]:
    """The words after the question's figure slot, and the offsets where its counted noun may end.

    The counted noun starts right after the slot (not with a verb) and ends at the first noun
    that a verb, a particle or the end of the question follows ("多少户特困家庭结成..." ->
    特困家庭, "多少名建国前入伍老战士颁发..." -> 建国前入伍老战士), at most COUNTED_MAX chars.
    """
    slot = ASKED_UNIT_RE.search(normalized) if asked_unit else SLOT_RE.search(normalized)
    if not slot:
        return "", frozenset()
    after = normalized[slot.end() :]
    pairs = pos_tokenizer().lcut(after)
    ends, position = set(), 0
    for number, pair in enumerate(pairs):
        flag = pair.flag
        if flag.startswith(PHRASE_BREAK_FLAGS) or (number == 0 and flag.startswith("v")):
            break
        position += len(pair.word)
        if position > COUNTED_MAX:
            break
        if flag.startswith(NOUN_FLAGS) and flag != "vn":
            ends.add(position)
            following = pairs[number + 1].flag if number + 1 < len(pairs) else "x"
            if following.startswith(("v",) + PHRASE_BREAK_FLAGS):
                break  # the noun phrase ends here; what follows says what was done to it
    return after, frozenset(ends)


def analyze(text: str, lexicon: Lexicon | None = None) -> Question:
    """Analyse a question in Chinese (simplified or traditional), English, or a mix of both.

    English words are read through `lexicon` (built from the index) when one is given.
    """
    english_words = ENGLISH_RUN.findall(text)
    if lexicon is not None and english_words:
        return _with_english(text, lexicon)
    normalized = normalize(text.strip())
    asked = ASKED_UNIT_RE.search(normalized)
    asked_unit = asked.group("unit") if asked else None

    units = {asked_unit} if asked_unit else set()
    kind = question_kind(normalized, asked_unit)
    framed = normalized
    if kind in FRAME_KINDS:
        # "叫什么", "什么时候", "多久": the words that frame the question are not key words
        framed = FRAMES.get(kind, dict(KIND_PATTERNS)[kind]).sub(" ", normalized)
    if asked_unit and len(asked_unit) > 1:
        units |= {asked_unit[i:] for i in range(len(asked_unit))}
    words = key_words(ASKED_SIZE_RE.sub(" ", framed), units)
    found_names = question_names(framed)
    after_slot, noun_ends = counted_phrase(normalized, asked_unit)
    figures = [f for f in find_figures(framed) if f.value > 0]
    return Question(
        text=text,
        normalized=normalized,
        kind=kind,
        asked_unit=asked_unit,
        names=found_names,
        words=list(words),
        pos=words,
        after_slot=after_slot,
        noun_ends=noun_ends,
        figures=figures,
        tokens=tokenize(normalized),
        lang=detect_lang(text),
        growth=bool(GROWTH_RE.search(normalized)),
        change_to=bool(re.search(r"(?:到|至)了?(?:多少|几)", normalized)),
        focus=focus_word(normalized, {w: f for w, f in words.items() if w not in found_names}),
    )


def _same_value(one: Figure, other: Figure) -> bool:
    return one.value == other.value and one.unit == other.unit


def _with_english(text: str, lexicon: Lexicon) -> Question:
    """A question with English words: the Chinese part analysed as usual, the English read."""
    chinese_part = re.sub(r"[A-Za-z][A-Za-z'’-]*", " ", text)
    has_chinese = bool(re.search(r"[\u4e00-\u9fff]", chinese_part))
    question = analyze(chinese_part) if has_chinese else analyze("")
    written = find_figures(normalize(text))  # "PM2.5" holds no figure 2.5 once PM is gone
    question.figures = [f for f in question.figures if any(_same_value(f, w) for w in written)]
    kind, english_text = english_kind(text)
    reading = lexicon.read(english_text)
    question.text = text
    question.lang = detect_lang(text)
    if question.kind == "other" or not has_chinese:
        question.kind = kind
    question.names = list(dict.fromkeys(question.names + reading.names))
    question.growth = question.growth or bool(ENGLISH_GROWTH_RE.search(text.lower()))
    question.unknown_names = reading.unknown_names
    tags = pos_tokenizer().word_tag_tab
    for word, forms in reading.groups.items():
        if question.growth and ENGLISH_GROWTH_RE.fullmatch(word.lower()):
            continue  # "grow": the change is read off the figure after 增长, not searched
        question.words.append(word)
        question.alternatives[word] = forms
        general = forms or general_glosses().get(stem(word), [])
        if general:  # "won" reads as a verb (赢得), which says less than a noun
            question.pos[word] = tags.get(general[0][0], "n")
    if reading.counted and not question.counted_noun:
        question.counted_forms = [form for form, _ in reading.groups[reading.counted]]
        units = [form for form in question.counted_forms if form in UNIT_KIND]
        if units and not question.asked_unit:  # "how many points" asks for a figure in 分
            question.asked_unit = units[0]
    question.extra_tokens = reading.names + [
        token for forms in reading.groups.values() for term, _ in forms for token in tokenize(term)
    ]
    return question
