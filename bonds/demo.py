"""The demo city's special bonds, built deterministically on top of `projects.demo` (run after it).

2021 reads as the seed report has it: 145 bond projects received 365.98亿元 (3,659,800万元) from the year's
four issues, 138亿元 more than 2020's 2,279,800万元, and the province's 441 projects and 6,213,600万元 make
the shares 32.9% and 58.9%. Disbursements and expenditures give a spending picture with green, yellow and
red lights and some money disbursed but unspent (以拨代支). 2022 has applications at every stage.

Rows are created in their final state (as an import of past records would be); the money rules are checked
over the whole result before the transaction commits.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import transaction
from django.db.models import Q, Sum
from simple_history.utils import bulk_create_with_history

from projects.choices import Industry, Stage
from projects.models import Project

from .choices import BondField, BondStage
from .models import Allocation, BondIssue, BondProject, Disbursement, Expenditure, ProvinceTotal, add_years
from .selectors import with_money

SEED = 4021
D = datetime.date
BOND_INDUSTRIES = [Industry.INFRA, Industry.SOCIAL, Industry.ENERGY]
FIELDS = {
    Industry.INFRA: [BondField.TRANSPORT, BondField.MUNICIPAL, BondField.MUNICIPAL, BondField.ECOLOGY],
    Industry.SOCIAL: [BondField.SOCIAL, BondField.SOCIAL, BondField.HOUSING],
    Industry.ENERGY: [BondField.ENERGY, BondField.MUNICIPAL],
}
# The named projects that certainly got bonds in 2021, with their amounts (万元).
NAMED_2021 = {"轨道交通三期工程": Decimal("300000"), "一小时都市圈高速环线（二期）": Decimal("120000"),
              "岭西新城区建设项目": Decimal("60000"), "电网能力提升改造工程": Decimal("50000")}

# name, date, term (years), coupon (%)
ISSUES = {
    2020: [("2020年吉林省政府专项债券（一期）", D(2020, 3, 20), 10, "3.32"),
           ("2020年吉林省政府专项债券（二期）", D(2020, 6, 15), 15, "3.68"),
           ("2020年吉林省政府专项债券（三期）", D(2020, 9, 10), 20, "3.85")],
    2021: [("2021年吉林省政府专项债券（一期）", D(2021, 3, 25), 10, "3.45"),
           ("2021年吉林省政府专项债券（二期）", D(2021, 6, 18), 15, "3.60"),
           ("2021年吉林省政府专项债券（三期）", D(2021, 8, 20), 20, "3.70"),
           ("2021年吉林省政府专项债券（四期）", D(2021, 10, 28), 30, "3.75")],
    2022: [("2022年吉林省政府专项债券（一期）", D(2022, 1, 20), 10, "3.10")],
}
YEAR_TOTAL = {2020: (110, Decimal("2279800")), 2021: (145, Decimal("3659800"))}
PROVINCE = {2020: (392, Decimal("4105000")), 2021: (441, Decimal("6213600"))}
# 2022 applications: how many at each stage (one of the 谋划 ones was returned once)
STAGES_2022 = {BondStage.PLANNING: 6, BondStage.APPLIED: 5, BondStage.APPROVED: 4, BondStage.ISSUED: 3,
               BondStage.FUNDED: 3, BondStage.EFFECTIVE: 2}


def is_loaded() -> bool:
    return BondIssue.objects.filter(name=ISSUES[2021][0][0]).exists()


def split(total: Decimal, count: int, rng: random.Random, fixed: list[Decimal]) -> list[Decimal]:
    """`count` amounts (multiples of 100万元, the `fixed` ones first) adding up exactly to `total`."""
    free = count - len(fixed)
    rest = total - sum(fixed)
    weights = [rng.lognormvariate(0, 0.8) for _ in range(free)]
    scale = rest / Decimal(str(sum(weights)))
    amounts = [max(Decimal("1000"), (Decimal(str(w)) * scale / 100).quantize(Decimal("1")) * 100) for w in weights]
    amounts[amounts.index(max(amounts))] += rest - sum(amounts)
    return fixed + amounts


def days(rng: random.Random, low: int, high: int) -> datetime.timedelta:
    return datetime.timedelta(days=rng.randint(low, high))


class Builder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.bond_projects: list[BondProject] = []
        self.allocations: list[tuple[BondProject, str, Decimal]] = []  # (bond project, issue name, amount)
        self.disbursements: list[Disbursement] = []
        self.expenditures: list[Expenditure] = []

    def bond_project(self, project: Project, year: int, requested: Decimal, **fields) -> BondProject:
        rng = self.rng
        docs = {} if fields.pop("no_documents", False) else {
            "implementation_plan": f"bonds/{year - 1}/{project.code}-实施方案.pdf",
            "financial_report": f"bonds/{year - 1}/{project.code}-财务评价报告.pdf",
            "legal_opinion": f"bonds/{year - 1}/{project.code}-法律意见书.pdf",
            "performance_evaluation": f"bonds/{year - 1}/{project.code}-事前绩效评估报告.pdf",
            "performance_conclusion": "项目必要性充分，绩效目标合理，建议予以支持。",
        }
        fields.setdefault("coverage_ratio", Decimal(str(round(rng.uniform(1.15, 2.6), 2))))
        bp = BondProject(
            project=project, year=year, field=rng.choice(FIELDS.get(project.industry, [BondField.OTHER])),
            requested_amount=requested, **docs, **fields,
        )
        self.bond_projects.append(bp)
        return bp

    def funded_year(self, year: int, projects: list[Project], fixed: dict[str, Decimal]) -> None:
        """A past year's bond projects: planned, applied and approved the year before, then issued."""
        rng = self.rng
        count, total = YEAR_TOTAL[year]
        named = [p for p in projects if p.name in fixed]
        others = [p for p in projects if p.name not in fixed]
        chosen = named + rng.sample(others, count - len(named))
        amounts = split(total, count, rng, [fixed[p.name] for p in named])
        issues = ISSUES[year]
        for project, amount in zip(chosen, amounts):
            # big amounts come from two issues; the rest from one
            names = rng.sample([i[0] for i in issues], 2 if amount >= 40000 else 1)
            names.sort(key=lambda n: next(i[1] for i in issues if i[0] == n))
            first_issue = next(i[1] for i in issues if i[0] == names[0])
            parts = [amount] if len(names) == 1 else [(amount * Decimal("0.6") / 100).quantize(Decimal("1")) * 100]
            if len(names) == 2:
                parts.append(amount - parts[0])
            applied = D(year - 1, 10, 1) + days(rng, 0, 60)
            approved = max(applied + days(rng, 10, 40), D(year - 1, 12, 15))
            approved = min(approved, first_issue - datetime.timedelta(days=5))
            requested = (amount * Decimal(str(rng.choice([1, 1, 1.1, 1.2, 1.3]))) / 100).quantize(Decimal("1")) * 100
            money, stage_fields = self.money_for(project, year, [
                (next(i[1] for i in issues if i[0] == n), p) for n, p in zip(names, parts)])
            bp = self.bond_project(
                project, year, requested, approved_amount=amount,
                planned_on=applied - days(rng, 30, 120), applied_on=applied, approved_on=approved,
                ndrc_approved=True, ndrc_approved_on=applied + days(rng, 3, 9),
                finance_approved=True, finance_approved_on=applied + days(rng, 5, 9),
                issued_on=first_issue, **stage_fields,
            )
            for row in money:
                row.bond_project = bp
            for name, part in zip(names, parts):
                self.allocations.append((bp, name, part))

    def money_for(self, project: Project, year: int, parts: list[tuple[datetime.date, Decimal]]):
        """Disburse and spend an issued project's money; returns the rows (without their bond project) and
        the stage reached with its dates."""
        rng = self.rng
        rows: list = []
        spent_total = Decimal("0")
        last_spent = None
        first_paid = None
        for issue_date, amount in parts:
            if year == 2021 and rng.random() < 0.06:
                continue  # money allocated but not yet disbursed: stays 已发行
            paid_on = issue_date + days(rng, 7, 35)
            share = Decimal("1") if rng.random() < 0.8 else Decimal(str(round(rng.uniform(0.6, 0.95), 2)))
            paid = (amount * share).quantize(Decimal("0.01"))
            rows.append(Disbursement(paid_on=paid_on, amount=paid, note="市财政局拨付"))
            first_paid = min(first_paid or paid_on, paid_on)
            # spending: how far along the straight line to six months, with some ahead and some behind
            if year == 2020:
                pace = Decimal("1")
            else:
                months = (D(2021, 12, 31) - issue_date).days / 30.4
                expected = min(1.0, months / 6)
                pace = Decimal(str(round(min(1.0, max(0.0, expected * rng.choice([1.1, 1, 1, 1, 0.95, 0.9, 0.8, 0.6, 0.4]))),
                                         2)))
            to_spend = (paid * pace).quantize(Decimal("0.01"))
            pieces = 3 if to_spend > 0 else 0
            for n in range(pieces):
                piece = (to_spend / pieces).quantize(Decimal("0.01")) if n < pieces - 1 else \
                    to_spend - (to_spend / pieces).quantize(Decimal("0.01")) * (pieces - 1)
                spent_on = min(paid_on + days(rng, 10, 50) * (n + 1), D(2021, 12, 30) if year == 2021 else D(2021, 6, 30))
                spent_on = max(spent_on, paid_on)
                rows.append(Expenditure(spent_on=spent_on, amount=piece,
                                        purpose=rng.choice(["工程款", "设备购置", "征地拆迁补偿", "材料款"])))
                spent_total += piece
                last_spent = max(last_spent or spent_on, spent_on)
        paid_total = sum(r.amount for r in rows if isinstance(r, Disbursement))
        if year == 2021 and paid_total > spent_total and rng.random() < 0.85:
            # most of 2021's money is spent in the first half of 2022
            last_spent = D(2022, 3, 1) + days(rng, 0, 110)
            rows.append(Expenditure(spent_on=last_spent, amount=paid_total - spent_total, purpose="工程款"))
            spent_total = paid_total
        self.disbursements += [r for r in rows if isinstance(r, Disbursement)]
        self.expenditures += [r for r in rows if isinstance(r, Expenditure)]
        allocated = sum(a for _d, a in parts)
        fields = {"stage": BondStage.ISSUED}
        if first_paid:
            fields.update(stage=BondStage.FUNDED, funded_on=max(first_paid, min(d for d, _a in parts)))
            if spent_total >= allocated or project.stage == Stage.COMPLETED:
                fields.update(stage=BondStage.EFFECTIVE, effective_on=max(last_spent or first_paid, fields["funded_on"]))
        return rows, fields

    def applications_2022(self, projects: list[Project]) -> None:
        rng = self.rng
        issue_name, issue_date, _t, _c = ISSUES[2022][0]
        chosen = iter(rng.sample(projects, sum(STAGES_2022.values())))
        for stage, count in STAGES_2022.items():
            for n in range(count):
                project = next(chosen)
                requested = Decimal(rng.randrange(50, 800)) * 100
                planned = D(2021, 4, 1) + days(rng, 0, 120)
                fields = {"planned_on": planned}
                if stage == BondStage.PLANNING:
                    fields["no_documents"] = n % 2 == 0  # still preparing 一案两书
                    if n == 1:
                        fields["return_reason"] = "本息覆盖倍数测算依据不足，请补充项目收益测算后重新申报。"
                    if n == 3:
                        fields["coverage_ratio"] = Decimal("1.05")
                else:
                    fields.update(stage=stage, applied_on=planned + days(rng, 40, 90))
                    reached = list(STAGES_2022).index(stage)
                    if reached >= 2 or n % 2 == 0:
                        fields.update(ndrc_approved=True, ndrc_approved_on=fields["applied_on"] + days(rng, 5, 20))
                    if reached >= 2:
                        fields.update(finance_approved=True,
                                      finance_approved_on=fields["applied_on"] + days(rng, 10, 25),
                                      approved_on=min(fields["applied_on"] + days(rng, 30, 40), D(2022, 1, 10)),
                                      approved_amount=requested)
                bp = self.bond_project(project, 2022, requested, **fields)
                if stage in (BondStage.ISSUED, BondStage.FUNDED, BondStage.EFFECTIVE):
                    bp.issued_on = issue_date
                    self.allocations.append((bp, issue_name, requested))
                if stage in (BondStage.FUNDED, BondStage.EFFECTIVE):
                    paid_on = issue_date + days(rng, 10, 30)
                    self.disbursements.append(Disbursement(bond_project=bp, paid_on=paid_on, amount=requested,
                                                           note="市财政局拨付"))
                    bp.funded_on = paid_on
                    spent = requested if stage == BondStage.EFFECTIVE else (requested / 2).quantize(Decimal("0.01"))
                    spent_on = paid_on + days(rng, 30, 120)
                    self.expenditures.append(Expenditure(bond_project=bp, spent_on=spent_on, amount=spent,
                                                         purpose="工程款"))
                    if stage == BondStage.EFFECTIVE:
                        bp.effective_on = spent_on


