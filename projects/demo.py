"""The Changchun 2020–2021 demo city, built deterministically (a fixed random seed) from the seed report.

The 2021 figures (DOMAIN.md) come out of the rows, never stored: projects built in 2021 by cumulative tier
1315 / 1117 (+5) / 325 (+23) / 28 (+1) / 9 (+4), 621 registrations of 5000万+ projects, 789 ha industrial and
1504 ha commercial land, and 11.6% investment growth after 18 months at or above 7%.

How the counts are reached: each tier band gets projects of three kinds —
  A: started before 2020 and completed in 2020 (built in 2020 only),
  B: started by 2020 and still building in 2021, or completed in 2021 (built in both years),
  C: started in 2021 (built in 2021 only) —
so that A + B is the band's 2020 count and B + C its 2021 count. Projects that do not count (planned but not
started, reserve, cancelled, completed before 2020, below 5000万) are added so the ledgers have work.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from config import geo
from config.roles import Role

from .choices import Category, DistrictKind, Industry, LandUse, PlanKind, ReportStatus, Stage, TaskForceLevel
from .models import (
    AnnualPlanEntry,
    District,
    InvestmentIndicator,
    LandSupply,
    MonthlyReport,
    Project,
    TaskForce,
    TaskForceMember,
    Unit,
    UserProfile,
)

SEED = 2021
D = datetime.date

# name, short name, kind, administrative code used in project codes, weight for generated projects
DISTRICTS = [
    ("市直", "市直", DistrictKind.CITY, "220100", 2),
    ("南关区", "南关", DistrictKind.URBAN, "220102", 6),
    ("宽城区", "宽城", DistrictKind.URBAN, "220103", 6),
    ("朝阳区", "朝阳", DistrictKind.URBAN, "220104", 7),
    ("二道区", "二道", DistrictKind.URBAN, "220105", 6),
    ("绿园区", "绿园", DistrictKind.URBAN, "220106", 6),
    ("双阳区", "双阳", DistrictKind.URBAN, "220112", 4),
    ("九台区", "九台", DistrictKind.URBAN, "220113", 5),
    ("长春新区", "新区", DistrictKind.ZONE, "220173", 10),
    ("长春经开区", "经开", DistrictKind.ZONE, "220171", 8),
    ("长春汽开区", "汽开", DistrictKind.ZONE, "220174", 8),
    ("净月高新区", "净月", DistrictKind.ZONE, "220172", 6),
    ("莲花山度假区", "莲花山", DistrictKind.ZONE, "220175", 2),
    ("中韩示范区", "中韩", DistrictKind.ZONE, "220176", 2),
    ("榆树市", "榆树", DistrictKind.COUNTY, "220182", 4),
    ("德惠市", "德惠", DistrictKind.COUNTY, "220183", 4),
    ("农安县", "农安", DistrictKind.COUNTY, "220122", 4),
    ("公主岭市", "公主岭", DistrictKind.COUNTY, "220184", 5),
]

# What the city's sheets call the districts besides their names and short names (District.aliases).
ALIASES = {
    "南关区": "长春市南关区", "宽城区": "长春市宽城区", "朝阳区": "长春市朝阳区", "二道区": "长春市二道区",
    "绿园区": "长春市绿园区", "双阳区": "长春市双阳区", "九台区": "长春市九台区",
    "长春新区": "高新区、长春高新区", "长春经开区": "经开区、经济技术开发区、长春经济技术开发区",
    "长春汽开区": "汽开区、汽车经济技术开发区、长春汽车经济技术开发区", "净月高新区": "净月区、净月开发区",
    "莲花山度假区": "莲花山生态旅游度假区", "中韩示范区": "中韩（长春）国际合作示范区",
    "榆树市": "长春市榆树市", "德惠市": "长春市德惠市", "农安县": "长春市农安县",
}

# Development zones are not administrative districts: each lies in a host district (`District.host`), whose
# boundary its projects' locations must fall in.
ZONE_HOSTS = {
    "长春新区": "朝阳区",  # the 高新 core, south-west of the centre
    "长春经开区": "二道区",
    "长春汽开区": "绿园区",  # 一汽
    "净月高新区": "南关区",
    "莲花山度假区": "二道区",
    "中韩示范区": "九台区",  # 长东北, by 龙嘉 airport
}

# Where the seed's named projects are (longitude, latitude, in the vendored boundaries' system); every other
# project gets a point drawn inside its district's boundary from a generator seeded by its code.
NAMED_LOCATIONS = {
    "轨道交通三期工程": ("125.324500", "43.886800"),  # 人民广场
    "一小时都市圈高速环线（二期）": ("125.520000", "43.980000"),
    "电网能力提升改造工程": ("125.400000", "43.950000"),
    "百万头肉牛养殖项目": ("125.184887", "44.432763"),  # 农安
    "东北亚国际博览中心项目": ("125.220000", "43.820000"),
    "一汽红旗新能源汽车工厂项目": ("125.195000", "43.860000"),  # 汽开区
    "中车整车搬迁和建设项目": ("125.230000", "43.905000"),
    "金赛国际医药产业园": ("125.230000", "43.800000"),  # 高新区
    "长地文化创意产业园": ("125.400000", "43.870000"),
    "智能光谷产业园项目": ("125.200000", "43.800000"),
    "熙旺中心项目": ("125.330000", "43.920000"),
    "龙翔商务中心项目": ("125.250000", "43.830000"),
    "吉通工业园区项目": ("125.664662", "43.525311"),  # 双阳
    "海客广场项目": ("125.270000", "43.820000"),
    "朱城子镇玫瑰花生产基地项目": ("125.600000", "44.480000"),
    "新增车型配套门板柱护板盖板建设项目": ("125.420000", "43.870000"),  # 经开区
    "香悦广场项目": ("125.260000", "43.880000"),  # 同心街道
    "国际影都核心区项目": ("125.450000", "43.760000"),  # 净月
    "岭西新城区建设项目": ("124.800000", "43.500000"),
    "华润中心项目": ("125.330000", "43.870000"),
}


def demo_location(district: District, code: str, name: str) -> tuple[Decimal, Decimal]:
    """The project's point: the named project's own, else drawn inside its district's boundary (市直: one of the
    city's boundaries) by a generator seeded by the code, so the demo is the same every time."""
    if name in NAMED_LOCATIONS:
        lon, lat = NAMED_LOCATIONS[name]
        return Decimal(lon), Decimal(lat)
    rng = random.Random(f"{SEED}:{code}")
    areas = geo.areas()
    area = areas.get(district.boundary_name) if district.boundary_name else None
    if area is None:
        area = areas[rng.choice(sorted(areas))]
    lon, lat = area.sample(rng)
    return Decimal(f"{lon:.6f}"), Decimal(f"{lat:.6f}")


