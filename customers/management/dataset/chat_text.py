"""Sales-chat sentences drawn from a fixed vocabulary of common phrases.

A message is one to three phrases from the staff or the customer side, with slots filled from
small lists (products, times, prices, cities). Because the vocabulary is fixed and the draws are
weighted the same way at any scale, a keyword's hit rate is a property of the vocabulary, not of
the dataset size: a 1-character keyword such as 价 or 好 is common (tens of percent), 合同 a few
percent, 企业微信 or 发票抬头 about one percent or less. `bench/search_bench.py` measures the
actual rates on the generated table and prints them next to the latencies.

A few messages carry a mobile number or an e-mail address, as real chats do, so the content
detectors have something to mask.
"""

import random
from itertools import accumulate

PRODUCTS = [
    "私域运营SaaS年费版",
    "会员积分系统",
    "企业微信增值服务",
    "短信营销包",
    "数据看板",
    "智能客服机器人",
    "小程序商城",
    "直播带货工具",
]
TIMES = ["明天上午", "明天下午三点", "周一上午十点", "周三下午", "下周二", "月底前", "今晚八点"]
PRICES = ["2999", "4800", "9800", "12000", "19800", "36000", "58000"]
CITIES = ["上海", "北京", "杭州", "深圳", "广州", "南京", "苏州", "成都", "武汉", "西安"]
FILES = ["报价单", "产品介绍", "合同草案", "案例集", "培训手册", "发票信息", "实施方案"]
FILE_EXT = [".pdf", ".docx", ".xlsx", ".pptx"]

# (weight, template). Everyday chatter dominates, as in real sales chats; the topical phrases
# (price, contract, invoice, refund, WeCom) are rarer, some much rarer, so keywords spread over
# hit rates from tens of percent down to a fraction of a percent.
STAFF = [
    (6, "您好，请问现在方便沟通吗？"),
    (6, "好的，收到。"),
    (5, "稍等，我确认一下再回复您。"),
    (5, "收到，谢谢您的支持！"),
    (4, "好的，没问题。"),
    (4, "您先忙，有空再聊。"),
    (4, "我这边记下了，今天之内回复您。"),
    (3, "嗯嗯，明白您的意思了。"),
    (3, "周末愉快！"),
    (3, "不客气，应该的。"),
    (3, "您好，我是{city}区域的客户经理，很高兴为您服务。"),
    (3, "上次说的问题技术同事已经处理好了。"),
    (3, "{time}我们线上演示一下{product}，您看可以吗？"),
    (3, "这是{product}的产品介绍，您先看一下。"),
    (2, "请问贵公司大概有多少员工需要使用？"),
    (2, "我们在{city}有很多同行业的案例，可以给您参考。"),
    (2, "售后有任何问题都可以直接联系我。"),
    (2, "可以先免费试用两周，开通后我发您账号。"),
    (2, "我们的产品支持私有化部署，数据更安全。"),
    (2, "新版本上线了，界面和速度都有提升。"),
    (2, "培训安排在{time}，地点稍后通知。"),
    (1.5, "{product}的报价单已经发您邮箱了，请查收。"),
    (1.5, "标准价是{price}元一年，老客户续费有折扣。"),
    (1, "我们这个月有优惠活动，年费可以打八五折。"),
    (1, "好的，我跟领导申请一下价格，晚点回复您。"),
    (1, "合同我这边已经盖章了，麻烦您那边走一下流程。"),
    (0.6, "合同条款有问题的话随时找我。"),
    (0.6, "付款方式支持对公转账，也可以分两期。"),
    (0.6, "续费提醒：您的服务将在月底到期。"),
    (0.5, "您的企业微信已经开通成功了。"),
    (0.5, "发票已经开好了，快递单号稍后发您。"),
    (0.4, "这周五之前签约可以赠送三个月服务。"),
    (0.3, "请把发票抬头和税号发我一下，我让财务开票。"),
    (0.2, "企业微信的会话存档需要管理员在后台授权。"),
    (0.5, "我的手机号是{mobile}，有事可以直接打给我。"),
    (0.4, "资料我发到您邮箱 {email} 了。"),
]
CUSTOMER = [
    (8, "好的，谢谢。"),
    (6, "嗯嗯，收到。"),
    (5, "在吗？"),
    (4, "我看一下。"),
    (4, "稍等，我在开会。"),
    (4, "谢谢，辛苦了！"),
    (3, "没问题，就按这个方案来。"),
    (3, "好的，{time}可以。"),
    (3, "我们老板想看看同行的案例。"),
    (3, "我{time}有空，电话聊吧。"),
    (3, "你好，想了解一下{product}。"),
    (2, "系统登录不上去了，帮忙看一下。"),
    (2, "我们在{city}，能上门演示吗？"),
    (2, "你们的数据安全怎么保证？"),
    (2, "这个功能我们用得上，回头细聊。"),
    (2, "可以先试用吗？"),
    (1, "报价收到了，我们内部讨论一下。"),
    (1, "价格能不能再优惠一点？"),
    (1, "这个价格有点高，预算不太够。"),
    (0.8, "有没有更便宜的套餐？"),
    (0.8, "合同我们法务还在看，下周给你答复。"),
    (0.6, "可以，麻烦把合同发我。"),
    (0.6, "付款已经安排了，请查收。"),
    (0.5, "续费的话有折扣吗？"),
    (0.5, "企业微信怎么绑定？"),
    (0.5, "发票什么时候能开？"),
    (0.3, "发票抬头写我们公司全称就行。"),
    (0.3, "售后响应太慢了，希望改进。"),
    (0.2, "退款流程怎么走？"),
    (0.4, "我的电话是{mobile}，到了打给我。"),
]
LINKS = [
    "{product}客户案例 | 官网 https://example.com/case",
    "{product}产品白皮书下载 https://example.com/whitepaper",
]
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "foxmail.com"]