def candidates(year_filter: Q) -> list[Project]:
    return list(Project.objects.filter(year_filter, industry__in=BOND_INDUSTRIES).order_by("code"))


@transaction.atomic
def load(*, stdout=None) -> None:
    """Build the demo's special bonds once (idempotent: does nothing when they are there)."""
    if is_loaded():
        if stdout:
            stdout.write("专项债券演示数据已存在，未重复载入。")
        return
    builder = Builder()
    built_2021 = Q(actual_start__lte=D(2021, 12, 31)) & (
        Q(actual_completion__isnull=True) | Q(actual_completion__gte=D(2021, 1, 1))) & ~Q(stage=Stage.CANCELLED)
    built_2020 = Q(actual_start__lte=D(2020, 6, 30)) & (
        Q(actual_completion__isnull=True) | Q(actual_completion__gte=D(2020, 1, 1))) & ~Q(stage=Stage.CANCELLED)
    builder.funded_year(2020, candidates(built_2020), {"轨道交通三期工程": Decimal("200000")})
    in_2021 = candidates(built_2021)
    builder.funded_year(2021, in_2021, NAMED_2021)
    taken_2022 = {bp.project_id for bp in builder.bond_projects if bp.year == 2021}
    waiting = candidates(Q(stage__in=[Stage.RESERVE, Stage.PREPARING]))
    builder.applications_2022(waiting + [p for p in in_2021 if p.pk not in taken_2022][:20])

    issues = []
    for year, rows in ISSUES.items():
        for name, date, term, coupon in rows:
            allocated = sum(a for _bp, n, a in builder.allocations if n == name)
            amount = ((allocated / 10000).to_integral_value(rounding="ROUND_CEILING") * 10000) or Decimal("10000")
            issues.append(BondIssue(name=name, issue_date=date, term_years=term, coupon_rate=Decimal(coupon),
                                    amount=amount, maturity_date=add_years(date, term)))
    bulk_create_with_history(issues, BondIssue, default_change_reason="演示数据")
    by_name = {i.name: i for i in BondIssue.objects.all()}
    bulk_create_with_history(builder.bond_projects, BondProject, batch_size=500, default_change_reason="演示数据")
    saved = {(bp.project_id, bp.year): bp for bp in BondProject.objects.all()}
    for bp in builder.bond_projects:
        bp.pk = saved[(bp.project_id, bp.year)].pk
    allocations = [Allocation(issue=by_name[name], bond_project=bp, amount=amount)
                   for bp, name, amount in builder.allocations]
    for row in builder.disbursements + builder.expenditures:
        row.bond_project_id = row.bond_project.pk
    bulk_create_with_history(allocations, Allocation, batch_size=500, default_change_reason="演示数据")
    bulk_create_with_history(builder.disbursements, Disbursement, batch_size=500, default_change_reason="演示数据")
    bulk_create_with_history(builder.expenditures, Expenditure, batch_size=500, default_change_reason="演示数据")
    bulk_create_with_history(
        [ProvinceTotal(year=y, projects=n, amount=a, source="吉林省财政厅（演示）") for y, (n, a) in PROVINCE.items()],
        ProvinceTotal, default_change_reason="演示数据",
    )
    _assert_money_rules()
    if stdout:
        stdout.write(f"专项债券演示数据：{len(builder.bond_projects)} 个专项债项目、{len(issues)} 个发行批次、"
                     f"{len(allocations)} 笔分配、{len(builder.disbursements)} 笔拨付、{len(builder.expenditures)} 笔支出。")


def _assert_money_rules() -> None:
    """The demo's rows keep every money rule (they are created in bulk, not through the services).

    Compared in Python on cents: SQLite sums decimals as floats, so SQL comparisons of equal sums can wobble.
    """
    cent = Decimal("0.01")
    for row in with_money(BondProject.objects.all(), on=D(2100, 1, 1)):
        allocated, disbursed, spent = (v.quantize(cent) for v in (row.allocated, row.disbursed, row.spent))
        approved = row.approved_amount or Decimal("0")
        assert allocated <= approved and disbursed <= allocated and spent <= disbursed, f"演示数据违反资金规则：{row.pk}"
    for issue in BondIssue.objects.annotate(total=Sum("allocations__amount")):
        assert (issue.total or 0) <= issue.amount, f"演示数据的分配超过发行额度：{issue}"