UNITS = [
    ("长春市发展和改革委员会", "市发改委"),
    ("长春市规划和自然资源局", "市规自局"),
    ("长春市住房和城乡建设局", "市住建局"),
    ("长春市生态环境局", "市生态环境局"),
    ("长春市交通运输局", "市交通局"),
    ("长春市工业和信息化局", "市工信局"),
    ("长春市商务局", "市商务局"),
    ("长春市财政局", "市财政局"),
    ("长春市统计局", "市统计局"),
    ("长春市水务局", "市水务局"),
    ("长春市城市管理执法局", "市城管执法局"),
    ("长春市政务服务和数字化建设管理局", "市政数局"),
    ("长春市轨道交通集团有限公司", "轨道集团"),
    ("国网长春供电公司", "长春供电公司"),
    ("长春燃气股份有限公司", "长春燃气"),
    ("长春市热力（集团）有限责任公司", "长春热力"),
    ("绿园区同心街道办事处", "同心街道"),
    ("绿园区城市管理执法中队", "绿园执法中队"),
]

# name, level, district, lead unit short name, leader, duty text, [(member short name, duty)]
TASK_FORCES = [
    ("轨道交通建设专班", TaskForceLevel.CITY, None, "轨道集团", "王建国", "统筹推进轨道交通三期工程建设。", [
        ("市发改委", "负责项目审批、年度计划和资金争取。"),
        ("市规自局", "负责站点及车辆段用地预审、规划许可。"),
        ("市住建局", "负责施工许可和质量安全监管。"),
        ("市交通局", "负责交通导改方案审查。"),
    ]),
    ("汽车产业项目专班", TaskForceLevel.CITY, None, "市工信局", "李振华", "推进汽车及零部件产业项目落地和开工。", [
        ("市工信局", "负责项目备案、技改政策兑现。"),
        ("市规自局", "负责工业用地供应和规划条件。"),
        ("长春供电公司", "负责电力接入。"),
    ]),
    ("重大基础设施项目专班", TaskForceLevel.CITY, None, "市发改委", "张立新", "推进交通、能源、水利等基础设施项目。", [
        ("市发改委", "负责前期工作和专项债券申报。"),
        ("市财政局", "负责债券资金拨付。"),
        ("市水务局", "负责水利工程和供排水接入。"),
        ("长春热力", "负责供热接入。"),
        ("长春燃气", "负责燃气接入。"),
    ]),
    ("土地要素保障专班", TaskForceLevel.CITY, None, "市规自局", "刘海峰", "“查清单、促开工”，推进已拿地项目快开工。", [
        ("市规自局", "负责土地供应、用地规划许可。"),
        ("市发改委", "负责已供地未开工项目清单调度。"),
    ]),
    ("统计入库专班", TaskForceLevel.CITY, None, "市统计局", "赵文静", "开展“三看一促”，推进已开工项目早入库、应统尽统。", [
        ("市统计局", "负责入库审核和统计编码。"),
        ("市发改委", "负责已开工未入库项目清零调度。"),
    ]),
    ("专项债券争取专班", TaskForceLevel.CITY, None, "市发改委", "陈光明", "专项债项目“早谋划、早申报、早发行、早到位、早见效”。", [
        ("市发改委", "负责项目谋划、申报和发改库入库。"),
        ("市财政局", "负责财政库入库、发行和资金拨付。"),
    ]),
    ("同心街道项目建设专班", TaskForceLevel.STREET, "绿园区", "同心街道", "孙丽", "提前介入、规范引导，辖区项目施工零违规、零处罚。", [
        ("同心街道", "负责项目服务和协调。"),
        ("绿园执法中队", "负责施工现场规范引导。"),
    ]),
]

