"""What the demo's reps and customers say: short dialogues ("sessions") about one topic each.

A line is (speaker, kind, template): the speaker is "s" (the rep), "c" (the customer; in a group
room one of its customers) or "c2" (another customer of the room, "c" in a private chat); the
kind is a WeCom message type ("text", "image", "file", "link", "voice") or "revoke" (the
speaker takes back their previous line). Templates are filled by `archive.Session` from the
customer's own record (their mobile, ID number, address and e-mail appear in a few sessions,
as they do in real chats, so the content detectors mask them) and a few small lists.

The rare topics at the end carry the words of the demo's sensitive-word rules (SENSITIVE_RULES),
so the security officer's alerts come from ingest like real ones.
"""

from dataclasses import dataclass

Line = tuple[str, str, str]


@dataclass(frozen=True)
class Topic:
    name: str
    weight: float
    lines: tuple[Line, ...]


# (kind, pattern, severity): seeded as SensitiveWordRule rows before the archive is ingested.
SENSITIVE_RULES = [
    ("keyword", "回扣", "high"),
    ("keyword", "私下转账", "high"),
    ("regex", "(?:加|添加)(?:我的?)?私人微信", "medium"),
    ("keyword", "返点", "low"),
]

PRODUCTS = ["私域运营SaaS年费版", "会员积分系统", "企业微信增值服务", "短信营销包", "数据看板"]
ITEMS = ["智能收银一体机", "扫码枪", "小票打印机", "门店物料包", "会员卡"]
WEEKDAYS = ["一", "二", "三", "四", "五"]
COLLEAGUES = ["小张", "小刘", "小陈", "小周", "小吴"]

GREETING = Topic(
    "greeting",
    0,
    (
        ("s", "text", "{cname}您好，我是华东销售一部的{rep_full}，以后由我负责贵公司的服务。"),
        ("c", "text", "{rep}你好。我们最近在看{product}，方便发点资料吗？"),
        ("s", "link", "{product}产品介绍"),
        ("s", "text", "资料您先看，有问题我们约个时间线上演示。"),
        ("c", "text", "好的，谢谢。"),
    ),
)

