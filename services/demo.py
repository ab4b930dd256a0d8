"""The demo company: a whole, deterministic sales organisation generated for a seed.

``build_demo(engine, scale=…, seed=…, lang=…)`` fills an empty database with a company, its
regions and teams, users (password ``DEMO_PASSWORD``), customers with contacts, deals with
their stage history, activities, contracts with payment plans and payments, service
tickets, marketing spend, targets decomposed company → team → rep and year → quarter →
month, sales plans, reviews, weekly forecast snapshots, courses, incentive schemes,
payouts, awards and team events — every table a page reads.

Rules the data follows (so pages show believable numbers):
- Deal closings follow a season: Q4 peak (December highest), a February dip (Spring
  Festival), a June half-year bump, and 20 %/year growth.
- Reps differ in skill: each has a win rate between 15 % and 45 % and a deal-size factor.
- Won deals have more activities than lost ones and end with a contract-signing activity;
  lost deals carry a lost reason; each deal has a stage path in ``deal_history`` (values are
  stage ids, like ``services.deals`` writes them).
- Every won deal has a contract, 1–3 installments (parts add up to the whole, the remainder
  on the largest) and payments: most on time, some partial, some overdue.
- About 10 % of customers sit in the public pool; owned customers were contacted within
  their tier's reclaim window (a few are stale on purpose, for ``salesops pool reclaim``).
- Some follow-ups are planned in the next days, some are overdue.

Deterministic: equal ``seed`` + ``today`` give identical rows (``today`` is the anchor date,
default the current UTC date, so the data is always "current"; nothing is dated later than
yesterday except planned follow-ups). The one exception is the password hash: argon2 salts
it randomly, and one hash is shared by every demo login.

Speed: rows are generated as tuples in memory and written with the driver's bulk path in
one transaction — ``executemany`` on SQLite, ``COPY`` on PostgreSQL — with explicit ids,
so foreign keys need no round trips. Secondary indexes of the big tables (and on PostgreSQL
their foreign keys) are dropped during the load and re-created afterwards from their own
definitions, read back from the database: one sort per index and one validation pass per
constraint instead of row-by-row maintenance. SQLite loads with a rollback journal (the new
pages are written once instead of WAL + checkpoint) and foreign-key checks off (the ids are
consistent by construction; the tests run ``PRAGMA foreign_key_check``), then returns to WAL.
Timestamps are written as UTC text in the form SQLAlchemy uses on SQLite (on PostgreSQL the
load runs with ``TIME ZONE 'UTC'``), dates as ISO text, money as whole currency units.
A failure anywhere rolls the whole load back (only the default stages, lost reasons,
channels and products — what a fresh install gets anyway — are committed before it).
"""

from __future__ import annotations

import bisect
import gc
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from services.collation import name_sort_key
from services.db import sqlite_outside_transaction
from services.dedupe import normalize_email, normalize_name, normalize_phone
from services.errors import ValidationError
from services.i18n import t

DEMO_PASSWORD = "demo1234"
"""Password of every demo login (admin, director, manager1…, rep1…). Shown on the sign-in
page only while the setting ``demo_mode`` is on."""

SCALE_NAMES = ("tiny", "small", "large")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Scale:
    regions: int
    teams: int
    reps: int
    customers: int
    deals: int
    activities: int
    months: int


SCALES: dict[str, Scale] = {
    # tiny: for tests (a second or two on either database)
    "tiny": Scale(regions=2, teams=2, reps=4, customers=120, deals=300, activities=1_500, months=12),
    "small": Scale(regions=2, teams=3, reps=10, customers=1_000, deals=3_000, activities=20_000, months=24),
    "large": Scale(regions=3, teams=9, reps=50, customers=100_000, deals=300_000, activities=1_000_000, months=36),
}


@dataclass
class DemoSummary:
    """What was built: row counts per table and the logins (username, role)."""

    counts: dict[str, int] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # phase → seconds (for benchmarks)


# ---------------------------------------------------------------------------
# vocabularies


ZH: dict[str, Any] = {
    "company": "华辰智能科技集团",
    "regions": [
        ("华东大区", "华东", ["上海", "杭州", "南京", "苏州", "宁波", "合肥", "无锡", "常州"]),
        ("华北大区", "华北", ["北京", "天津", "济南", "青岛", "石家庄", "太原", "沈阳", "大连"]),
        ("华南大区", "华南", ["深圳", "广州", "厦门", "福州", "佛山", "东莞", "长沙", "南宁"]),
    ],
    "team_suffix": ["一组", "二组", "三组"],
    "surnames": "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文",
    "given": "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚辉玲桂华红建国文斌宇浩凯俊峰鹏婷雪琳晨阳欣怡子涵梓萱思远博文嘉怡佳琪志强海燕春梅晓东立新",
    "brand_chars": "华信恒通瑞丰中科鼎盛金桥宏达天成永泰博远海纳新元汇聚嘉禾联创启明星辰东方锦程润泽卓越鑫源安捷智诚德隆正和佳宁百川长青万象云帆",
    "name_words": [
        ("科技", "信息技术"), ("信息技术", "信息技术"), ("网络科技", "信息技术"), ("机械制造", "制造业"),
        ("智能装备", "制造业"), ("精密仪器", "制造业"), ("汽车零部件", "制造业"), ("电子", "制造业"),
        ("医疗器械", "医疗健康"), ("生物科技", "医疗健康"), ("医药", "医疗健康"), ("物流", "物流运输"),
        ("供应链管理", "物流运输"), ("商贸", "零售"), ("连锁超市", "零售"), ("新材料", "化工材料"),
        ("化工", "化工材料"), ("能源", "能源"), ("新能源", "能源"), ("环保科技", "能源"),
        ("建设工程", "建筑"), ("食品", "食品饮料"), ("饮品", "食品饮料"), ("教育科技", "教育"),
        ("投资管理", "金融"), ("融资租赁", "金融"),
    ],
    "suffixes": [("有限公司", 80), ("股份有限公司", 15), ("集团有限公司", 5)],
    "titles": ["总经理", "采购经理", "技术总监", "IT经理", "财务总监", "运营总监", "副总裁", "行政主管", "项目经理", "供应链经理"],
    "products": [
        ("云ERP 标准版", "云ERP", 98_000, 35_000), ("云ERP 企业版", "云ERP", 268_000, 90_000),
        ("智能仓储系统 WMS", "智能仓储", 158_000, 60_000), ("仓储机器人 AGV-200", "智能仓储", 88_000, 52_000),
        ("数据分析平台 BI", "数据分析", 68_000, 18_000), ("数据中台", "数据分析", 380_000, 140_000),
        ("实施服务", "服务", 30_000, 18_000), ("年度运维服务", "服务", 20_000, 8_000),
        ("培训服务", "服务", 8_000, 3_000),
    ],
    "lost_reasons": ["价格过高", "选择了竞争对手", "预算不足", "需求取消", "决策延迟", "产品功能不满足", "失去联系"],
    "deal_name": "{customer}-{product}项目",
    "outcomes": {
        "call": ["确认需求，约定下周拜访", "客户在外出差，约下次通话", "沟通预算范围", "跟进方案反馈", "电话未接通，已发短信"],
        "email": ["发送产品资料", "发送报价单", "发送会议纪要", "发送案例介绍"],
        "meeting": ["与采购部门开会讨论方案", "线上会议演示核心功能", "与技术团队评审对接方案"],
        "visit": ["上门拜访，了解现场流程", "拜访决策人，介绍成功案例", "现场调研仓储流程"],
        "demo": ["产品演示，客户反馈积极", "演示数据分析看板", "POC 环境演示"],
        "contract_signing": ["合同签订完成", "双方盖章，合同生效"],
        "service": ["回访使用情况", "处理系统问题", "季度服务回访"],
        "other": ["节日问候", "邀请参加客户沙龙"],
    },
    "next_steps": ["发送正式报价", "安排产品演示", "约见决策人", "提交技术方案", "准备合同草稿", "确认预算审批进度"],
    "ticket_titles": {
        "installation": ["系统部署环境问题", "服务器安装失败"], "usage": ["报表如何导出", "权限设置咨询", "操作培训需求"],
        "defect": ["库存数据不同步", "打印模板错位", "登录偶发超时"], "billing": ["发票信息有误", "续费价格咨询"],
        "complaint": ["响应速度慢", "实施进度延误"], "other": ["功能建议", "接口对接咨询"],
    },
    "pay_methods": ["银行转账", "承兑汇票", "银行转账", "银行转账"],
    "courses": [
        ("产品知识：云ERP 全系列", "product_knowledge", 6), ("产品知识：智能仓储方案", "product_knowledge", 4),
        ("顾问式销售技巧", "sales_skills", 8), ("商务谈判与异议处理", "sales_skills", 6),
        ("大客户经营方法", "sales_skills", 4), ("行业市场分析：制造业数字化", "market_analysis", 3),
        ("竞品分析与应对", "market_analysis", 2), ("合同与回款风险管理", "other", 2),
    ],
    "schemes": ["月度阶梯提成（全额累进）", "季度回款提成（超额累进）", "季度目标达成奖", "年度销售竞赛"],
    "awards": {"monthly": "月度销冠", "quarter": "季度冠军", "club": "百万俱乐部"},
    "events": ["团队拓展：{place}徒步", "季度聚餐", "销售誓师大会", "读书分享会", "年终团建"],
    "plan_company": "{year}年度销售计划",
    "plan_team": "{team} {year}年销售计划",
    "plan_pricing": "核心产品维持标价，年度框架合同最高九折；服务类产品捆绑销售。",
    "plan_promotion": "Q2 行业峰会、Q4 年终促销；重点客户高层拜访计划。",
    "plan_channel": "加大合作伙伴渠道投入，转介绍客户给予奖励；线上广告聚焦制造业。",
    "milestones": ["完成年度目标分解", "召开渠道伙伴大会", "上半年业绩复盘", "推出 Q4 促销方案", "完成重点客户续约"],
    "review_company": "{period} 月度业绩复盘：赢单 {won} 单，金额 {amount}，赢率 {rate}。主要输单原因：{reason}。",
    "review_team": "{team} {period} 季度复盘：赢单 {won} 单，金额 {amount}，赢率 {rate}。",
    "review_actions": ["加强方案报价阶段的跟进频率", "重点客户每周拜访一次", "整理输单案例并分享", "优化报价审批流程", "补充竞品对比资料"],
    "basis_market": "行业数字化需求持续增长，预计市场规模年增 15%–20%。",
    "basis_history": "参考上一年度实际成交与季节性：Q4 为旺季，2 月春节淡季。",
    "basis_capacity": "按在岗销售人数与人均产能测算，新人按 50% 产能计。",
    "notes": ["重点客户，决策链长", "对价格敏感", "有续费机会", "曾使用竞品", "年底有预算"],
    "address": "{city}市{district}区{road}路{no}号",
    "districts": ["浦东新", "海淀", "南山", "西湖", "鼓楼", "高新", "经开", "滨江", "天河", "朝阳"],
    "roads": ["科技", "创新", "人民", "建设", "长江", "中山", "解放", "学院", "金融", "工业"],
    "email_domain": ".com.cn",
}