# msg_type -> weight; non-text messages have no searchable text except files and links.
MESSAGE_TYPES = {"text": 88, "image": 5, "voice": 2, "file": 3, "link": 1, "card": 1}
_TYPE_NAMES, _TYPE_CUMULATIVE = list(MESSAGE_TYPES), list(accumulate(MESSAGE_TYPES.values()))
_STAFF = ([t for _, t in STAFF], list(accumulate(w for w, _ in STAFF)))
_CUSTOMER = ([t for _, t in CUSTOMER], list(accumulate(w for w, _ in CUSTOMER)))
_PHRASE_COUNTS, _PHRASE_CUMULATIVE = (1, 2, 3), list(accumulate((65, 27, 8)))


class ChatText:
    """Draws message texts with its own random generator (deterministic per seed)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def msg_type(self) -> str:
        return self.rng.choices(_TYPE_NAMES, cum_weights=_TYPE_CUMULATIVE)[0]

    def text(self, msg_type: str, from_staff: bool) -> tuple[str, str]:
        """(text, attachment name) for a message of this type."""
        if msg_type == "text":
            return self.sentence(from_staff), ""
        if msg_type == "file":
            name = self.rng.choice(FILES) + self.rng.choice(FILE_EXT)
            return name, name
        if msg_type == "link":
            return self.fill(self.rng.choice(LINKS)), ""
        if msg_type == "card":
            return self.rng.choice(CITIES) + "某某科技有限公司", ""
        return "", f"{msg_type}.bin" if msg_type == "voice" else ""

    def sentence(self, from_staff: bool) -> str:
        templates, cumulative = _STAFF if from_staff else _CUSTOMER
        count = self.rng.choices(_PHRASE_COUNTS, cum_weights=_PHRASE_CUMULATIVE)[0]
        picked = self.rng.choices(templates, cum_weights=cumulative, k=count)
        return "".join(self.fill(t) for t in picked)

    def fill(self, template: str) -> str:
        if "{" not in template:
            return template
        rng = self.rng
        return template.format(
            product=rng.choice(PRODUCTS),
            time=rng.choice(TIMES),
            price=rng.choice(PRICES),
            city=rng.choice(CITIES),
            mobile=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            email=f"client{rng.randrange(10**6)}@{rng.choice(EMAIL_DOMAINS)}",
        )