PRIVATE = [
    Topic(
        "quote",
        14,
        (
            ("c", "text", "{rep}，{product}现在什么价格？我们大概需要{qty}个账号。"),
            (
                "s",
                "text",
                "{cname}您好，{product}标准价每个账号每年{price}元，{qty}个账号可以申请{discount}折。",
            ),
            ("s", "file", "{product}报价单.pdf"),
            ("c", "text", "报价收到了，我先发给领导看一下。"),
            ("s", "text", "好的，这份报价有效期到月底，有问题随时找我。"),
        ),
    ),
    Topic(
        "quote_again",
        7,
        (
            ("c", "text", "上次的报价能不能再优惠一点？今年预算有点紧。"),
            ("s", "text", "我跟领导申请一下，最多能做到{discount}折，再低就要走特批了。"),
            ("c", "text", "行，那你重新出一份报价吧。"),
            ("s", "file", "报价单_修订版.pdf"),
            ("c", "text", "收到。"),
        ),
    ),
    Topic(
        "contract",
        10,
        (
            ("c", "text", "合同我们法务看过了，第{n}条付款方式能不能改成分两期？"),
            ("s", "text", "可以的，首期{pct}%，验收后付尾款，我改好合同发您。"),
            ("s", "file", "服务合同_v{n}.pdf"),
            ("c", "text", "收到，合同没问题的话下周盖章寄给你们。"),
            ("s", "text", "好的，合同原件一式两份，盖章后寄回我们上海办公室就行。"),
        ),
    ),
    Topic(
        "contract_signed",
        5,
        (
            ("s", "text", "{cname}，合同我们这边已经盖章了，快递今天寄出。"),
            ("c", "text", "好的，收到后我们尽快走流程。"),
            ("c", "image", "合同盖章页"),
            ("c", "text", "合同已经盖好章了，你看下。"),
            ("s", "text", "收到，谢谢{cname}！"),
        ),
    ),
    Topic(
        "shipping",
        10,
        (
            ("c", "text", "上周订的{item}什么时候发货？"),
            ("s", "text", "今天下午已经发货了，顺丰单号{tracking}，预计{days}天到。"),
            ("c", "text", "好的，到了我跟你说。"),
            ("c", "image", "快递包裹"),
            ("c", "text", "货收到了，外箱有点压坏，东西没问题。"),
            ("s", "text", "不好意思，我跟仓库反馈一下，下次发货加固包装。"),
        ),
    ),
    Topic(
        "payment",
        7,
        (
            ("c", "text", "款已经付了，发你转账截图。"),
            ("c", "image", "转账截图"),
            ("s", "text", "收到，财务确认到账后给您开发票。"),
            ("c", "text", "发票抬头写{company}，开专票，发我邮箱 {email}。"),
            ("s", "text", "好的，发票开好后发到您邮箱。"),
        ),
    ),
    Topic(
        "support",
        6,
        (
            ("c", "text", "系统登录不上去了，一直提示密码错误。"),
            ("s", "text", "别着急，我让技术同事{colleague}联系您，您留个电话？"),
            ("c", "text", "{mobile}，下午都在。"),
            ("s", "text", "好的，半小时内给您回电。"),
            ("c", "voice", ""),
            ("c", "text", "问题解决了，谢谢！"),
        ),
    ),
    Topic(
        "visit",
        5,
        (
            ("s", "text", "{cname}，下周{weekday}方便吗？想过去当面给您演示一下{product}。"),
            ("c", "text", "下周{weekday}下午可以，地址是{address}。"),
            ("s", "text", "好的，下周{weekday}下午两点到，到了给您打电话。"),
            ("c", "voice", ""),
        ),
    ),
    Topic(
        "identity",
        1.5,
        (
            ("c", "text", "开通账号需要实名认证吗？"),
            ("s", "text", "需要的，管理员的身份证号要做实名登记。"),
            ("c", "text", "我的身份证号是{id_number}，你帮我登记一下。"),
            ("s", "text", "收到，登记好了。身份证号这类信息以后尽量别在聊天里发哦。"),
        ),
    ),
    Topic(
        "renewal",
        5,
        (
            ("s", "text", "{cname}您好，贵公司的{product}下个月到期，老客户续费有{discount}折。"),
            ("c", "text", "续费可以，能不能顺便加{qty}个账号？"),
            ("s", "text", "没问题，我把续费和加购一起出一份报价。"),
            ("s", "file", "续费报价单.pdf"),
        ),
    ),
    Topic(
        "trial",
        5,
        (
            ("c", "text", "可以先试用吗？"),
            ("s", "text", "可以免费试用两周，我这就给您开通测试账号。"),
            ("s", "link", "{product}试用指南"),
            ("c", "text", "试用了几天，整体还不错，就是报表导出有点慢。"),
            ("s", "text", "好的，我反馈给产品同事，新版本会优化。"),
        ),
    ),
    Topic(
        "small_talk",
        6,
        (
            ("c", "text", "在吗？"),
            ("s", "text", "在的，{cname}请说。"),
            ("c", "text", "没事了，资料已经找到了。"),
            ("s", "text", "好的，有事随时找我，周末愉快！"),
        ),
    ),
    Topic(
        "revoke_price",
        2.5,
        (
            ("s", "text", "{cname}，内部底价是{low_price}元，这个您千万别外传。"),
            ("s", "revoke", ""),
            ("s", "text", "不好意思发错了，价格以正式报价单为准。"),
            ("c", "text", "哈哈，好的。"),
        ),
    ),
    Topic(
        "revoke_image",
        2,
        (
            ("c", "image", "发错的图片"),
            ("c", "revoke", ""),
            ("c", "text", "发错图了，不好意思。"),
            ("s", "text", "没关系。"),
        ),
    ),
    Topic(
        "kickback",
        0.6,
        (
            ("c", "text", "{rep}，这单要是签下来，能不能给我个人一点回扣？"),
            (
                "s",
                "text",
                "不好意思{cname}，公司规定不能给个人回扣，我可以帮您申请正规的项目折扣。",
            ),
            ("c", "text", "那算了，就按折扣来吧。"),
        ),
    ),
    Topic(
        "private_transfer",
        0.4,
        (
            ("s", "text", "{cname}，尾款您私下转账给我个人就行，可以再便宜两千。"),
            ("c", "text", "这样不太合适吧，我们只能走对公账户。"),
            ("s", "text", "好的好的，那还是走对公。"),
        ),
    ),
    Topic(
        "private_wechat",
        0.5,
        (
            ("s", "text", "以后有事加我私人微信聊吧，微信号 {wechat}。"),
            ("c", "text", "好的，已加。"),
        ),
    ),
    Topic(
        "rebate",
        0.7,
        (
            ("c", "text", "渠道返点是按季度结算吗？"),
            ("s", "text", "是的，返点按季度结算，比例写在渠道协议第{n}条。"),
            ("c", "text", "明白了。"),
        ),
    ),
]