# The seed's named projects: name, district, industry, total (万元), kind A/B/C, start date
NAMED = [
    ("轨道交通三期工程", "市直", Industry.INFRA, "8790000", "B", D(2020, 4, 28), "轨道交通建设专班", "轨道集团"),
    ("百万头肉牛养殖项目", "农安县", Industry.AGRI_FOOD, "1600000", "C", D(2021, 5, 18), None, "市发改委"),
    ("一小时都市圈高速环线（二期）", "市直", Industry.INFRA, "1300000", "C", D(2021, 6, 8), "重大基础设施项目专班", "市交通局"),
    ("电网能力提升改造工程", "市直", Industry.ENERGY, "1000000", "B", D(2020, 5, 12), "重大基础设施项目专班", "长春供电公司"),
    ("东北亚国际博览中心项目", "朝阳区", Industry.SERVICES, "1000000", "C", D(2021, 4, 20), None, "市商务局"),
    ("一汽红旗新能源汽车工厂项目", "长春汽开区", Industry.AUTO, "790000", "C", D(2021, 3, 26), "汽车产业项目专班", "市工信局"),
    ("中车整车搬迁和建设项目", "绿园区", Industry.EQUIPMENT, "350000", "C", D(2021, 5, 6), None, "市工信局"),
    ("金赛国际医药产业园", "长春新区", Industry.BIO, "180000", "B", D(2020, 8, 16), None, "市发改委"),
    ("长地文化创意产业园", "二道区", Industry.TOURISM, "62000", "C", D(2021, 4, 15), None, "市商务局"),
    ("智能光谷产业园项目", "长春新区", Industry.OPTO, "250000", "B", D(2020, 6, 1), None, "市工信局"),
    ("熙旺中心项目", "宽城区", Industry.SERVICES, "120000", "C", D(2021, 5, 20), None, "市住建局"),
    ("龙翔商务中心项目", "长春新区", Industry.SERVICES, "150000", "B", D(2020, 7, 9), None, "市住建局"),
    ("吉通工业园区项目", "双阳区", Industry.EQUIPMENT, "86000", "C", D(2021, 6, 2), None, "市工信局"),
    ("海客广场项目", "长春新区", Industry.SERVICES, "98000", "C", D(2021, 7, 1), None, "市住建局"),
    ("朱城子镇玫瑰花生产基地项目", "德惠市", Industry.AGRI_FOOD, "12000", "C", D(2021, 4, 28), None, "市发改委"),
    ("新增车型配套门板柱护板盖板建设项目", "长春经开区", Industry.AUTO, "23000", "C", D(2021, 5, 11), "汽车产业项目专班", "市工信局"),
    ("香悦广场项目", "绿园区", Industry.SERVICES, "56000", "B", D(2020, 9, 3), "同心街道项目建设专班", "市商务局"),
    ("国际影都核心区项目", "净月高新区", Industry.TOURISM, "600000", "B", D(2020, 5, 26), None, "市商务局"),
    ("岭西新城区建设项目", "公主岭市", Industry.INFRA, "420000", "B", D(2020, 6, 18), None, "市住建局"),
    ("华润中心项目", "南关区", Industry.SERVICES, "560000", "C", D(2021, 4, 9), None, "市住建局"),
]