EN: dict[str, Any] = {
    "company": "Northwind Solutions Group",
    "regions": [
        ("East Region", "East", ["New York", "Boston", "Philadelphia", "Atlanta", "Miami", "Charlotte", "Pittsburgh", "Baltimore"]),
        ("West Region", "West", ["San Francisco", "Seattle", "Los Angeles", "Portland", "San Diego", "Denver", "Phoenix", "Las Vegas"]),
        ("Central Region", "Central", ["Chicago", "Dallas", "Austin", "Houston", "Minneapolis", "Detroit", "St. Louis", "Kansas City"]),
    ],
    "team_suffix": [" Team 1", " Team 2", " Team 3"],
    "first_names": ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
                    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
                    "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Steven", "Ashley",
                    "Paul", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa", "Brian", "Laura",
                    "Olivia", "Ethan", "Sophia", "Liam", "Ava", "Noah", "Mia", "Lucas", "Chloe", "Grace"],
    "last_names": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
                   "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
                   "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King",
                   "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell", "Mitchell", "Carter",
                   "Roberts", "Turner", "Phillips", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy"],
    "brand_a": ["North", "Blue", "Red", "Silver", "Iron", "Green", "Bright", "Stone", "Oak", "Maple", "Pine", "Lake",
                "River", "Sun", "Star", "Gold", "Clear", "High", "West", "East", "Summit", "Harbor", "Cedar", "Eagle",
                "Fox", "Birch", "Copper", "Falcon", "Granite", "Hawk", "Ash", "Elm", "Frost", "Glen", "Wolf", "Bay",
                "Sky", "Rock", "Moss", "Willow"],
    "brand_b": ["wind", "field", "gate", "bridge", "water", "ridge", "stone", "view", "point", "haven", "crest", "wood",
                "brook", "line", "way", "peak", "port", "dale", "ford", "light", "mark", "stead", "field", "moor",
                "vale", "bury", "ton", "shire", "wick", "mont"],
    "adjectives": ["Advanced", "Global", "United", "Precision", "Pacific", "Atlantic", "Premier", "National",
                   "American", "Continental", "Allied", "Integrated", "Applied", "Dynamic", "Modern", "Central",
                   "Coastal", "Metro", "Prime", "Superior"],
    "name_words": [
        ("Technologies", "Information Technology"), ("Software", "Information Technology"), ("Networks", "Information Technology"),
        ("Manufacturing", "Manufacturing"), ("Robotics", "Manufacturing"), ("Instruments", "Manufacturing"),
        ("Auto Parts", "Manufacturing"), ("Electronics", "Manufacturing"), ("Medical", "Healthcare"),
        ("Biotech", "Healthcare"), ("Pharma", "Healthcare"), ("Logistics", "Logistics"), ("Freight", "Logistics"),
        ("Retail", "Retail"), ("Markets", "Retail"), ("Materials", "Chemicals & Materials"),
        ("Chemicals", "Chemicals & Materials"), ("Energy", "Energy"), ("Solar", "Energy"), ("Environmental", "Energy"),
        ("Construction", "Construction"), ("Foods", "Food & Beverage"), ("Beverages", "Food & Beverage"),
        ("Learning", "Education"), ("Capital", "Finance"), ("Leasing", "Finance"),
    ],
    "suffixes": [("Inc.", 40), ("LLC", 25), ("Co., Ltd.", 10), ("Corp.", 15), ("Group", 10)],
    "titles": ["CEO", "Purchasing Manager", "CTO", "IT Manager", "CFO", "COO", "VP Operations", "Office Manager",
               "Project Manager", "Supply Chain Manager"],
    "products": [
        ("Cloud ERP Standard", "Cloud ERP", 98_000, 35_000), ("Cloud ERP Enterprise", "Cloud ERP", 268_000, 90_000),
        ("Smart WMS", "Smart Warehouse", 158_000, 60_000), ("AGV-200 Warehouse Robot", "Smart Warehouse", 88_000, 52_000),
        ("Analytics BI", "Analytics", 68_000, 18_000), ("Data Platform", "Analytics", 380_000, 140_000),
        ("Implementation Services", "Services", 30_000, 18_000), ("Annual Support", "Services", 20_000, 8_000),
        ("Training Services", "Services", 8_000, 3_000),
    ],
    "lost_reasons": ["Price too high", "Chose a competitor", "No budget", "Project cancelled", "Decision delayed",
                     "Missing features", "Lost contact"],
    "deal_name": "{customer} - {product}",
    "outcomes": {
        "call": ["Confirmed needs, visit next week", "Customer travelling, call again", "Discussed budget range",
                 "Followed up on proposal", "No answer, left voicemail"],
        "email": ["Sent product brochure", "Sent quotation", "Sent meeting notes", "Sent case study"],
        "meeting": ["Solution workshop with purchasing", "Online demo of core features", "Technical review with IT"],
        "visit": ["On-site visit, mapped their process", "Met the decision maker", "Warehouse site survey"],
        "demo": ["Product demo, positive feedback", "Demoed analytics dashboards", "POC environment demo"],
        "contract_signing": ["Contract signed", "Signed and countersigned"],
        "service": ["Usage check-in", "Handled a support issue", "Quarterly service review"],
        "other": ["Holiday greetings", "Invited to customer event"],
    },
    "next_steps": ["Send formal quote", "Schedule a demo", "Meet the decision maker", "Submit technical proposal",
                   "Draft the contract", "Check budget approval"],
    "ticket_titles": {
        "installation": ["Deployment environment issue", "Server install failed"],
        "usage": ["How to export reports", "Permission setup question", "Training request"],
        "defect": ["Stock data out of sync", "Print template misaligned", "Occasional login timeout"],
        "billing": ["Wrong invoice details", "Renewal price question"],
        "complaint": ["Slow response", "Implementation delayed"], "other": ["Feature suggestion", "API integration question"],
    },
    "pay_methods": ["Bank transfer", "Check", "Bank transfer", "Bank transfer"],
    "courses": [
        ("Product: Cloud ERP family", "product_knowledge", 6), ("Product: Smart Warehouse solutions", "product_knowledge", 4),
        ("Consultative selling", "sales_skills", 8), ("Negotiation and objection handling", "sales_skills", 6),
        ("Key account management", "sales_skills", 4), ("Market analysis: manufacturing digitalisation", "market_analysis", 3),
        ("Competitor analysis", "market_analysis", 2), ("Contract and collection risk", "other", 2),
    ],
    "schemes": ["Monthly tiered commission (full)", "Quarterly collections commission (excess)",
                "Quarterly attainment bonus", "Annual sales contest"],
    "awards": {"monthly": "Top seller of the month", "quarter": "Quarter champion", "club": "Million club"},
    "events": ["Team hike at {place}", "Quarterly team dinner", "Sales kickoff", "Book club", "Year-end party"],
    "plan_company": "{year} sales plan",
    "plan_team": "{team} {year} sales plan",
    "plan_pricing": "List prices for core products; up to 10% off for annual framework contracts; bundle services.",
    "plan_promotion": "Industry summit in Q2, year-end promotion in Q4; executive visits to key accounts.",
    "plan_channel": "Invest more in partners; reward referrals; online ads focused on manufacturing.",
    "milestones": ["Targets decomposed to reps", "Partner conference", "Half-year review", "Launch Q4 promotion",
                   "Key account renewals done"],
    "review_company": "{period} monthly review: {won} deals won, {amount}, win rate {rate}. Top lost reason: {reason}.",
    "review_team": "{team} {period} quarterly review: {won} deals won, {amount}, win rate {rate}.",
    "review_actions": ["Follow up more often in the proposal stage", "Visit key accounts weekly", "Share lost-deal cases",
                       "Speed up quote approvals", "Update competitor battle cards"],
    "basis_market": "Demand for digitalisation keeps growing; the market grows 15–20% a year.",
    "basis_history": "Based on last year's actual bookings and seasonality: Q4 peak, February dip.",
    "basis_capacity": "Headcount × average productivity; new hires counted at 50%.",
    "notes": ["Key account, long decision chain", "Price sensitive", "Renewal opportunity", "Used a competitor before",
              "Budget available at year end"],
    "address": "{no} {road} Street, {city}",
    "districts": [""],
    "roads": ["Main", "Oak", "Maple", "Market", "Park", "Washington", "Lake", "Hill", "Cedar", "Elm"],
    "email_domain": ".com",
}

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]
MONTH_SEASON = {1: 0.85, 2: 0.55, 3: 1.0, 4: 0.95, 5: 1.0, 6: 1.2, 7: 0.9, 8: 0.9, 9: 1.05, 10: 1.15, 11: 1.35, 12: 1.7}
TIER_RECLAIM = {"A": 60, "B": 30, "C": 15}  # settings.DEFAULTS["pool_reclaim_days"]
LOCAL_OFFSET_MIN = 8 * 60  # business hours are generated in UTC+8 (default time zone Asia/Shanghai)


def _month_add(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, 1)


def _split(total: int, shares: list[float]) -> list[int]:
    """Whole-unit split; the rounding remainder goes to the largest share."""
    parts = [int(total * s) for s in shares]
    parts[shares.index(max(shares))] += total - sum(parts)
    return parts


# ---------------------------------------------------------------------------


