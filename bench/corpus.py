"""A deterministic generator of Chinese news articles in the seeds' style, for benchmarks.

Every article is distinct: its own city and county, people, organisations, figures and date,
written from templates like the seed articles in `data/articles/` (a title, a source line, a
date, section headings and paragraphs full of figures: `285个服务站`, `5.6亿元`). The same
`seed` always gives the same articles, byte for byte. Articles are written to a directory the
caller chooses (a temporary one); nothing generated is ever committed.

`questions()` makes questions about the facts the articles state, in the dev set's style
("哈密有多少个服务站?"), for query latency and agreement measurements.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GENERATOR_VERSION = "1"

PROVINCES = {
    "新疆": "乌鲁木齐 哈密 吐鲁番 昌吉 伊宁 塔城 阿勒泰 博乐 库尔勒 阿克苏 喀什 和田 克拉玛依 石河子 奎屯",
    "甘肃": "兰州 张掖 酒泉 嘉峪关 武威 金昌 白银 天水 平凉 庆阳 定西 陇南 临夏 合作",
    "青海": "西宁 海东 格尔木 德令哈 玉树 共和",
    "宁夏": "银川 石嘴山 吴忠 固原 中卫",
    "陕西": "西安 宝鸡 咸阳 铜川 渭南 延安 榆林 汉中 安康 商洛",
    "内蒙古": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 锡林浩特 乌兰浩特 阿拉善",
    "黑龙江": "哈尔滨 齐齐哈尔 牡丹江 佳木斯 大庆 鸡西 双鸭山 伊春 七台河 鹤岗 黑河 绥化",
    "吉林": "长春 吉林 四平 辽源 通化 白山 松原 白城 延吉",
    "辽宁": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "河北": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水",
    "山西": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "山东": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽",
    "江苏": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水",
    "安徽": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德",
    "江西": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "河南": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店",
    "湖北": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施",
    "湖南": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 吉首",
    "广东": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮",
    "广西": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "海南": "海口 三亚 三沙 儋州",
    "四川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 西昌",
    "贵州": "贵阳 六盘水 遵义 安顺 毕节 铜仁 凯里 都匀 兴义",
    "云南": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 蒙自 文山 景洪 大理 芒市 香格里拉",
    "西藏": "拉萨 日喀则 昌都 林芝 山南 那曲",
}
COUNTY_HEADS = "东 西 南 北 新 永 安 长 青 平 宁 和 清 丰 兴 定 泰 顺 嘉 福 德 康 昌 隆 乐 怀 会 通 临 阳".split()
COUNTY_TAILS = (
    "河 山 川 原 源 江 城 水 林 泉 峰 岭 湖 阳 宁 安 丰 化 远 平 乡 台 池 坪 营 塘 桥 沟".split()
)
SURNAMES = "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗 郑 梁 谢 宋 唐 许 韩 冯 邓 曹 彭 曾 肖 田 董 袁 潘 于 蒋 蔡 余 杜 叶 程 苏 魏 吕 丁 任 沈 姚 卢 姜 崔 钟 谭 陆 汪 范 金 石".split()
GIVEN = "伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 涛 明 超 秀 霞 平 刚 桂 英 华 建 国 志 文 海 晓 红 玉 兰 春 梅 斌 鹏 辉 宇 浩 凯 健 俊 帆 帅 旭 宁 龙 林 欣 雪 婷 琳 晨 阳 峰 磊 鑫 博 东 亮 成 飞 彬 云 福 荣 胜 德 斌".split()
UNITS_MILITARY = (
    "边防团 守备营 武警支队 消防救援支队 预备役团 人武部 警备区 通信连 工兵营 训练基地".split()
)
FACILITIES = "服务站 服务中心 驿站 示范点 工作室 活动室 图书室 卫生室 培训基地 孵化园".split()
PEOPLE = "志愿者 退役军人 军属 烈属 官兵 民兵 网格员 技术员 乡村医生 创业青年 农技员 讲解员".split()
GOODS = "慰问物资 医疗设备 图书 农机具 种苗 冬衣 防汛物资 应急药品 净水设备 课桌椅".split()
VERBS_BUILD = "建成 新建 改造 升级 挂牌 投用 打造 启用".split()
VERBS_HELP = "帮扶 慰问 走访 结对 资助 培训 安置 表彰".split()
SLOGANS = "军民同心 鱼水情深 双拥花开 携手共建 同心筑梦 情系边防 拥军优属 拥政爱民 兴边富民 守望相助".split()
SECTION_HEADS = [
    "高位统筹,构建{topic}工作“{a}”",
    "{verb}为先,打造{place}“{b}”",
    "政策暖心,筑牢{topic}“{c}”",
    "精神铸魂,厚植{topic}文化“{d}”",
    "乡村振兴,书写军民共建“{e}”",
    "服务下沉,织密{facility}“{f}”",
    "科技赋能,跑出{place}“{g}”",
]
HEAD_PHRASES = (
    "四梁八柱 强后方 保障网 新沃土 同心圆 服务网 加速度 新样板 硬支撑 暖心桥 连心线 新高地".split()
)
TOPICS = {
    "双拥": "退役军人事务局 双拥办 军供站 光荣之家 拥军门店 荣誉牌 优抚对象 随军家属 军人子女",
    "乡村振兴": "合作社 示范村 产业园 特色种植 养殖基地 电商服务站 光伏电站 高标准农田 农家书屋",
    "教育": "中小学 幼儿园 职业技术学院 国防教育基地 研学营地 图书馆 实验室 校车 奖学金",
    "医疗": "卫生院 社区医院 远程诊室 家庭医生 巡回医疗队 体检中心 康复中心 急救站 健康档案",
    "交通": "国道 高速公路 乡村公路 客运站 物流园 桥梁 隧道 公交线路 充电桩",
    "生态": "防护林 湿地公园 草原 治沙工程 污水处理厂 垃圾站 绿色通道 生态廊道 水源地",
    "文旅": "纪念馆 博物馆 红色景区 民宿 非遗工坊 文化广场 旅游专线 演艺中心 游客中心",
    "产业": "工业园区 新能源项目 数据中心 物流枢纽 农产品加工厂 商贸城 创业孵化基地 风电场 储能电站",
}
MONEY_UNITS = ("万元", "亿元")


@dataclass
class Fact:
    """A figure an article states: `place` `verb` `figure` `noun` (`哈密` 建成 `285个` `服务站`)."""

    place: str
    noun: str
    figure: str
    unit: str
    kind: str  # count | money | area | person


@dataclass
class GeneratedArticle:
    filename: str
    text: str
    facts: list[Fact] = field(default_factory=list)


class _Writer:
    """One article's random choices and the facts its sentences state."""

    def __init__(self, rng: random.Random, number: int):
        self.rng = rng
        self.number = number
        province = rng.choice(sorted(PROVINCES))
        self.province = province
        self.city = rng.choice(PROVINCES[province].split())
        self.counties = [self._county() for _ in range(3)]
        self.topic = rng.choice(sorted(TOPICS))
        self.topic_nouns = TOPICS[self.topic].split()
        self.year = rng.randint(2012, 2025)
        self.month = rng.randint(1, 12)
        self.day = rng.randint(1, 28)
        self.people = [self._person() for _ in range(4)]
        self.facts: list[Fact] = []

    def _county(self) -> str:
        r = self.rng
        return r.choice(COUNTY_HEADS) + r.choice(COUNTY_TAILS) + r.choice("县区旗")

    def _person(self) -> str:
        r = self.rng
        given = r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.7 else "")
        return r.choice(SURNAMES) + given

    def count(self, noun: str, unit: str = "个", low: int = 2, high: int = 990) -> str:
        figure = f"{self.rng.randint(low, high)}{unit}"
        self.facts.append(Fact(self.city, noun, figure, unit, "count"))
        return f"{figure}{noun}"

    def money(self, purpose: str) -> str:
        unit = self.rng.choice(MONEY_UNITS)
        amount = (
            f"{self.rng.randint(12, 9800)}"
            if unit == "万元"
            else f"{self.rng.randint(1, 48)}.{self.rng.randint(1, 9)}"
        )
        self.facts.append(Fact(self.city, purpose, amount + unit, unit, "money"))
        return amount + unit

    def area(self, purpose: str) -> str:
        figure = f"{self.rng.randint(2, 90)}.{self.rng.randint(1, 9)}万亩"
        self.facts.append(Fact(self.city, purpose, figure, "亩", "area"))
        return figure

    def sentence(self) -> str:
        r = self.rng
        city, county = self.city, r.choice(self.counties)
        noun = r.choice(self.topic_nouns)
        facility = r.choice(FACILITIES)
        people = r.choice(PEOPLE)
        person = r.choice(self.people)
        unit = r.choice(UNITS_MILITARY)
        year = r.randint(self.year - 6, self.year)
        templates = [
            lambda: (
                f"全市{r.choice(VERBS_BUILD)}{self.count(facility)}、{self.count(noun, '个', 2, 400)},构建起横向到边、纵向到底的服务网络。"
            ),
            lambda: (
                f"{year}年,{city}市累计投入{self.money(noun)},为驻{city[0]}{unit}升级{noun}、完善{facility}。"
            ),
            lambda: (
                f"在{county}{r.choice('东西南北')}{r.choice(COUNTY_TAILS)}乡,{people}{person}家的{noun}从{r.randint(3, 60)}处增加到{r.randint(61, 300)}处,日子越过越红火。"
            ),
            lambda: (
                f"{self.count(people, '名', 20, 9000)}活跃在{county}的社区乡村,形成“政府主导+社会参与”的{self.topic}新生态。"
            ),
            lambda: (
                f"{city}市{r.choice(VERBS_HELP)}{self.count('户' + r.choice(['困难家庭', '军属家庭', '脱贫户']), '', 5, 3000)}次,送去价值{self.money(r.choice(GOODS))}的{r.choice(GOODS)}。"
            ),
            lambda: (
                f"市政府第一时间划拨{self.area(noun)}土地用于{noun}建设,仅用{r.randint(30, 400)}天就完成场地平整、水电接通等基础工程。"
            ),
            lambda: (
                f"“{r.choice(SLOGANS)},{r.choice(SLOGANS)}”,{unit}{person}说,{city}人把{self.topic}当成自己的事。"
            ),
            lambda: (
                f"截至{year}年{r.randint(1, 12)}月,{county}已建成{self.count(noun, '座', 2, 150)},覆盖{r.randint(40, 100)}%的行政村。"
            ),
            lambda: (
                f"{person}是{county}{r.choice(self.topic_nouns)}的负责人,{r.randint(3, 30)}年来带领{self.count(people, '名', 5, 800)}走出了一条{r.choice(SLOGANS)}的新路。"
            ),
            lambda: (
                f"近{r.randint(2, 9)}年,{city}累计安置{self.count('转业军官', '名', 5, 300)}、{self.count('士官', '名', 5, 300)}到机关事业单位,安置率达{r.randint(90, 100)}%。"
            ),
            lambda: (
                f"{county}{noun}经过{self.money(noun)}升级改造,成为{self.province}{r.choice(['爱国主义教育基地', '示范项目', '重点工程', '标杆单位'])}。"
            ),
            lambda: (
                f"每年{r.choice(['清明', '八一', '春节', '国庆', '烈士纪念日'])},{r.randint(2, 130)}万余人次参与“{r.choice(SLOGANS)}”主题活动,{self.count(people, '名', 10, 5000)}报名服务。"
            ),
            lambda: (
                f"{city}{r.choice(['日报', '融媒体中心', '电视台'])}开设“{r.choice(SLOGANS)}”“最美{people}”等专栏,宣传{self.count('先进典型', '名', 10, 200)}。"
            ),
            lambda: (
                f"{year}年{r.randint(1, 12)}月{r.randint(1, 28)}日,{unit}官兵{r.randint(50, 9000)}人次奔赴{county},参与{noun}建设和抢险救灾。"
            ),
        ]
        return r.choice(templates)()

    def paragraph(self) -> str:
        return "".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def heading(self) -> str:
        r = self.rng
        pattern = r.choice(SECTION_HEADS)
        phrases = r.sample(HEAD_PHRASES, 7)
        return pattern.format(
            topic=self.topic,
            verb=r.choice(["向战而行", "创新", "实干", "服务"]),
            place=self.city,
            facility=r.choice(FACILITIES),
            a=phrases[0],
            b=phrases[1],
            c=phrases[2],
            d=phrases[3],
            e=phrases[4],
            f=phrases[5],
            g=phrases[6],
        )

    def article(self) -> GeneratedArticle:
        r = self.rng
        slogan = r.choice(SLOGANS)
        title = f"{self.topic}巡礼{self.province}{self.city}市:{slogan} {r.choice(SLOGANS)}谱新篇"
        source = r.choice(
            [f"{self.city}市融媒体中心", f"{self.province}日报", f"中国{self.city}网"]
        )
        lines = [
            title,
            f"来源:{source}",
            f"{self.year}年{self.month:02d}月{self.day:02d}日 {r.randint(7, 21):02d}:{r.randint(0, 59):02d}",
            "",
            f"{self.city}市这座因{r.choice(self.topic_nouns)}闻名的城市,更以连续{r.choice('二三四五六七')}次荣膺“全国{self.topic}模范城”的佳绩,书写着军民团结的动人篇章。",
        ]
        for _ in range(r.randint(3, 5)):
            lines.append(self.heading())
            for _ in range(r.randint(2, 3)):
                lines.append(self.paragraph())
        lines.append(f"(记者 {self.people[0]} 通讯员 {self.people[1]})")
        name = f"bench-{self.number:06d}-{self.year}{self.month:02d}{self.day:02d}.txt"
        return GeneratedArticle(name, "\n".join(lines) + "\n", self.facts)