# band: (lower 万元, upper 万元 exclusive, A, B, C) — A+B = 2020 count, B+C = 2021 count.
BANDS = [
    (Decimal("5000"), Decimal("10000"), 60, 130, 68),
    (Decimal("10000"), Decimal("100000"), 250, 560, 232),
    (Decimal("100000"), Decimal("500000"), 60, 215, 82),
    (Decimal("500000"), Decimal("1000000"), 6, 16, 3),
    (Decimal("1000000"), Decimal("3000000"), 1, 4, 5),
]
# Of the 5000万+ projects: registered in 2021 (the rest of B registered when they started; the rest of C
# is still "started, not registered" at the end of 2021 and sits on that ledger).
REGISTERED_2021_FROM_B = 281
REGISTERED_2021_FROM_C = 340

# Projects that do not count in the 2021 tier table.
PLANNED_NOT_STARTED_2021 = 64  # in 2021's plan as new starts, still in 前期 at the end of 2021
RESERVE_2022 = 90  # 谋划储备 for 2022
SMALL_STARTED_2021 = 120  # below 5000万
CANCELLED = 8  # half of them had started: cancelled projects never count
COMPLETED_BEFORE_2020 = 24

LAND_2021_HA = {LandUse.INDUSTRIAL: (Decimal("789"), 118), LandUse.COMMERCIAL: (Decimal("1504"), 146)}

# Cumulative year-on-year growth of fixed-asset investment, 1–N月: the streak starts in July 2020.
GROWTH = {
    2020: ["-18.9", "-16.2", "-9.8", "-4.5", "0.9", "5.2", "7.1", "8.4", "9.3", "10.1", "10.6", "11.0"],
    2021: ["42.6", "38.7", "31.2", "25.3", "20.4", "17.1", "15.0", "13.6", "12.8", "12.2", "11.9", "11.6"],
}

INDUSTRY_WORDS = {
    Industry.AUTO: ["汽车零部件", "新能源汽车配套", "汽车电子", "整车物流"],
    Industry.EQUIPMENT: ["轨道客车配套", "智能装备", "精密制造", "工业机器人"],
    Industry.AGRI_FOOD: ["玉米深加工", "肉牛屠宰加工", "粮食仓储物流", "绿色食品"],
    Industry.OPTO: ["光电子器件", "卫星遥感应用", "激光产业", "显示模组"],
    Industry.BIO: ["生物制药", "疫苗生产", "医疗器械", "中药现代化"],
    Industry.ENERGY: ["光伏发电", "风电", "氢能", "储能"],
    Industry.TOURISM: ["冰雪旅游", "文化创意", "影视基地", "生态旅游"],
    Industry.SERVICES: ["商业综合体", "现代物流园", "总部基地", "数字经济产业园"],
    Industry.INFRA: ["道路新建", "供热管网改造", "污水处理厂", "城市快速路"],
    Industry.SOCIAL: ["老旧小区改造", "中小学新建", "医院门诊综合楼", "保障性住房"],
}
INDUSTRY_CODES = {i: f"{n:02d}" for n, i in enumerate(Industry.values, start=1)}


def category_of(industry: str) -> str:
    if industry == Industry.INFRA:
        return Category.INFRASTRUCTURE
    if industry == Industry.SOCIAL:
        return Category.LIVELIHOOD
    return Category.INDUSTRIAL


@dataclass
class Spec:
    """A project to create, before it becomes a row."""

    name: str
    district: str
    industry: str
    total: Decimal
    stage: str
    start: datetime.date | None = None
    completion: datetime.date | None = None
    registered: datetime.date | None = None
    planned_start: datetime.date | None = None
    task_force: str | None = None
    unit: str | None = None
    plan_2021: str | None = None
    plan_2022: str | None = None