class _FastRandom(random.Random):
    """``random.Random`` whose ``randrange`` and ``choice`` take one ``random()`` call each —
    several times faster than the exact versions, which matters for millions of rows. The bias
    (< 2⁻⁴⁰) is irrelevant for demo data; results stay deterministic per seed."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


class _Clock:
    """Days as ordinals and timestamps as minutes since ``base``, formatted once as text."""

    def __init__(self, first: date, last: date) -> None:
        self.base = first.toordinal()
        self.days = [date.fromordinal(self.base + i).isoformat() for i in range(last.toordinal() - self.base + 1)]
        self.hms = [f" {m // 60:02d}:{m % 60:02d}:00.000000" for m in range(1440)]

    def day(self, ordinal: int) -> str:
        return self.days[ordinal - self.base]

    def ts(self, minute: int) -> str:
        """UTC timestamp text (the form SQLAlchemy stores on SQLite)."""
        d, m = divmod(minute, 1440)
        return self.days[d] + self.hms[m]

    def minute(self, ordinal: int, local_minute: int) -> int:
        """Minutes since base for a local (UTC+8) time of day on a day."""
        return (ordinal - self.base) * 1440 + local_minute - LOCAL_OFFSET_MIN


class _Rows:
    """Generated rows per table: column names + tuples (insert order = dict order)."""

    def __init__(self) -> None:
        self.tables: dict[str, tuple[list[str], list[tuple]]] = {}

    def add(self, table: str, cols: list[str], rows: list[tuple]) -> None:
        if table in self.tables:
            self.tables[table][1].extend(rows)
        else:
            self.tables[table] = (cols, rows)


def build_demo(
    engine: Engine,
    *,
    scale: str = "small",
    seed: int = 42,
    lang: str = "zh_CN",
    progress: Progress | None = None,
    today: date | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo company (see the module docstring).

    Refuses with ``ValidationError`` when the database already has users. Migrates the schema
    first when it is missing. Everything is written in one transaction: a failure leaves the
    database as it was. Sets ``demo_mode`` so the sign-in page lists the demo logins."""
    from services.db import is_empty, migrate

    started = time.perf_counter()
    lang = "en" if str(lang).lower().startswith("en") else "zh_CN"
    if scale not in SCALES:
        raise ValidationError({"scale": t("err.not_in_list", lang, options=", ".join(SCALE_NAMES))})
    report = progress or (lambda _f, _m: None)
    if not inspect(engine).has_table("user"):
        migrate(engine)
    if not is_empty(engine):
        raise ValidationError({"database": t("demo.err_not_empty", lang)})

    anchor = today or datetime.now(UTC).date()
    report(0.0, t("demo.step_generate", lang))
    gen = _Generator(SCALES[scale], _FastRandom(seed), lang, anchor)
    # millions of small tuples: the cyclic GC would rescan them again and again for nothing
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with engine.connect() as conn:
            gen.reference(conn)
            mark = time.perf_counter()
            gen.generate(lambda f, m: report(0.02 + 0.28 * f, m))
            summary = DemoSummary(logins=gen.logins)
            summary.timings["generate"] = time.perf_counter() - mark
            _write(conn, gen, lambda f, m: report(0.3 + 0.68 * f, m), summary)
    finally:
        del gen
        if gc_was_enabled:
            gc.enable()
    report(1.0, t("demo.step_done", lang))
    summary.seconds = time.perf_counter() - started
    return summary


# ---------------------------------------------------------------------------
# writing


BIG_TABLES = ("customer", "contact", "deal", "deal_history", "activity", "contract", "payment_plan", "payment",
              "service_ticket", "target")


def _secondary_indexes(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-constraint indexes of a table."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (table,)
        ).all()
        return [(r[0], r[1]) for r in rows if not r[1].upper().startswith("CREATE UNIQUE")]
    rows = conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = :t AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
            "AND c.connamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))"
            " AND i.indexdef NOT LIKE 'CREATE UNIQUE%'"
        ),
        {"t": table},
    ).all()
    return [(r[0], r[1]) for r in rows]