# A leaver tells their customers who takes over (their last days: `archive` puts these last).
HANDOVER = Topic(
    "handover",
    0,
    (
        ("s", "text", "{cname}您好，跟您说一下，我月底就离职了，之后由{successor}负责您这边。"),
        ("c", "text", "这么突然，祝你前程似锦！"),
        ("s", "text", "谢谢{cname}，手上的合同和发货我都会交接清楚，{successor}会尽快联系您。"),
        ("c", "text", "好的，那报价的事后面找谁？"),
        ("s", "text", "找{successor}就行，报价单我已经转给接手的同事了。"),
    ),
)

ROOM = [
    Topic(
        "room_kickoff",
        3,
        (
            ("s", "text", "各位好，拉个群方便沟通{product}项目，有问题直接在群里说。"),
            ("c", "text", "好的，收到。"),
            ("c2", "text", "欢迎欢迎。"),
            ("s", "file", "{product}实施方案.pdf"),
        ),
    ),
    Topic(
        "room_training",
        4,
        (
            ("s", "text", "培训安排在下周{weekday}下午两点，线上会议，链接稍后发群里。"),
            ("s", "link", "{product}上线培训会议"),
            ("c", "text", "我们这边五个人参加。"),
            ("c2", "text", "能录屏吗？有同事来不了。"),
            ("s", "text", "可以的，会后把录屏发群里。"),
        ),
    ),
    Topic(
        "room_shipping",
        4,
        (
            ("c", "text", "@{rep} 第二批{item}什么时候发货？"),
            ("s", "text", "明天上午发货，物流单号发货后同步到群里。"),
            ("s", "text", "已发货，顺丰单号{tracking}。"),
            ("c2", "image", "到货照片"),
            ("c2", "text", "收到了，谢谢。"),
        ),
    ),
    Topic(
        "room_quote",
        4,
        (
            ("c", "text", "@{rep} 麻烦把最新报价发群里，我们财务也看一下。"),
            ("s", "file", "项目报价单.pdf"),
            ("c2", "text", "报价收到，没问题的话本周走合同。"),
        ),
    ),
    Topic(
        "room_issue",
        3,
        (
            ("c", "text", "系统今天有点卡，大家都是吗？"),
            ("c2", "text", "我这边也是。"),
            ("s", "text", "已经反馈技术，预计一小时内恢复，给大家添麻烦了。"),
            ("s", "text", "已经恢复了，大家刷新一下。"),
        ),
    ),
]

BY_NAME = {topic.name: topic for topic in [GREETING, HANDOVER, *PRIVATE, *ROOM]}
# The newest session of a rep's k-th private chat, and of a room: so every rep's last days hold
# the words a demo search tries first (报价, 合同, 发货), inside the reps' 7-day history window.
RECENT_PRIVATE = ["quote", "contract", "shipping"]
RECENT_ROOM = ["room_shipping", "room_quote"]