class DemoBuilder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.serial = 0
        self.names: set[str] = set()

    # --- helpers -------------------------------------------------------------------------------------
    def pick_district(self) -> str:
        names = [d[0] for d in DISTRICTS]
        weights = [d[4] for d in DISTRICTS]
        return self.rng.choices(names, weights)[0]

    def date_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, (last - first).days))

    def amount_between(self, low: Decimal, high: Decimal) -> Decimal:
        # log-uniform: most projects sit near the bottom of their band, as in real registers
        value = float(low) * (float(high) / float(low)) ** self.rng.random()
        step = 100 if low >= 10000 else 10
        return max(low, min(high - 1, Decimal(int(value // step * step))))

    def new_name(self, district: str, industry: str) -> str:
        short = next(d[1] for d in DISTRICTS if d[0] == district)
        while True:
            word = self.rng.choice(INDUSTRY_WORDS[industry])
            name = f"{short}{word}项目（{self.rng.randint(1, 99):02d}）"
            if name not in self.names:
                self.names.add(name)
                return name

    def generated(self, total: Decimal, stage: str, **kwargs) -> Spec:
        district = self.pick_district()
        industry = self.rng.choice(Industry.values[:-1])
        return Spec(self.new_name(district, industry), district, industry, total, stage, **kwargs)

    # --- the plan of the city ------------------------------------------------------------------------
    def specs(self) -> list[Spec]:
        specs: list[Spec] = []
        named_by_band: dict[int, dict[str, int]] = {}
        for name, district, industry, total, kind, start, tf, unit in NAMED:
            self.names.add(name)
            total = Decimal(total)
            band = max(i for i, b in enumerate(BANDS) if b[0] <= total)
            named_by_band.setdefault(band, {"A": 0, "B": 0, "C": 0})[kind] += 1
            spec = Spec(name, district, industry, total, Stage.BUILDING, start=start, task_force=tf, unit=unit)
            spec.planned_start = start.replace(day=1)
            specs.append(spec)
        b_specs: list[Spec] = [s for s in specs if s.start.year == 2020]
        c_specs: list[Spec] = [s for s in specs if s.start.year == 2021]

        for band, (low, high, a, b, c) in enumerate(BANDS):
            named = named_by_band.get(band, {"A": 0, "B": 0, "C": 0})
            for _ in range(a - named["A"]):
                start = self.date_between(D(2017, 4, 1), D(2019, 10, 31))
                specs.append(self.generated(self.amount_between(low, high), Stage.COMPLETED, start=start,
                                            completion=self.date_between(D(2020, 3, 1), D(2020, 12, 20))))
            for _ in range(b - named["B"]):
                start = self.date_between(D(2018, 4, 1), D(2020, 11, 30))
                spec = self.generated(self.amount_between(low, high), Stage.BUILDING, start=start)
                specs.append(spec)
                b_specs.append(spec)
            for _ in range(c - named["C"]):
                start = self.date_between(D(2021, 3, 15), D(2021, 11, 30))
                spec = self.generated(self.amount_between(low, high), Stage.BUILDING, start=start)
                specs.append(spec)
                c_specs.append(spec)

        # B: some finished in 2021, a few stopped; registration either in 2021 (the 清零 campaign) or soon
        # after the start. The 2021 registrations go to the projects that started last.
        b_specs.sort(key=lambda s: (s.start, s.name))
        late, early = b_specs[-REGISTERED_2021_FROM_B:], b_specs[:-REGISTERED_2021_FROM_B]
        for spec in late:
            spec.registered = self.date_between(max(spec.start, D(2021, 1, 4)), D(2021, 11, 30))
        for spec in early:
            spec.registered = min(spec.start + datetime.timedelta(days=self.rng.randint(15, 45)), D(2020, 12, 28))
        for spec in b_specs:
            spec.planned_start = spec.start.replace(day=1)
            spec.plan_2021 = PlanKind.CONTINUING
            roll = self.rng.random()
            if roll < 0.16 and spec.total < Decimal("500000"):
                spec.stage = Stage.COMPLETED
                spec.completion = self.date_between(D(2021, 5, 1), D(2021, 12, 20))
                spec.plan_2021 = PlanKind.COMPLETING
            elif roll > 0.975:
                spec.stage = Stage.SUSPENDED
        c_specs.sort(key=lambda s: (s.start, s.name))
        for i, spec in enumerate(c_specs):
            # planned month: mostly as started, some started one to three months late (they were on the ledger)
            delay = self.rng.choice([0, 0, 0, 1, 1, 2, 3])
            month = max(1, spec.start.month - delay)
            spec.planned_start = D(2021, month, 1)
            spec.plan_2021 = PlanKind.NEW_START
            if i < REGISTERED_2021_FROM_C:
                spec.registered = min(spec.start + datetime.timedelta(days=self.rng.randint(20, 40)), D(2021, 12, 28))
        # C projects that started last have not been registered by the end of 2021.
        unregistered = c_specs[REGISTERED_2021_FROM_C:]
        for spec in unregistered:
            spec.registered = None

        for _ in range(PLANNED_NOT_STARTED_2021):
            month = self.rng.randint(3, 10)
            spec = self.generated(self.amount_between(Decimal("5000"), Decimal("300000")), Stage.PREPARING,
                                  planned_start=D(2021, month, 1))
            spec.plan_2021 = PlanKind.NEW_START
            spec.plan_2022 = PlanKind.NEW_START
            specs.append(spec)
        for _ in range(RESERVE_2022):
            month = self.rng.randint(3, 9)
            spec = self.generated(self.amount_between(Decimal("3000"), Decimal("800000")), Stage.RESERVE,
                                  planned_start=D(2022, month, 1))
            spec.plan_2022 = self.rng.choice([PlanKind.NEW_START, PlanKind.RESERVE])
            specs.append(spec)
        for _ in range(SMALL_STARTED_2021):
            start = self.date_between(D(2021, 3, 20), D(2021, 11, 15))
            spec = self.generated(self.amount_between(Decimal("1000"), Decimal("5000")), Stage.BUILDING, start=start,
                                  planned_start=start.replace(day=1))
            spec.plan_2021 = PlanKind.NEW_START
            if self.rng.random() < 0.3:
                spec.registered = start + datetime.timedelta(days=30)
            specs.append(spec)
        for i in range(CANCELLED):
            started = i % 2 == 0
            start = self.date_between(D(2021, 4, 1), D(2021, 6, 30)) if started else None
            specs.append(self.generated(self.amount_between(Decimal("10000"), Decimal("200000")), Stage.CANCELLED,
                                        start=start, planned_start=D(2021, 4, 1)))
        for _ in range(COMPLETED_BEFORE_2020):
            start = self.date_between(D(2016, 4, 1), D(2018, 6, 30))
            specs.append(self.generated(self.amount_between(Decimal("10000"), Decimal("400000")), Stage.COMPLETED,
                                        start=start, completion=self.date_between(D(2019, 1, 1), D(2019, 12, 20))))
        for spec in specs:
            if spec.start and not spec.planned_start:
                spec.planned_start = spec.start.replace(day=1)
            if spec.start and spec.stage != Stage.CANCELLED and spec.registered is None and spec.start.year < 2021:
                spec.registered = min(spec.start + datetime.timedelta(days=30), D(2020, 12, 28))
        return specs

    def code(self, spec: Spec, area: str) -> str:
        self.serial += 1
        when = spec.start or spec.planned_start or D(2021, 1, 1)
        year_month = f"{(when.year - 1) % 100:02d}{self.rng.randint(1, 12):02d}"
        return f"{year_month}-{area}-{INDUSTRY_CODES[spec.industry]}-01-{self.serial:06d}"


def growth_months() -> list[tuple[int, int, Decimal]]:
    return [(year, month, Decimal(v)) for year, values in GROWTH.items() for month, v in enumerate(values, 1)]


def is_loaded() -> bool:
    return Project.objects.filter(name="轨道交通三期工程").exists()


@transaction.atomic
def load(*, stdout=None) -> bool:
    """Build the demo city once; returns False when it is already there (idempotent)."""
    if is_loaded():
        return False
    builder = DemoBuilder()
    rng = builder.rng
    districts = {}
    for order, (name, short, kind, area, _w) in enumerate(DISTRICTS):
        districts[name] = District.objects.create(
            name=name, short_name=short, kind=kind, sort_order=order, email=f"xmb-{order:02d}@changchun.example",
            aliases=ALIASES.get(name, ""),
            # City-wide projects (市直) may carry any of the city's area codes: only districts are checked.
            area_codes="" if kind == DistrictKind.CITY else area,
            host=districts[ZONE_HOSTS[name]] if kind == DistrictKind.ZONE else None,
        )
    units = {}
    for order, (name, short) in enumerate(UNITS):
        units[short] = Unit.objects.create(name=name, short_name=short, sort_order=order,
                                           email=f"unit-{order:02d}@changchun.example")
    task_forces = {}
    for name, level, district, lead, leader, description, members in TASK_FORCES:
        tf = TaskForce.objects.create(
            name=name, level=level, district=districts.get(district), lead_unit=units[lead], leader=leader,
            description=description,
        )
        for unit, duty in members:
            TaskForceMember.objects.create(task_force=tf, unit=units[unit], duty=duty)
        task_forces[name] = tf

    specs = builder.specs()
    areas = {d[0]: d[3] for d in DISTRICTS}
    unit_names = [u[1] for u in UNITS[:12]]
    projects = []
    for spec in specs:
        unit = spec.unit or rng.choice(unit_names)
        projects.append(
            Project(
                code=builder.code(spec, areas[spec.district]),
                name=spec.name,
                district=districts[spec.district],
                industry=spec.industry,
                category=category_of(spec.industry),
                owner=f"{spec.district}{rng.choice(['城建投资', '产业发展', '实业', '置业', '科技'])}有限公司",
                total_investment=spec.total,
                content=f"{spec.name}，总投资{spec.total / 10000:.2f}亿元。",
                planned_start=spec.planned_start,
                planned_completion=(spec.planned_start or spec.start).replace(year=(spec.planned_start or spec.start).year + 2)
                if (spec.planned_start or spec.start) else None,
                actual_start=spec.start,
                actual_completion=spec.completion,
                stage=spec.stage,
                task_force=task_forces.get(spec.task_force) if spec.task_force else None,
                responsible_unit=units[unit],
                leader_in_charge=rng.choice(["王副市长", "李副市长", "张副市长", "刘秘书长"]),
                is_attraction=spec.industry not in (Industry.INFRA, Industry.SOCIAL) and rng.random() < 0.4,
                registered_on=spec.registered,
                stats_code=f"TJ{spec.registered:%Y}{len(projects):05d}" if spec.registered else "",
            )
        )
    for p in projects:
        p.longitude, p.latitude = demo_location(p.district, p.code, p.name)
        if p.is_attraction:
            p.signing_date = (p.actual_start or p.planned_start or D(2021, 3, 1)) - datetime.timedelta(days=rng.randint(60, 300))
            p.follow_up_person = rng.choice(["周明", "吴涛", "郑洁", "冯磊", "韩雪"])
    projects = bulk_create_with_history(projects, Project, batch_size=500, default_change_reason="演示数据")
    by_name = {p.name: p for p in Project.objects.only("id", "name")}

    plans, reports = [], []
    for spec in specs:
        project = by_name[spec.name]
        yearly = (spec.total / 3).quantize(Decimal("0.01"))
        if spec.plan_2021:
            plans.append(AnnualPlanEntry(
                project=project, year=2021, kind=spec.plan_2021, planned_investment=yearly,
                planned_start_month=spec.planned_start.month if spec.plan_2021 == PlanKind.NEW_START else None,
            ))
        if spec.plan_2022:
            plans.append(AnnualPlanEntry(
                project=project, year=2022, kind=spec.plan_2022,
                planned_investment=yearly if spec.plan_2022 != PlanKind.RESERVE else Decimal("0"),
                planned_start_month=(spec.planned_start.month if spec.planned_start.year == 2022 else 4)
                if spec.plan_2022 == PlanKind.NEW_START else None,
            ))
        if spec.start and spec.stage != Stage.CANCELLED and spec.start <= D(2021, 12, 31) and (
            spec.completion is None or spec.completion.year >= 2021
        ):
            first = spec.start.month if spec.start.year == 2021 else 1
            last = spec.completion.month if spec.completion and spec.completion.year == 2021 else 12
            # On schedule or a little behind: 70–110% of the plan spread over the months built.
            pace = Decimal(str(round(rng.uniform(0.7, 1.1), 3)))
            per_month = (yearly * pace / 12).quantize(Decimal("0.01"))
            for month in range(first, last + 1):
                status = ReportStatus.APPROVED if month < 12 else rng.choice(
                    [ReportStatus.APPROVED, ReportStatus.SUBMITTED, ReportStatus.DRAFT])
                reports.append(MonthlyReport(
                    project=project, year=2021, month=month, amount=per_month, status=status,
                    progress=rng.choice(["主体施工", "基础施工", "设备安装", "场地平整", "装饰装修", "管网铺设"]),
                ))
    bulk_create_with_history(plans, AnnualPlanEntry, batch_size=1000, default_change_reason="演示数据")
    bulk_create_with_history(reports, MonthlyReport, batch_size=2000, default_change_reason="演示数据")

    _load_land(builder, districts, specs, by_name)
    InvestmentIndicator.objects.bulk_create(
        [InvestmentIndicator(year=y, month=m, growth_pct=g) for y, m, g in growth_months()]
    )
    if stdout:
        stdout.write(f"演示数据：{len(projects)} 个项目、{len(plans)} 条年度计划、{len(reports)} 份月报。")
    return True


def _load_land(builder: DemoBuilder, districts, specs: list[Spec], by_name) -> None:
    rng = builder.rng
    parcels = []
    serial = 0
    started_2021 = [s for s in specs if s.start and s.start.year == 2021 and s.stage != Stage.CANCELLED]
    waiting = [s for s in specs if s.stage in (Stage.PREPARING, Stage.RESERVE)]
    for use, (total, count) in LAND_2021_HA.items():
        # random shares that add up exactly to the seed's hectares
        weights = [rng.uniform(0.5, 1.5) for _ in range(count)]
        scale = total / Decimal(str(sum(weights)))
        sizes = [(Decimal(str(w)) * scale).quantize(Decimal("0.0001")) for w in weights[:-1]]
        sizes.append(total - sum(sizes))
        for hectares in sizes:
            serial += 1
            supply = builder.date_between(D(2021, 1, 10), D(2021, 11, 30))
            project = None
            roll = rng.random()
            if roll < 0.55 and started_2021:
                spec = rng.choice(started_2021)
                project = by_name[spec.name]
            elif roll < 0.7 and waiting:
                spec = rng.choice(waiting)  # land supplied, project not started: the idle-land ledger
                project = by_name[spec.name]
            district = project.district if project else districts[builder.pick_district()]
            parcels.append(LandSupply(
                parcel_code=f"CC2021-{'GY' if use == LandUse.INDUSTRIAL else 'JY'}-{serial:04d}",
                location=f"{district.name}{rng.choice(['东', '西', '南', '北'])}部{rng.randint(1, 30)}号地块",
                district=district, use=use, hectares=hectares, supply_date=supply,
                contract_start_date=supply + datetime.timedelta(days=rng.choice([90, 180, 270])),
                transferee=project.name.split("（")[0] + "建设单位" if project else "待定受让单位",
                project=project,
            ))
    for i in range(60):  # 2020's supplies, for the year-on-year view
        parcels.append(LandSupply(
            parcel_code=f"CC2020-{i + 1:04d}", district=districts[builder.pick_district()],
            use=rng.choice([LandUse.INDUSTRIAL, LandUse.COMMERCIAL, LandUse.OTHER]),
            hectares=Decimal(str(round(rng.uniform(2, 30), 2))),
            supply_date=builder.date_between(D(2020, 3, 1), D(2020, 12, 15)),
        ))
    bulk_create_with_history(parcels, LandSupply, batch_size=500, default_change_reason="演示数据")


DEMO_USERS = [
    # username, (姓, 名), role, district, unit short name
    ("supervisor", ("王", "建国"), Role.SUPERVISOR, None, None),
    ("clerk_chaoyang", ("李", "娜"), Role.DISTRICT_CLERK, "朝阳区", None),
    ("clerk_nanguan", ("张", "伟"), Role.DISTRICT_CLERK, "南关区", None),
    ("dept_fgw", ("刘", "洋"), Role.UNIT_CLERK, None, "市发改委"),
]


def ensure_users() -> list[tuple[str, str]]:
    """Create or refresh the demo accounts with DEMO_PASSWORD; returns (username, description) pairs."""
    password = settings.DEMO_PASSWORD
    accounts = []
    admin, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@changchun.example"})
    admin.is_staff = admin.is_superuser = True
    admin.last_name, admin.first_name = "", "系统管理员"
    admin.set_password(password)
    admin.save()
    accounts.append(("admin", "超级管理员"))
    for username, (family, given), role, district, unit in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.last_name, user.first_name = family, given
        user.email = user.email or f"{username}@changchun.example"
        display = family + given
        user.is_staff = True
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        UserProfile.objects.update_or_create(
            user=user,
            defaults={
                "district": District.objects.get(name=district) if district else None,
                "unit": Unit.objects.get(short_name=unit) if unit else None,
            },
        )
        where = district or unit
        accounts.append((username, f"{role}（{where + '，' if where else ''}{display}）"))
    return accounts