def generate(count: int, seed: int = 20241122) -> Iterator[GeneratedArticle]:
    """`count` distinct articles; article i is the same for every `count` (prefix-stable)."""
    for number in range(count):
        yield _Writer(random.Random(f"{seed}:{number}"), number).article()


def write_corpus(directory: Path, count: int, seed: int = 20241122) -> list[GeneratedArticle]:
    """Write `count` articles into `directory` (created if needed) and return them."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    articles = list(generate(count, seed))
    for article in articles:
        (directory / article.filename).write_text(article.text, encoding="utf-8")
    return articles


QUESTION_FORMS = {
    "count": [
        "{place}有多少{unit}{noun}?",
        "{place}共有几{unit}{noun}?",
        "{place}{noun}有多少{unit}?",
    ],
    "money": ["{place}在{noun}上投入了多少钱?", "{place}为{noun}花了多少资金?"],
    "area": ["{place}为{noun}划拨了多少亩土地?"],
}


def questions(articles: list[GeneratedArticle], count: int, seed: int = 7) -> list[str]:
    """`count` questions about facts of `articles`, in the dev set's style."""
    rng = random.Random(seed)
    with_facts = [a for a in articles if a.facts]
    asked: list[str] = []
    while len(asked) < count and with_facts:
        fact = rng.choice(rng.choice(with_facts).facts)
        form = rng.choice(QUESTION_FORMS.get(fact.kind, QUESTION_FORMS["count"]))
        unit = fact.unit if fact.kind == "count" and fact.unit else "个"
        asked.append(form.format(place=fact.place, noun=fact.noun, unit=unit))
    return asked