def _foreign_keys(conn: Connection) -> list[tuple[str, str, str]]:
    """PostgreSQL: (table, name, definition) of the foreign keys on the big tables. Dropped
    during the load and added back afterwards: one validation pass per constraint instead of
    a trigger call per row."""
    rows = conn.execute(
        text(
            "SELECT cl.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace "
            "WHERE c.contype = 'f' AND n.nspname = current_schema() AND cl.relname = ANY(:tables) "
            "ORDER BY cl.relname, c.conname"
        ),
        {"tables": list(BIG_TABLES)},
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _write(conn: Connection, gen: _Generator, report: Progress, summary: DemoSummary) -> None:
    dialect = conn.dialect.name
    total = sum(len(rows) for _cols, rows in gen.rows.tables.values()) or 1
    done = 0
    journal = None
    if dialect == "sqlite":
        # The database is empty: with a rollback journal the new pages are written once, straight
        # into the file (pages past the old end need no journal), instead of WAL + checkpoint.
        # Back to WAL afterwards. When another connection holds the file, we simply stay in WAL.
        # these PRAGMAs only take effect outside a transaction: run them on the raw connection
        conn.commit()
        try:
            journal = sqlite_outside_transaction(conn, "PRAGMA journal_mode=DELETE")[0]
        except sqlite3.OperationalError:
            journal = None
        sqlite_outside_transaction(conn, "PRAGMA cache_size=-262144")  # 256 MB page cache for the load
        sqlite_outside_transaction(conn, "PRAGMA foreign_keys=OFF")  # ids generated consistently; checked in tests
        sqlite_outside_transaction(conn, "PRAGMA threads=2")  # CREATE INDEX sorts with a helper thread
    try:
        with conn.begin():
            if dialect == "postgresql":
                conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
            dropped: list[tuple[str, str]] = []
            for table in BIG_TABLES:
                for name, ddl in _secondary_indexes(conn, table):
                    conn.exec_driver_sql(f'DROP INDEX "{name}"')
                    dropped.append((name, ddl))
            foreign_keys = _foreign_keys(conn) if dialect == "postgresql" else []
            for table, name, _ddl in foreign_keys:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for table, (cols, rows) in gen.rows.tables.items():
                report(0.95 * done / total, t("demo.step_write", gen.lang, table=table, rows=f"{len(rows):,}"))
                mark = time.perf_counter()
                _bulk_insert(conn, table, cols, rows)
                summary.timings[f"insert {table}"] = time.perf_counter() - mark
                done += len(rows)
                summary.counts[table] = summary.counts.get(table, 0) + len(rows)
                gen.rows.tables[table] = (cols, [])  # free the memory as we go
            report(0.97, t("demo.step_index", gen.lang))
            mark = time.perf_counter()
            for _name, ddl in dropped:
                conn.exec_driver_sql(ddl)
            for table, name, ddl in foreign_keys:  # re-checked here, in one pass per constraint
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {ddl}')
            if dialect == "postgresql":
                for table in gen.rows.tables:
                    if "id" in gen.rows.tables[table][0]:
                        conn.exec_driver_sql(
                            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                            f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
                        )
            with Session(bind=conn) as session:
                from services import settings

                settings.put(session, "demo_mode", True)
                settings.put(session, "default_language", gen.lang)
                session.flush()
            summary.timings["indexes + constraints"] = time.perf_counter() - mark
            mark = time.perf_counter()
        summary.timings["commit"] = time.perf_counter() - mark
    finally:
        if dialect == "sqlite":
            conn.rollback()  # no-op after the commit above; ends a failed load's transaction
            sqlite_outside_transaction(conn, "PRAGMA foreign_keys=ON")
            sqlite_outside_transaction(conn, "PRAGMA cache_size=-2000")
            sqlite_outside_transaction(conn, "PRAGMA threads=0")
            if journal and journal.lower() != "wal":
                sqlite_outside_transaction(conn, "PRAGMA journal_mode=WAL")
    report(0.99, t("demo.step_analyze", gen.lang))
    mark = time.perf_counter()
    if dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA analysis_limit=1000")
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    else:
        # only our tables (a bare ANALYZE would visit every schema of the database); VACUUM
        # sets the visibility map so the grid/board indexes give index-only scans at once.
        # VACUUM cannot run inside a transaction: autocommit for this statement.
        tables = [tb for tb in gen.rows.tables if summary.counts.get(tb)]
        conn.commit()
        raw = conn.connection.dbapi_connection
        previous, raw.autocommit = raw.autocommit, True
        try:
            raw.execute("VACUUM (ANALYZE) " + ", ".join(f'"{tb}"' for tb in tables))
        finally:
            raw.autocommit = previous
    summary.timings["analyze"] = time.perf_counter() - mark


def _bulk_insert(conn: Connection, table: str, cols: list[str], rows: list[tuple], chunk: int = 50_000) -> None:
    if not rows:
        return
    collist = ", ".join(f'"{c}"' for c in cols)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            with cursor.copy(f'COPY "{table}" ({collist}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    sql = f'INSERT INTO "{table}" ({collist}) VALUES ({", ".join("?" * len(cols))})'
    for i in range(0, len(rows), chunk):
        conn.exec_driver_sql(sql, rows[i : i + chunk])


# ---------------------------------------------------------------------------
# generation


class _Generator:
    def __init__(self, scale: Scale, rng: random.Random, lang: str, anchor: date) -> None:
        self.s = scale
        self.rng = rng
        self.lang = lang
        self.v = ZH if lang == "zh_CN" else EN
        self.anchor = anchor
        self.a = anchor.toordinal()
        self.start = _month_add(anchor.replace(day=1), -(scale.months - 1))
        self.s0 = self.start.toordinal()
        self.year_first = date(self.start.year, 1, 1)
        self.clock = _Clock(self.year_first - timedelta(days=800), date(anchor.year + 4, 12, 31))
        self.rows = _Rows()
        self.logins: list[tuple[str, str]] = []
        self.next_ids: dict[str, int] = {}

    # -- ids ------------------------------------------------------------------------------
    def ids(self, table: str, n: int) -> range:
        first = self.next_ids.get(table, 1)
        self.next_ids[table] = first + n
        return range(first, first + n)

    # -- reference data (stages, lost reasons, channels, products) -------------------------
    def reference(self, conn: Connection) -> None:
        """Stages, lost reasons and channels through ``services.reference.ensure_defaults`` (the
        same defaults a fresh install gets), our products; then read them back."""
        v = self.v
        tables = ("team", "user", "customer", "contact", "deal", "deal_history", "activity", "contract",
                  "payment_plan", "payment", "service_ticket", "marketing_spend", "target", "sales_plan",
                  "plan_milestone", "plan_allocation", "review", "review_action", "forecast_snapshot", "course",
                  "enrollment", "incentive_scheme", "payout", "award", "team_event", "audit_log", "product",
                  "stage", "lost_reason", "channel")
        with conn.begin():
            with Session(bind=conn) as session:
                from services.reference import ensure_defaults

                ensure_defaults(session, locale=self.lang)
            existing = {r[0] for r in conn.exec_driver_sql('SELECT name FROM "product"')}
            missing = [(n, s, p, c, True) for n, s, p, c in v["products"] if n not in existing]
            if missing:
                _bulk_insert(conn, "product", ["name", "series", "list_price", "unit_cost", "active"], missing)
            for table in tables:
                top = conn.exec_driver_sql(f'SELECT MAX(id) FROM "{table}"').scalar()
                self.next_ids[table] = (top or 0) + 1
            stages = conn.exec_driver_sql(
                'SELECT id, sequence, probability, kind FROM "stage" WHERE active ORDER BY sequence, id').all()
            self.lost_reasons = [r[0] for r in conn.exec_driver_sql(
                'SELECT id FROM "lost_reason" WHERE active ORDER BY id')]
            self.channels = [r[0] for r in conn.exec_driver_sql('SELECT id FROM "channel" WHERE active ORDER BY id')]
            self.products = [tuple(r) for r in conn.exec_driver_sql(
                'SELECT id, name, list_price, unit_cost FROM "product" WHERE active ORDER BY id')]
        self.open_stages = [(r[0], r[2]) for r in stages if r[3] == "open"]
        self.won_stage = next(r[0] for r in stages if r[3] == "won")
        self.lost_stage = next(r[0] for r in stages if r[3] == "lost")
        if not self.open_stages or not self.channels or not self.lost_reasons:
            raise ValidationError({"stages": t("demo.err_reference", self.lang)})

    # -- names ------------------------------------------------------------------------------
    def person(self) -> str:
        r = self.rng
        if self.lang == "zh_CN":
            given = r.choice(self.v["given"])
            if r.random() < 0.6:
                given += r.choice(self.v["given"])
            return r.choice(self.v["surnames"]) + given
        return f"{r.choice(self.v['first_names'])} {r.choice(self.v['last_names'])}"

    def company_name(self, city: str, taken: set[str]) -> tuple[str, str]:
        r, v = self.rng, self.v
        suffixes = [s for s, _w in v["suffixes"]]
        weights = [w for _s, w in v["suffixes"]]
        for attempt in range(50):
            word, industry = r.choice(v["name_words"])
            suffix = r.choices(suffixes, weights)[0]
            if self.lang == "zh_CN":
                chars = v["brand_chars"]
                brand = r.choice(chars) + r.choice(chars)
                name = f"{city}{brand}{word}{suffix}"
            else:
                brand = r.choice(v["brand_a"]) + r.choice(v["brand_b"])
                if attempt < 20:
                    middle = f" {r.choice(v['adjectives'])}" if r.random() < 0.6 else ""
                    name = f"{brand}{middle} {word} {suffix}"
                else:
                    name = f"{brand} {word} of {city} {suffix}"
            key = normalize_name(name)  # unique as the duplicate check sees names, not just as typed
            if key not in taken:
                taken.add(key)
                return name, industry
        name = f"{name} {len(taken)}"
        taken.add(normalize_name(name))
        return name, industry

    def phone(self) -> str:
        r = self.rng
        if self.lang == "zh_CN":
            return f"1{r.choice('3589')}{r.randrange(10)}{r.randrange(10**8):08d}"
        return f"+1 ({r.randrange(201, 990)}) 555-{r.randrange(10000):04d}"

    def credit_code(self) -> str:
        r = self.rng
        body = "91" + f"{r.randrange(110000, 660000):06d}" + "".join(r.choice(_CREDIT_CHARS) for _ in range(9))
        total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(body, _CREDIT_WEIGHTS, strict=True))
        return body + _CREDIT_CHARS[(31 - total % 31) % 31]

    def business_minute(self, ordinal: int) -> int:
        """A minute between 08:30 and 19:00 local time on the day (as minutes since base, UTC)."""
        return (ordinal - self.clock.base) * 1440 + 30 + int(self.rng.random() * 630)

    # -- the whole company --------------------------------------------------------------------
    def generate(self, report: Progress) -> None:
        report(0.0, t("demo.step_org", self.lang))
        self.org()
        report(0.05, t("demo.step_customers", self.lang))
        self.customers()
        report(0.15, t("demo.step_deals", self.lang))
        self.deals()
        report(0.35, t("demo.step_activities", self.lang))
        self.activities()
        report(0.7, t("demo.step_contracts", self.lang))
        self.finish_customers()
        self.contracts()
        self.tickets()
        self.marketing()
        report(0.85, t("demo.step_targets", self.lang))
        self.targets()
        self.plans()
        self.reviews()
        self.forecasts()
        report(0.95, t("demo.step_team", self.lang))
        self.team_program()
        self.audit()
        # insert order follows foreign keys
        order = ["team", "user", "customer", "contact", "deal", "deal_history", "activity", "contract",
                 "payment_plan", "payment", "service_ticket", "marketing_spend", "target", "sales_plan",
                 "sales_plan_target", "plan_milestone", "plan_allocation", "review", "review_action",
                 "forecast_snapshot", "course", "enrollment", "incentive_scheme", "payout", "award", "team_event",
                 "audit_log"]
        self.rows.tables = {k: self.rows.tables[k] for k in order if k in self.rows.tables}

    def org(self) -> None:
        s, r, v, clock = self.s, self.rng, self.v, self.clock
        created = clock.ts(clock.minute(self.s0 - 30, 9 * 60))
        company_id = self.ids("team", 1)[0]
        region_ids = list(self.ids("team", s.regions))
        team_ids = list(self.ids("team", s.teams))
        user_cols = ["id", "username", "display_name", "email", "role", "team_id", "password_hash", "locale",
                     "capacity", "active", "created_at"]
        from services.passwords import hash_password

        pw = hash_password(DEMO_PASSWORD)  # argon2 is slow by design: one hash shared by every demo login
        users: list[tuple] = []

        def user(username: str, role: str, team: int, capacity: int) -> int:
            uid = self.ids("user", 1)[0]
            email = f"{username}@demo.salesops.example"
            users.append((uid, username, self.person(), email, role, team, pw, self.lang, capacity, True, created))
            self.logins.append((username, role))
            return uid

        self.admin = user("admin", "admin", company_id, 0)
        self.director = user("director", "director", company_id, 0)
        self.team_region: dict[int, int] = {}
        self.managers: dict[int, int] = {}
        teams: list[tuple] = [(company_id, v["company"], "company", None, self.director, None, True)]
        for i, rid in enumerate(region_ids):
            name, short, _cities = v["regions"][i]
            teams.append((rid, name, "region", company_id, self.director, short, True))
        for i, tid in enumerate(team_ids):
            ri = i % s.regions
            self.team_region[tid] = ri
            _name, short, _cities = v["regions"][ri]
            nth = i // s.regions
            suffix = v["team_suffix"][nth % len(v["team_suffix"])] if s.teams > s.regions else v["team_suffix"][0]
            if nth >= len(v["team_suffix"]):
                suffix = f"{suffix}{nth // len(v['team_suffix']) + 1}"
            self.managers[tid] = user(f"manager{i + 1}", "manager", tid, 0)
            teams.append((tid, f"{short}{suffix}", "team", region_ids[ri], self.managers[tid], short, True))
        self.teams = team_ids
        self.company_id = company_id
        self.reps: list[int] = []
        self.rep_team: dict[int, int] = {}
        self.skill: dict[int, float] = {}
        self.size_factor: dict[int, float] = {}
        self.volume: dict[int, float] = {}
        for i in range(s.reps):
            tid = team_ids[i % s.teams]
            cap = r.choice([300_000, 400_000, 500_000, 600_000])
            uid = user(f"rep{i + 1}", "rep", tid, cap)
            self.reps.append(uid)
            self.rep_team[uid] = tid
            # skills spread evenly 15 %–45 % (shuffled), so every demo has a clear best and worst rep
            self.skill[uid] = 0.15 + 0.30 * (i / max(1, s.reps - 1))
            self.size_factor[uid] = r.uniform(0.8, 1.25)
            self.volume[uid] = r.uniform(0.75, 1.3)
        skills = list(self.skill.values())
        r.shuffle(skills)
        self.skill = dict(zip(self.reps, skills, strict=True))
        self.team_reps = {tid: [u for u in self.reps if self.rep_team[u] == tid] for tid in team_ids}
        self.user_names = {u[0]: u[2] for u in users}
        self.rows.add("team", ["id", "name", "kind", "parent_id", "manager_id", "region", "active"], teams)
        self.rows.add("user", user_cols, users)

    def customers(self) -> None:
        s, r, v, clock = self.s, self.rng, self.v, self.clock
        n = s.customers
        ids = list(self.ids("customer", n))
        taken: set[str] = set()
        tiers = r.choices("ABC", [15, 35, 50], k=n)
        pool_flags = [r.random() < 0.10 for _ in range(n)]
        # reps own customers in their team's region; busier reps own more
        region_reps: dict[int, list[int]] = {}
        for u in self.reps:
            region_reps.setdefault(self.team_region[self.rep_team[u]], []).append(u)
        regions_used = sorted(region_reps)
        # [id, name, tier, owner, previous owner, pool day, region index, city, channel, industry, domain]
        self.cust: list[list] = []
        self.cust_index = {cid: i for i, cid in enumerate(ids)}
        chan_weights = [5, 3, 2, 3, 3, 4][: len(self.channels)] + [2] * max(0, len(self.channels) - 6)
        channels = r.choices(self.channels, chan_weights, k=n)
        for i, cid in enumerate(ids):
            ri = regions_used[i % len(regions_used)] if r.random() < 0.9 else r.choice(regions_used)
            city = r.choice(v["regions"][ri][2])
            name, industry = self.company_name(city, taken)
            reps = region_reps[ri]
            rep = r.choices(reps, [self.volume[u] for u in reps])[0]
            if pool_flags[i]:
                pool_day = self.a - r.randrange(1, 150)
                self.cust.append([cid, name, tiers[i], None, rep, pool_day, ri, city, channels[i], industry,
                                  self._domain(cid)])
            else:
                self.cust.append([cid, name, tiers[i], rep, None, None, ri, city, channels[i], industry,
                                  self._domain(cid)])
        self.owned_idx = [i for i, c in enumerate(self.cust) if c[3] is not None]
        # contacts: 1–3 per customer, the first is primary
        cols = ["id", "customer_id", "name", "title", "phone", "email", "is_primary", "notes", "created_at"]
        rows: list[tuple] = []
        self.contacts: list[list[int]] = []
        created = clock.ts(clock.minute(self.s0, 10 * 60))
        next_id = self.next_ids["contact"]
        for c in self.cust:
            k = r.choices((1, 2, 3), (55, 35, 10))[0]
            mine = []
            for j in range(k):
                name = self.person()
                handle = f"c{next_id}"
                rows.append((next_id, c[0], name, r.choice(v["titles"]), self.phone(),
                             f"{handle}@{c[10]}", j == 0, None, created))
                mine.append(next_id)
                next_id += 1
            self.contacts.append(mine)
        self.next_ids["contact"] = next_id
        self.rows.add("contact", cols, rows)

    def _domain(self, cid: int) -> str:
        letters = "abcdefghijklmnopqrstuvwxyz"
        x, out = cid * 7919 + 13, []
        for _ in range(5):
            x, d = divmod(x, 26)
            out.append(letters[d])
        return "".join(out) + self.v["email_domain"]

    def deals(self) -> None:
        s, r, v, clock = self.s, self.rng, self.v, self.clock
        n = s.deals
        # close-date distribution: season × growth × weekdays, over the window + 4 months ahead
        last = self.a + 120
        days = list(range(self.s0, last + 1))
        cum, acc = [], 0.0
        for o in days:
            d = date.fromordinal(o)
            w = MONTH_SEASON[d.month] * (1 + 0.2 * (o - self.s0) / 365) * (1.0 if d.weekday() < 5 else 0.15)
            acc += w
            cum.append(acc)
        targets = r.choices(days, cum_weights=cum, k=n)
        tier_w = {"A": 4.0, "B": 2.0, "C": 1.0}
        cust_cum, acc = [], 0.0
        for c in self.cust:
            acc += tier_w[c[2]] * (self.volume[c[3] or c[4]])
            cust_cum.append(acc)
        owned_cum, acc = [], 0.0
        for i in self.owned_idx:
            c = self.cust[i]
            acc += tier_w[c[2]] * self.volume[c[3]]
            owned_cum.append(acc)
        picks = r.choices(range(len(self.cust)), cum_weights=cust_cum, k=n)
        products = self.products
        prod_w = [5, 2, 4, 3, 5, 1, 3, 3, 2][: len(products)] + [2] * max(0, len(products) - 9)
        prod_picks = r.choices(range(len(products)), prod_w, k=n)
        open_stages = self.open_stages
        n_open = len(open_stages)
        ids = list(self.ids("deal", n))
        deal_cols = ["id", "name", "customer_id", "owner_id", "product_id", "amount", "stage_id", "probability",
                     "expected_close", "channel_id", "next_step", "opened_on", "closed_on", "lost_reason_id",
                     "lost_note", "stage_changed_at", "last_activity_at", "external_id", "created_at", "updated_at",
                     "version"]
        # kept for activities / contracts: (id, cust_idx, owner, opened, end, outcome, amount, product_idx)
        self.deal_info: list[tuple] = []
        hist: list[tuple] = []
        hist_id = self.next_ids["deal_history"]
        self.deal_rows: list[list] = []
        lost_w = [5, 4, 3, 2, 2, 2, 1][: len(self.lost_reasons)] + [1] * max(0, len(self.lost_reasons) - 7)
        lost_picks = r.choices(self.lost_reasons, lost_w, k=n)
        lost_stage_w = [4, 3, 2, 1][:n_open] + [1] * max(0, n_open - 4)
        lost_reach = r.choices(range(1, n_open + 1), lost_stage_w, k=n)
        qty_picks = r.choices((1, 2, 3), (60, 25, 15), k=n)
        cycle_f = {"A": 1.8, "B": 1.2, "C": 0.8}
        size_f = {"A": 1.5, "B": 1.0, "C": 0.7}
        win_f = {"A": 1.15, "B": 1.0, "C": 0.85}
        rnd = r.random
        suffixes = sorted((sfx for sfx, _w in v["suffixes"]), key=len, reverse=True)

        def short_name(name: str) -> str:
            for sfx in suffixes:
                if name.endswith(sfx):
                    return name[: -len(sfx)].rstrip()[:60]
            return name[:60]

        short_names = [short_name(c[1]) for c in self.cust]
        for k in range(n):
            did = ids[k]
            ci = picks[k]
            c = self.cust[ci]
            end = targets[k]
            if c[3] is None and end >= c[5] - 5:
                # a pool customer only had deals before it was released: give this deal to an owned one
                ci = self.owned_idx[bisect.bisect_left(owned_cum, r.random() * owned_cum[-1])]
                c = self.cust[ci]
            owner = c[3] or c[4]
            tier = c[2]
            cycle = int((15 + 45 * rnd()) * cycle_f[tier])
            opened = max(end - cycle, self.s0 - 20)
            pi = prod_picks[k]
            pid, pname, price, _cost = products[pi]
            qty = qty_picks[k] if price < 100_000 else 1
            amount = int(float(price) * qty * (0.75 + 0.5 * rnd()) * self.size_factor[owner] * size_f[tier]) // 100 * 100
            amount = max(amount, 1_000)
            if end < self.a:
                p_win = self.skill[owner] * win_f[tier]
                if c[3] is None:
                    p_win *= 0.3
                outcome = "won" if r.random() < p_win else "lost"
            else:
                outcome = "open"
                opened = min(opened, self.a - r.randrange(1, 20))
            # stage path: open stages in order (sometimes one skipped), then won/lost
            if outcome == "won":
                reach = n_open
            elif outcome == "lost":
                reach = lost_reach[k]
            else:
                frac = (self.a - opened) / max(1, end - opened)
                reach = max(1, min(n_open, int(frac * n_open * r.uniform(0.7, 1.3)) + 1))
            path = [open_stages[i][0] for i in range(reach)]
            if len(path) > 2 and r.random() < 0.2:
                del path[r.randrange(1, len(path) - 1)]
            close = end if outcome != "open" else None
            last_day = close if close is not None else self.a - 1  # nothing happened later today yet
            span = max(1, last_day - opened)
            steps = len(path) + (1 if close is not None else 0)
            stamps = sorted(opened + (span * j) // steps + (r.randrange(0, max(1, span // steps)) if j else 0)
                            for j in range(steps))
            minutes = [self.business_minute(min(o, last_day)) for o in stamps]
            minutes.sort()
            prev = None
            for j, stage_id in enumerate(path):
                hist.append((hist_id, did, "stage", prev, str(stage_id), str(owner), clock.ts(minutes[j])))
                hist_id += 1
                prev = str(stage_id)
            if outcome == "won":
                final_stage, prob = self.won_stage, 100
            elif outcome == "lost":
                final_stage, prob = self.lost_stage, 0
            else:
                final_stage = path[-1]
                prob = next(p for sid, p in open_stages if sid == final_stage)
            if close is not None:
                hist.append((hist_id, did, "stage", prev, str(final_stage), str(owner), clock.ts(minutes[-1])))
                hist_id += 1
            expected = end
            if outcome == "open" and r.random() < 0.25:
                # slipped deals: the expected close moved out once (or is already past: overdue)
                old = end - r.randrange(10, 40)
                hist.append((hist_id, did, "expected_close", clock.day(old), clock.day(end), str(owner),
                             clock.ts(minutes[-1] + 60)))
                hist_id += 1
                if r.random() < 0.3:
                    expected = self.a - r.randrange(1, 20)
            if outcome == "won" and r.random() < 0.3:
                before = amount + r.randrange(1, 10) * 1_000
                hist.append((hist_id, did, "amount", f"{before}.00", f"{amount}.00", str(owner),
                             clock.ts(minutes[-1] - 30)))
                hist_id += 1
            lost_reason = lost_note = None
            if outcome == "lost":
                lost_reason = lost_picks[k]
            # early-stage deals without an amount yet (real pipelines have them)
            amount_out = None if outcome == "open" and len(path) == 1 and r.random() < 0.05 else amount
            deal_name = v["deal_name"].format(customer=short_names[ci], product=pname)[:200]
            created = clock.ts(minutes[0])
            self.deal_rows.append([
                did, deal_name, c[0], owner, pid, amount_out, final_stage, prob,
                clock.day(expected if close is None else close), c[8],
                r.choice(v["next_steps"]) if outcome == "open" else None,
                clock.day(opened), clock.day(close) if close is not None else None, lost_reason, lost_note,
                clock.ts(minutes[-1]), None, None, created, clock.ts(minutes[-1]), 1])
            self.deal_info.append((did, ci, owner, opened, close if close is not None else self.a, outcome,
                                   amount, pi))
        self.next_ids["deal_history"] = hist_id
        self.deal_cols = deal_cols
        self.rows.add("deal_history", ["id", "deal_id", "field", "old_value", "new_value", "changed_by", "changed_at"],
                      hist)

    def activities(self) -> None:
        s, r, v, clock = self.s, self.rng, self.v, self.clock
        cols = ["id", "kind", "customer_id", "deal_id", "contact_id", "owner_id", "planned_at", "done_at",
                "duration_minutes", "outcome", "notes", "next_step", "next_contact_on", "location", "external_id",
                "created_at"]
        rows: list[tuple] = []
        aid = self.next_ids["activity"]
        kinds = ["call", "email", "meeting", "visit", "demo", "other"]
        kind_w = [35, 20, 14, 16, 9, 6]
        outcomes = v["outcomes"]
        durations = {"call": 15, "email": 5, "meeting": 60, "visit": 90, "demo": 60, "contract_signing": 60,
                     "service": 30, "other": 10}
        last_contact = [0] * len(self.cust)  # max done minute per customer
        next_contact = [0] * len(self.cust)  # earliest planned day per customer
        deal_last: dict[int, int] = {}
        open_deals = [d for d in self.deal_info if d[5] == "open"]
        planned_budget = int(len(open_deals) * 0.7) + len(self.owned_idx) // 10
        recent_budget = len(self.owned_idx)
        remaining = max(0, s.activities - planned_budget - recent_budget)
        weight = {"won": 3.0, "lost": 1.0, "open": 1.4}
        total_w = sum(weight[d[5]] for d in self.deal_info) or 1
        per_w = 0.8 * remaining / total_w
        cust_budget = remaining - int(per_w * total_w)
        kind_picks = r.choices(kinds, kind_w, k=s.activities + 10)
        n_picks = len(kind_picks)
        kp = 0

        def add(kind, ci, deal_id, owner, done_min, planned_min, note_day=None):
            nonlocal aid, kp
            contacts = self.contacts[ci]
            contact = contacts[0] if len(contacts) == 1 else r.choice(contacts)
            c = self.cust[ci]
            outcome = r.choice(outcomes[kind]) if done_min is not None else None
            when = done_min if done_min is not None else planned_min
            rows.append((aid, kind, c[0], deal_id, contact, owner,
                         clock.ts(planned_min) if planned_min is not None else None,
                         clock.ts(done_min) if done_min is not None else None,
                         durations[kind], outcome, None,
                         r.choice(v["next_steps"]) if done_min is not None and r.random() < 0.3 else None,
                         clock.day(note_day) if note_day else None,
                         c[7] if kind == "visit" else None, None, clock.ts(when)))
            aid += 1

        for did, ci, owner, opened, last_day, outcome, _amount, _pi in self.deal_info:
            k = int(weight[outcome] * per_w + r.random())
            if outcome == "won":
                k = max(k, 2)
            span = max(1, last_day - opened)
            best = 0
            for _ in range(k):
                kind = kind_picks[kp % n_picks]
                kp += 1
                m = self.business_minute(opened + r.randrange(span))
                add(kind, ci, did, owner, m, None)
                best = max(best, m)
            if outcome == "won":
                m = self.business_minute(last_day)
                add("contract_signing", ci, did, owner, m, None)
                best = max(best, m)
            if best:
                deal_last[did] = best
                if best > last_contact[ci]:
                    last_contact[ci] = best
        # customer-level touches (no deal): spread over each customer's life
        owned = self.owned_idx
        touch_picks = r.choices(range(len(self.cust)), k=cust_budget) if cust_budget else []
        for ci in touch_picks:
            c = self.cust[ci]
            owner = c[3] or c[4]
            hi = c[5] - 1 if c[3] is None else self.a - 1
            day = hi - r.randrange(0, max(1, min(hi - self.s0, 700)))
            m = self.business_minute(day)
            kind = kind_picks[kp % n_picks]
            add(kind if kind != "demo" else "service", ci, None, owner, m, None)
            kp += 1
            if m > last_contact[ci]:
                last_contact[ci] = m
        # every owned customer was contacted inside its tier's reclaim window — except ~2 % left
        # stale on purpose (``salesops pool reclaim`` has something to do)
        for ci in owned:
            c = self.cust[ci]
            window = TIER_RECLAIM[c[2]]
            stale = r.random() < 0.02
            if not stale and last_contact[ci] >= clock.minute(self.a - window + 3, 0):
                continue
            day = self.a - (window + r.randrange(3, 30) if stale else r.randrange(1, window - 3))
            m = self.business_minute(day)
            if m > last_contact[ci]:
                add(r.choice(("call", "email", "visit")), ci, None, c[3], m, None)
                last_contact[ci] = m
        # planned follow-ups: most in the coming two weeks, some overdue
        for did, ci, owner, _opened, _last, _outcome, _amount, _pi in r.sample(open_deals, int(len(open_deals) * 0.7)):
            day = self.a + r.randrange(1, 15) if r.random() < 0.8 else self.a - r.randrange(1, 10)
            m = self.business_minute(day)
            add(r.choice(("call", "visit", "meeting", "demo")), ci, did, owner, None, m, day)
            if day >= self.a and (not next_contact[ci] or day < next_contact[ci]):
                next_contact[ci] = day
        for ci in r.sample(owned, len(owned) // 10):
            c = self.cust[ci]
            day = self.a + r.randrange(1, 21) if r.random() < 0.8 else self.a - r.randrange(1, 7)
            add(r.choice(("call", "visit")), ci, None, c[3], None, self.business_minute(day), day)
            if day >= self.a and (not next_contact[ci] or day < next_contact[ci]):
                next_contact[ci] = day
        self.next_ids["activity"] = aid
        self.last_contact = last_contact
        self.next_contact = next_contact
        self.deal_last = deal_last
        self.rows.add("activity", cols, rows)
        # deals now know their last activity
        for row in self.deal_rows:
            m = deal_last.get(row[0])
            if m:
                row[16] = clock.ts(m)
        self.rows.add("deal", self.deal_cols, [tuple(x) for x in self.deal_rows])
        del self.deal_rows

    def finish_customers(self) -> None:
        """Customer rows, once deals and activities tell their status and last contact."""
        r, v, clock = self.rng, self.v, self.clock
        first_open: dict[int, int] = {}
        last_won: dict[int, int] = {}
        has_open: set[int] = set()
        for _did, ci, _owner, opened, last_day, outcome, _amount, _pi in self.deal_info:
            if opened < first_open.get(ci, 10**9):
                first_open[ci] = opened
            if outcome == "won" and last_day > last_won.get(ci, 0):
                last_won[ci] = last_day
            if outcome == "open":
                has_open.add(ci)
        cols = ["id", "name", "credit_code", "industry", "region", "tier", "status", "channel_id", "owner_id", "phone",
                "email", "address", "notes", "name_norm", "name_sort", "phone_norm", "email_norm", "external_id",
                "pool_entered_at", "previous_owner_id", "released_at", "last_contact_at", "next_contact_on",
                "archived", "created_at", "updated_at", "version"]
        rows = []
        used_phones: set[str] = set()
        for ci, c in enumerate(self.cust):
            cid, name, tier, owner, prev, pool_day, ri, city, channel, industry, domain = c
            if ci in last_won:
                # released to the pool or no purchase for 18 months: churned
                stale = owner is None or (self.a - last_won[ci] > 540 and ci not in has_open)
                status = "churned" if stale else "active"
            elif ci in has_open or ci in first_open:
                status = "prospect"
            else:
                status = "lead"
            created_day = min(first_open.get(ci, self.a), self.a - r.randrange(1, 900)) - r.randrange(0, 30)
            lc = self.last_contact[ci]
            if lc:
                created_day = min(created_day, lc // 1440 + clock.base - 1)
            created = clock.ts(self.business_minute(created_day))
            phone = self.phone()
            while phone in used_phones:  # phone is a duplicate-check key: no accidental twins
                phone = self.phone()
            used_phones.add(phone)
            email = f"info@{domain}"
            address = v["address"].format(city=city, district=r.choice(v["districts"]), road=r.choice(v["roads"]),
                                          no=r.randrange(1, 999))
            pool_at = clock.ts(self.business_minute(pool_day)) if pool_day else None
            updated = max(lc, clock.minute(created_day, 600)) if lc else clock.minute(created_day, 600)
            rows.append((
                cid, name, self.credit_code() if self.lang == "zh_CN" and r.random() < 0.8 else None, industry,
                v["regions"][ri][1], tier, status, channel, owner, phone, email, address,
                r.choice(v["notes"]) if r.random() < 0.2 else None,
                normalize_name(name), name_sort_key(name), normalize_phone(phone), normalize_email(email), None,
                pool_at, prev, pool_at, clock.ts(lc) if lc else None,
                clock.day(self.next_contact[ci]) if self.next_contact[ci] and owner else None,
                False, created, clock.ts(updated), 1))
        # customers go in before contacts and deals (foreign keys): rebuild the order
        contact = self.rows.tables.pop("contact")
        self.rows.add("customer", cols, rows)
        self.rows.tables["contact"] = contact

    def contracts(self) -> None:
        r, v, clock = self.rng, self.v, self.clock
        c_cols = ["id", "number", "deal_id", "customer_id", "owner_id", "amount", "signed_on", "start_on", "end_on",
                  "term_months", "status", "created_at", "version"]
        p_cols = ["id", "contract_id", "installment", "due_on", "amount", "note"]
        pay_cols = ["id", "contract_id", "plan_id", "received_on", "amount", "method", "note", "recorded_by",
                    "created_at"]
        contracts, plans, payments = [], [], []
        cid = self.next_ids["contract"]
        plid = self.next_ids["payment_plan"]
        payid = self.next_ids["payment"]
        per_day: dict[int, int] = {}
        self.won = []  # (owner, closed ordinal, amount, customer idx)
        self.collected = []  # (owner, received ordinal, amount)
        shapes = {1: [1.0], 2: [0.5, 0.5], 3: [0.3, 0.6, 0.1]}
        offsets = {1: [15], 2: [10, 90], 3: [10, 60, 180]}
        for did, ci, owner, _opened, closed, outcome, amount, _pi in self.deal_info:
            if outcome != "won":
                continue
            self.won.append((owner, closed, amount, ci))
            per_day[closed] = per_day.get(closed, 0) + 1
            number = f"HT-{clock.day(closed).replace('-', '')}-{per_day[closed]:04d}"
            start = closed + r.randrange(0, 15)
            term = r.choice((12, 12, 24, 36))
            end = _month_add(date.fromordinal(start).replace(day=1), term).toordinal() + date.fromordinal(start).day - 2
            n = 1 if amount < 50_000 else r.choice((2, 3, 3))
            parts = _split(amount, shapes[n])
            paid_all = True
            for j, (part, off) in enumerate(zip(parts, offsets[n], strict=True)):
                due = closed + off
                plans.append((plid, cid, j + 1, clock.day(due), part, None))
                roll = r.random()
                if due <= self.a:
                    if roll < 0.82:
                        got, when = part, min(self.a, due + r.randrange(-5, 20))
                    elif roll < 0.9:
                        got, when = int(part * r.uniform(0.3, 0.7)), min(self.a, due + r.randrange(0, 15))
                    else:
                        got, when = 0, 0
                elif roll < 0.08:
                    got, when = part, max(closed, min(self.a, due - r.randrange(1, 20)))
                else:
                    got, when = 0, 0
                if got:
                    payments.append((payid, cid, plid, clock.day(when), got, r.choice(v["pay_methods"]), None, owner,
                                     clock.ts(self.business_minute(when))))
                    self.collected.append((owner, when, got))
                    payid += 1
                if got < part:
                    paid_all = False
                plid += 1
            if closed > self.a - 3 and r.random() < 0.3:
                status = "draft"
            elif end < self.a and paid_all:
                status = "completed"
            elif start <= self.a:
                status = "executing"
            else:
                status = "signed"
            contracts.append((cid, number, did, self.cust[ci][0], owner, amount, clock.day(closed), clock.day(start),
                              clock.day(end), term, status, clock.ts(self.business_minute(closed)), 1))
            cid += 1
        self.next_ids.update(contract=cid, payment_plan=plid, payment=payid)
        self.rows.add("contract", c_cols, contracts)
        self.rows.add("payment_plan", p_cols, plans)
        self.rows.add("payment", pay_cols, payments)

    def tickets(self) -> None:
        r, v, clock = self.rng, self.v, self.clock
        cols = ["id", "customer_id", "title", "category", "priority", "description", "assignee_id", "status",
                "opened_at", "resolved_at", "closed_at", "satisfaction", "resolution"]
        rows = []
        tid = self.next_ids["service_ticket"]
        cats = list(v["ticket_titles"])
        for owner, closed, _amount, ci in self.won:
            if r.random() > 0.3:
                continue
            opened = closed + r.randrange(10, 200)
            if opened >= self.a:
                continue
            cat = r.choices(cats, [2, 5, 3, 1, 1, 1])[0]
            pri = r.choices(("low", "normal", "high", "urgent"), (3, 6, 2, 1))[0]
            age = self.a - opened
            if age > 30:
                status = r.choices(("closed", "resolved"), (7, 3))[0]
            else:
                status = r.choices(("open", "assigned", "resolved"), (3, 4, 3))[0]
            om = self.business_minute(opened)
            res = clo = sat = None
            if status in ("resolved", "closed"):
                rd = min(self.a, opened + r.randrange(0, 10))
                res = clock.ts(max(om + 30, self.business_minute(rd)))
                sat = r.choices((1, 2, 3, 4, 5), (1, 2, 6, 14, 12))[0]
                if status == "closed":
                    clo = clock.ts(max(om + 60, self.business_minute(min(self.a, rd + r.randrange(0, 5)))))
            rows.append((tid, self.cust[ci][0], r.choice(v["ticket_titles"][cat]), cat, pri, None,
                         owner if status != "open" else None, status, clock.ts(om), res, clo, sat, None))
            tid += 1
        self.next_ids["service_ticket"] = tid
        self.rows.add("service_ticket", cols, rows)

    def marketing(self) -> None:
        r = self.rng
        cols = ["id", "channel_id", "month", "amount"]
        rows = []
        base = [20_000, 15_000, 40_000, 3_000, 10_000, 30_000]
        month = self.start
        while month <= self.anchor:
            for i, ch in enumerate(self.channels):
                b = base[i % len(base)]
                if i % len(base) == 2 and month.month not in (3, 6, 9, 11):
                    b = 5_000  # trade shows happen a few times a year
                amount = int(b * MONTH_SEASON[month.month] ** 0.5 * r.uniform(0.8, 1.2)) // 100 * 100
                rows.append((self.ids("marketing_spend", 1)[0], ch, month.isoformat(), amount))
            month = _month_add(month, 1)
        self.rows.add("marketing_spend", cols, rows)

    # -- targets, plans, reviews, forecasts -------------------------------------------------
    def _months(self) -> list[date]:
        out, m = [], self.year_first
        while m.year <= self.anchor.year:
            out.append(m)
            m = _month_add(m, 1)
        return out

    def targets(self) -> None:
        r, v = self.rng, self.v
        months = self._months()
        mi = {m: i for i, m in enumerate(months)}
        won = {u: [0] * len(months) for u in self.reps}
        acts = {u: [0] * len(months) for u in self.reps}
        for owner, closed, amount, _ci in self.won:
            d = date.fromordinal(closed)
            k = mi.get(date(d.year, d.month, 1))
            if k is not None and owner in won:
                won[owner][k] += amount
        act_cols = self.rows.tables["activity"][0]
        i_owner, i_done = act_cols.index("owner_id"), act_cols.index("done_at")
        for row in self.rows.tables["activity"][1]:
            done = row[i_done]
            if done and row[i_owner] in acts:
                k = mi.get(date(int(done[:4]), int(done[5:7]), 1))
                if k is not None:
                    acts[row[i_owner]][k] += 1
        this_month = self.anchor.replace(day=1)
        cols = ["id", "metric", "scope", "team_id", "user_id", "period_kind", "period_start", "tier", "value",
                "parent_id", "basis_market", "basis_history", "basis_capacity", "created_at"]
        rows: list[tuple] = []
        created = self.clock.ts(self.clock.minute(self.year_first.toordinal() - 20, 600))
        self.target_ids: dict[tuple, int] = {}

        def rep_month_values(u: int, metric: str) -> list[int]:
            series = won[u] if metric != "activities" else acts[u]
            known = [x for m, x in zip(months, series, strict=True) if self.start <= m < this_month]
            avg = sum(known) / len(known) if known else 0
            out = []
            for m, x in zip(months, series, strict=True):
                base = x if self.start <= m < this_month else avg * MONTH_SEASON[m.month] * 1.1
                if metric == "activities":
                    out.append(int(max(base, avg * 0.8) * r.uniform(1.0, 1.2) / 10 + 1) * 10)
                else:
                    val = max(base, avg * 0.6) * r.uniform(0.9, 1.25)
                    if metric == "collections":
                        val *= 0.85
                    out.append(int(val / 10_000 + 1) * 10_000)
            return out

        def emit(metric, tier, scope, team, user, kind, start, value, parent, basis=False) -> int:
            tid = self.ids("target", 1)[0]
            rows.append((tid, metric, scope, team, user, kind, start.isoformat(), tier, value, parent,
                         v["basis_market"] if basis else None, v["basis_history"] if basis else None,
                         v["basis_capacity"] if basis else None, created))
            self.target_ids[(metric, tier, scope, team or user or 0, kind, start)] = tid
            return tid

        plan = [("contract_amount", "base", 1.0), ("contract_amount", "stretch", 1.2), ("collections", "base", 1.0),
                ("activities", "base", 1.0)]
        base_values = {(u, m): rep_month_values(u, m) for u in self.reps for m in ("contract_amount", "collections",
                                                                                     "activities")}
        years = sorted({m.year for m in months})
        for metric, tier, factor in plan:
            for year in years:
                idx = [i for i, m in enumerate(months) if m.year == year]

                def val(u, i, metric=metric, factor=factor):
                    x = base_values[(u, metric)][i]
                    return int(x * factor / 1000) * 1000 if factor != 1.0 else x

                ystart = date(year, 1, 1)
                totals = {u: {i: val(u, i) for i in idx} for u in self.reps}
                company_total = sum(sum(d.values()) for d in totals.values())
                cy = emit(metric, tier, "company", self.company_id, None, "year", ystart, company_total, None, True)
                self._periods(emit, metric, tier, "company", self.company_id, None, year, idx, months,
                              {i: sum(totals[u][i] for u in self.reps) for i in idx}, cy)
                for team in self.teams:
                    reps = self.team_reps[team]
                    ty = emit(metric, tier, "team", team, None, "year", ystart,
                              sum(sum(totals[u].values()) for u in reps), cy, True)
                    self._periods(emit, metric, tier, "team", team, None, year, idx, months,
                                  {i: sum(totals[u][i] for u in reps) for i in idx}, ty)
                    for u in reps:
                        uy = emit(metric, tier, "user", None, u, "year", ystart, sum(totals[u].values()), ty)
                        self._periods(emit, metric, tier, "user", None, u, year, idx, months, totals[u], uy)
        # team ids on user targets stay null: the user's team can change, the target is theirs
        self.rep_month_target = {u: base_values[(u, "contract_amount")] for u in self.reps}
        self.months = months
        self.rows.add("target", cols, rows)

    @staticmethod
    def _periods(emit, metric, tier, scope, team, user, year, idx, months, per_month, year_id) -> None:
        for q in range(4):
            q_idx = [i for i in idx if (months[i].month - 1) // 3 == q]
            if not q_idx:
                continue
            qid = emit(metric, tier, scope, team, user, "quarter", date(year, q * 3 + 1, 1),
                       sum(per_month[i] for i in q_idx), year_id)
            for i in q_idx:
                emit(metric, tier, scope, team, user, "month", months[i], per_month[i], qid)

    def plans(self) -> None:
        r, v = self.rng, self.v
        p_cols = ["id", "title", "period_start", "period_end", "owner_id", "team_id", "pricing_strategy",
                  "promotion_strategy", "channel_strategy", "budget", "status", "created_at"]
        m_cols = ["id", "plan_id", "title", "owner_id", "start_on", "due_on", "done_on"]
        a_cols = ["id", "plan_id", "kind", "team_id", "channel_id", "region", "planned", "spent", "note"]
        plans, links, miles, allocs = [], [], [], []
        spend_cols = self.rows.tables["marketing_spend"]
        spend: dict[tuple[int, int], int] = {}
        for _id, ch, month, amount in spend_cols[1]:
            key = (ch, int(month[:4]))
            spend[key] = spend.get(key, 0) + amount
        for year in sorted({m.year for m in self.months}):
            ys, ye = date(year, 1, 1), date(year, 12, 31)
            status = "closed" if year < self.anchor.year else "active"
            created = self.clock.ts(self.clock.minute(ys.toordinal() - 15, 600))
            scopes = [(self.company_id, self.director, v["plan_company"].format(year=year))]
            team_names = {row[0]: row[1] for row in self.rows.tables["team"][1]}
            scopes += [(tm, self.managers[tm], v["plan_team"].format(team=team_names[tm], year=year))
                       for tm in self.teams]
            for team, owner, title in scopes:
                pid = self.ids("sales_plan", 1)[0]
                channel_budget = sum(spend.get((ch, year), 0) for ch in self.channels)
                budget = int(channel_budget * 1.05) if team == self.company_id else r.randrange(20, 80) * 1000
                plans.append((pid, title, ys.isoformat(), ye.isoformat(), owner, team, v["plan_pricing"],
                              v["plan_promotion"], v["plan_channel"], budget, status, created))
                scope = "company" if team == self.company_id else "team"
                tgt = self.target_ids.get(("contract_amount", "base", scope, team, "year", ys))
                if tgt:
                    links.append((pid, tgt))
                for j, mt in enumerate(v["milestones"]):
                    due = date(year, min(12, 1 + j * 3), 28)
                    done = due.isoformat() if due.toordinal() < self.a - 5 and r.random() < 0.9 else None
                    miles.append((self.ids("plan_milestone", 1)[0], pid, mt, owner,
                                  date(year, min(12, 1 + j * 3), 1).isoformat(), due.isoformat(), done))
                if team == self.company_id:
                    for ch in self.channels:
                        planned = int(spend.get((ch, year), 0) * r.uniform(1.0, 1.15)) // 100 * 100
                        allocs.append((self.ids("plan_allocation", 1)[0], pid, "money", None, ch, None, planned,
                                       spend.get((ch, year), 0), None))
                    for tm in self.teams:
                        heads = len(self.team_reps[tm])
                        allocs.append((self.ids("plan_allocation", 1)[0], pid, "people", tm, None, None,
                                       heads + r.choice((0, 0, 1)), heads, None))
                else:
                    region = next(row[5] for row in self.rows.tables["team"][1] if row[0] == team)
                    allocs.append((self.ids("plan_allocation", 1)[0], pid, "money", team, None, region, budget,
                                   int(budget * (r.uniform(0.6, 1.05) if status == "closed" else r.uniform(0.2, 0.8))),
                                   None))
        self.rows.add("sales_plan", p_cols, plans)
        self.rows.add("sales_plan_target", ["plan_id", "target_id"], links)
        self.rows.add("plan_milestone", m_cols, miles)
        self.rows.add("plan_allocation", a_cols, allocs)

    def _closed_stats(self, start: date, months: int, owners: list[int] | None) -> tuple[int, int, int]:
        """(won count, lost count, won amount) of deals closed in ``months`` months from ``start``."""
        if not hasattr(self, "_by_month"):
            agg: dict[tuple[int, int, int], list[int]] = {}
            for _did, _ci, owner, _o, last_day, outcome, amt, _pi in self.deal_info:
                if outcome == "open":
                    continue
                d = date.fromordinal(last_day)
                row = agg.setdefault((d.year, d.month, owner), [0, 0, 0])
                if outcome == "won":
                    row[0] += 1
                    row[2] += amt
                else:
                    row[1] += 1
            self._by_month = agg
        won = lost = amount = 0
        for k in range(months):
            m = _month_add(start, k)
            for owner in owners if owners is not None else self.reps:
                row = self._by_month.get((m.year, m.month, owner))
                if row:
                    won, lost, amount = won + row[0], lost + row[1], amount + row[2]
        return won, lost, amount

    def reviews(self) -> None:
        r, v = self.rng, self.v
        from services.i18n import format_money, format_percent

        rv_cols = ["id", "period_start", "period_end", "scope", "team_id", "user_id", "findings", "created_by",
                   "created_at"]
        ac_cols = ["id", "review_id", "title", "owner_id", "due_on", "status"]
        reviews, actions = [], []
        reason_names = self.v["lost_reasons"]
        this_month = self.anchor.replace(day=1)
        items = []
        for k in range(1, 13):
            ms = _month_add(this_month, -k)
            if ms < self.start:
                break
            items.append(("company", None, ms, 1, self.director))
        q_start = date(self.anchor.year, (self.anchor.month - 1) // 3 * 3 + 1, 1)
        for k in range(1, 5):
            qs = _month_add(q_start, -3 * k)
            if qs < self.start:
                break
            for tm in self.teams:
                items.append(("team", tm, qs, 3, self.managers[tm]))
        team_names = {row[0]: row[1] for row in self.rows.tables["team"][1]}
        for scope, team, ps, n_months, author in items:
            pe = _month_add(ps, n_months)
            won, lost, amount = self._closed_stats(ps, n_months, self.team_reps[team] if team else None)
            rate = format_percent(won / (won + lost) if won + lost else 0, self.lang)
            money = format_money(amount, self.lang)
            period = f"{ps.year}-{ps.month:02d}" if scope == "company" else f"{ps.year}Q{(ps.month - 1) // 3 + 1}"
            if scope == "company":
                findings = v["review_company"].format(period=period, won=won, amount=money, rate=rate,
                                                      reason=r.choice(reason_names[:3]))
            else:
                findings = v["review_team"].format(team=team_names[team], period=period, won=won, amount=money,
                                                   rate=rate)
            rid = self.ids("review", 1)[0]
            created_day = pe.toordinal() + r.randrange(1, 5)
            reviews.append((rid, ps.isoformat(), (pe - timedelta(days=1)).isoformat(), scope, team, None, findings,
                            author, self.clock.ts(self.business_minute(min(created_day, self.a)))))
            pool = self.team_reps[team] if team else [self.managers[x] for x in self.teams]
            for title in r.sample(v["review_actions"], r.randrange(2, 4)):
                due = created_day + r.randrange(10, 35)
                if due < self.a - 7:
                    status = r.choices(("done", "dropped", "in_progress"), (8, 1, 1))[0]
                else:
                    status = r.choice(("open", "in_progress"))
                actions.append((self.ids("review_action", 1)[0], rid, title, r.choice(pool),
                                self.clock.day(due), status))
        self.rows.add("review", rv_cols, reviews)
        self.rows.add("review_action", ac_cols, actions)

    def forecasts(self) -> None:
        r = self.rng
        cols = ["id", "taken_on", "week_start", "scope_key", "period_start", "period_end", "scope", "team_id", "user_id",
                "weighted_amount", "commit_amount", "best_case_amount", "won_to_date"]
        rows = []
        scopes: list[tuple[str, int | None, int | None, set[int] | None]] = [("company", None, None, None)]
        scopes += [("team", tm, None, set(self.team_reps[tm])) for tm in self.teams]
        scopes += [("user", None, u, {u}) for u in self.reps]
        # won amounts per scope as sorted (day, cumulative) for quick "won to date"
        by_owner: dict[int, list[tuple[int, int]]] = {}
        for owner, closed, amount, _ci in self.won:
            by_owner.setdefault(owner, []).append((closed, amount))
        days: dict[int, list[int]] = {}
        sums: dict[int, list[int]] = {}
        for u, items in by_owner.items():
            items.sort()
            days[u] = [d for d, _a in items]
            acc, cum = 0, [0]
            for _d, a in items:
                acc += a
                cum.append(acc)
            sums[u] = cum

        def won_between(owners, lo, hi):
            total = 0
            for u in owners if owners is not None else self.reps:
                if u in days:
                    total += sums[u][bisect.bisect_left(days[u], hi)] - sums[u][bisect.bisect_left(days[u], lo)]
            return total

        monday = self.a - date.fromordinal(self.a).weekday()
        for w in range(26):
            taken = monday - 7 * w
            td = date.fromordinal(taken)
            # the month's forecast as analytics.forecast.take_snapshot records it: won so far +
            # weighted open pipeline, one row per scope, month and week
            qs = date(td.year, td.month, 1)
            qe = _month_add(qs, 1)
            for scope, team, user, owners in scopes:
                wtd = won_between(owners, qs.toordinal(), taken)
                final = won_between(owners, qs.toordinal(), min(qe.toordinal(), self.a + 1))
                if qe.toordinal() > self.a:  # current quarter: the rest is still pipeline
                    final = int(final * (qe.toordinal() - qs.toordinal()) / max(1, self.a - qs.toordinal() + 1))
                rest = max(0, final - wtd)
                weighted = int(rest * r.uniform(0.8, 1.25))
                commit = wtd + int(rest * r.uniform(0.55, 0.85))
                best = wtd + int(rest * r.uniform(1.3, 1.7))
                key = "company" if scope == "company" else f"{scope}:{team if scope == 'team' else user}"
                rows.append((self.ids("forecast_snapshot", 1)[0], td.isoformat(), td.isoformat(), key, qs.isoformat(),
                             qe.isoformat(), scope, team, user, weighted, commit, best, wtd))
        self.rows.add("forecast_snapshot", cols, rows)

    # -- training, incentives, awards, events ---------------------------------------------
    def team_program(self) -> None:
        r, v, clock = self.rng, self.v, self.clock
        course_rows, enrol_rows = [], []
        passing = 60
        course_ids = []
        for title, cat, hours in v["courses"]:
            cid = self.ids("course", 1)[0]
            course_ids.append(cid)
            course_rows.append((cid, title, cat, hours, passing, None, True))
        learners = self.reps + list(self.managers.values())
        for u in learners:
            for cid in r.sample(course_ids, r.randrange(3, min(7, len(course_ids)) + 1)):
                assigned = self.a - r.randrange(0, 365)
                due = assigned + 30
                if due < self.a:
                    score = r.randrange(45, 100)
                    status = "completed" if score >= passing else "failed"
                    done = clock.day(min(self.a, due - r.randrange(0, 25)))
                elif r.random() < 0.4:
                    score, status, done = None, "in_progress", None
                else:
                    score, status, done = None, "assigned", None
                if status == "completed" and r.random() < 0.1:
                    score, status, done = None, "assigned", None  # overdue: never finished
                enrol_rows.append((self.ids("enrollment", 1)[0], cid, u, clock.day(assigned), clock.day(due), status,
                                   done, score))
        self.rows.add("course", ["id", "title", "category", "duration_hours", "passing_score", "description", "active"],
                      course_rows)
        self.rows.add("enrollment", ["id", "course_id", "user_id", "assigned_on", "due_on", "status", "completed_on",
                                     "score"], enrol_rows)
        # incentive schemes (tiers JSON as documented on models.IncentiveScheme)
        tiers_full = [{"from": 0, "to": 100000, "rate": 0.02}, {"from": 100000, "to": 300000, "rate": 0.03},
                      {"from": 300000, "to": None, "rate": 0.05}]
        tiers_excess = [{"from": 0, "to": 200000, "rate": 0.01}, {"from": 200000, "to": 500000, "rate": 0.02},
                        {"from": 500000, "to": None, "rate": 0.03}]
        tiers_bonus = [{"attainment": 1.0, "bonus": 5000}, {"attainment": 1.2, "bonus": 10000}]
        tiers_contest = [{"rank": 1, "bonus": 20000}, {"rank": 2, "bonus": 10000}, {"rank": 3, "bonus": 5000}]
        ystart = date(self.anchor.year, 1, 1).isoformat()
        specs = [("won_amount", "tiered_full", tiers_full, "month"), ("collections", "tiered_excess", tiers_excess,
                                                                        "quarter"),
                 ("won_amount", "attainment_bonus", tiers_bonus, "quarter"), ("won_amount", "contest", tiers_contest,
                                                                              "year")]
        schemes, scheme_ids = [], []
        for name, (basis, kind, tiers, period) in zip(v["schemes"], specs, strict=True):
            sid = self.ids("incentive_scheme", 1)[0]
            scheme_ids.append(sid)
            schemes.append((sid, name, basis, kind, json.dumps(tiers), period, "rep", None,
                            self.year_first.isoformat() if kind != "contest" else ystart, None, True))
        self.rows.add("incentive_scheme", ["id", "name", "basis", "kind", "tiers", "period_kind", "applies_role",
                                           "team_id", "starts_on", "ends_on", "active"], schemes)
        # payouts: monthly commission for the last 12 closed months (full progression: the whole
        # amount at the rate of the highest tier reached)
        payouts = []
        this_month = self.anchor.replace(day=1)
        won_month: dict[tuple[int, date], int] = {}
        for owner, closed, amount, _ci in self.won:
            d = date.fromordinal(closed)
            key = (owner, date(d.year, d.month, 1))
            won_month[key] = won_month.get(key, 0) + amount
        best_by_month: dict[date, tuple[int, int]] = {}
        for k in range(1, 13):
            ms = _month_add(this_month, -k)
            if ms < self.start:
                break
            for u in self.reps:
                basis_amt = won_month.get((u, ms), 0)
                rate = next(tr["rate"] for tr in reversed(tiers_full) if basis_amt >= tr["from"])
                amount = int(round(basis_amt * rate))
                approved = k > 1
                paid = k > 2
                payouts.append((self.ids("payout", 1)[0], scheme_ids[0], u, ms.isoformat(), basis_amt, amount,
                                approved, self.director if approved else None, paid,
                                _month_add(ms, 2).isoformat() if paid else None))
                if basis_amt > best_by_month.get(ms, (0, 0))[1]:
                    best_by_month[ms] = (u, basis_amt)
        self.rows.add("payout", ["id", "scheme_id", "user_id", "period_start", "basis_amount", "amount", "approved",
                                 "approved_by", "paid", "paid_on"], payouts)
        awards = []
        for ms, (u, _amt) in sorted(best_by_month.items()):
            awards.append((self.ids("award", 1)[0], u, v["awards"]["monthly"], "badge",
                           _month_add(ms, 1).isoformat(), ms.strftime("%Y-%m")))
        total_by_rep: dict[int, int] = {}
        for owner, closed, amount, _ci in self.won:
            if closed >= self.a - 365:
                total_by_rep[owner] = total_by_rep.get(owner, 0) + amount
        for u, amt in sorted(total_by_rep.items()):
            if amt >= 1_000_000:
                awards.append((self.ids("award", 1)[0], u, v["awards"]["club"], "badge", self.clock.day(self.a - 1),
                               None))
        if total_by_rep:
            champ = max(sorted(total_by_rep), key=lambda u: total_by_rep[u])
            awards.append((self.ids("award", 1)[0], champ, v["awards"]["quarter"], "contest",
                           self.clock.day(self.a - 3), None))
        self.rows.add("award", ["id", "user_id", "title", "kind", "awarded_on", "note"], awards)
        events = []
        q_start = date(self.anchor.year, (self.anchor.month - 1) // 3 * 3 + 1, 1)
        for k in range(0, 4):
            qs = _month_add(q_start, -3 * k)
            for tm in self.teams:
                held = qs.toordinal() + r.randrange(10, 80)
                if held > self.a:
                    continue
                heads = len(self.team_reps[tm]) + 1
                city = self.v["regions"][self.team_region[tm]][2][0]
                events.append((self.ids("team_event", 1)[0], r.choice(v["events"]).format(place=city),
                               self.clock.day(held), tm, heads, heads * r.randrange(150, 400), None))
        self.rows.add("team_event", ["id", "title", "held_on", "team_id", "participants", "cost", "notes"], events)

    def audit(self) -> None:
        rows = []
        at = self.clock.ts(self.clock.minute(self.a, 8 * 60))
        for uid, username, *_rest in self.rows.tables["user"][1]:
            rows.append((self.ids("audit_log", 1)[0], at, None, "user", str(uid), "create",
                         json.dumps({"username": [None, username], "source": [None, "demo"]})))
        self.rows.add("audit_log", ["id", "at", "actor_id", "entity", "entity_id", "action", "changes"], rows)


def row_counts(engine: Engine, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table (for the CLI summary and tests)."""
    with engine.connect() as conn:
        return {tb: conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{tb}"').scalar() or 0 for tb in tables}
