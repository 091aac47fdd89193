"""The project register's tables for Excel import and export.

Headers are the models' verbose names, identical in export and import, so an exported file edited and
imported again updates the same rows, found by their natural keys.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from import_export.fields import Field

from config.dates import today
from config.excel import values
from config.excel.columns import column
from config.excel.resources import ExcelResource
from config.excel.tables import register
from config.scoping import is_supervisor, scope_of
from config.workflow import reason_prefix

from . import periods, quality, services
from .choices import Stage
from .models import AnnualPlanEntry, LandSupply, MonthlyReport, Project, StatsRegistration
from .signals import project_facts_changed

CODE_RULE = "统一项目代码，格式如 2101-220100-04-01-123456。"
YEAR = dict(suffix="年", low=2000, high=2100, rule="年份，如 2021 或 2021年。")
MONTH = dict(suffix="月", low=1, high=12, rule="月份 1–12，如 3 或 3月。")


class AnnouncesProjectFacts:
    """A table whose rows feed the ledgers: the projects it touched are announced once the import commits."""

    def announce(self, ids: list[int]) -> None:
        project_facts_changed.send(sender=Project, project_ids=ids, by=self.user)


@register
class ProjectResource(AnnouncesProjectFacts, ExcelResource):
    table = "projects"
    title = "项目"
    key_rule = "按统一项目代码匹配，已有的项目更新，没有的新增"
    select_related = ("district", "task_force", "responsible_unit")
    export_ordering = ("code",)

    code = column(Project, "code", values.KeyWidget(CODE_RULE), width=26)
    name = column(Project, "name", width=30)
    district = column(Project, "district")
    industry = column(Project, "industry")
    category = column(Project, "category")
    owner = column(Project, "owner", width=24)
    owner_contact = column(Project, "owner_contact", width=20)
    total_investment = column(Project, "total_investment")
    content = column(Project, "content", width=40)
    longitude = column(Project, "longitude", width=14)
    latitude = column(Project, "latitude", width=14)
    planned_start = column(Project, "planned_start")
    planned_completion = column(Project, "planned_completion")
    task_force = column(Project, "task_force", width=20)
    responsible_unit = column(Project, "responsible_unit", width=20)
    leader_in_charge = column(Project, "leader_in_charge")
    is_attraction = column(Project, "is_attraction")
    signing_date = column(Project, "signing_date")
    follow_up_person = column(Project, "follow_up_person")
    stage = column(Project, "stage", readonly=True)
    actual_start = column(Project, "actual_start", readonly=True)
    actual_completion = column(Project, "actual_completion", readonly=True)
    registered_on = column(Project, "registered_on", readonly=True)
    stats_code = column(Project, "stats_code", readonly=True)

    example = {
        "code": "2101-220104-04-01-000001",
        "name": "新能源汽车零部件产业园项目",
        "district": "朝阳区",
        "industry": "汽车",
        "category": "产业项目",
        "owner": "长春某汽车零部件有限公司",
        "owner_contact": "张三 0431-88888888",
        "total_investment": Decimal("150000"),
        "content": "新建厂房10万平方米，购置生产线4条",
        "longitude": Decimal("125.220000"),
        "latitude": Decimal("43.820000"),
        "planned_start": datetime.date(2021, 4, 1),
        "planned_completion": datetime.date(2023, 10, 31),
        "task_force": "",
        "responsible_unit": "市发改委",
        "leader_in_charge": "李四",
        "is_attraction": "是",
        "signing_date": datetime.date(2020, 12, 18),
        "follow_up_person": "王五",
        "stage": "谋划储备",
    }

    readonly_hint = "如需期初导入请用 --initial"

    class Meta:
        model = Project
        import_id_fields = ("code",)

    def announced_id(self, instance):
        return instance.pk


INITIAL_LOAD = "期初导入"
STARTED = {Stage.BUILDING, Stage.SUSPENDED, Stage.COMPLETED}


class InitialProjectResource(ProjectResource):
    """期初导入: a city's existing register, with stages and dates, replayed through the services.

    The rows are written as in a plain import (bulk, with history "期初导入"); then, in the same transaction,
    each row's stage is replayed: 前期 (for 前期 rows), 开工, then 停缓建 / 竣工 / 取消, then 入库, a step at a time for
    the whole file through `services.projects_replay` (the transitions' permissions, guards and history, and
    every refusal the services' own). A refusal is that row's problem, named by column and value, and
    nothing is saved.
    The services' announcements are held and sent once for the whole file, so the ledgers sync once.
    Only supervisors load a register; only projects still in 谋划储备 are replayed.
    """

    change_reason = INITIAL_LOAD
    readonly_hint = ""
    display_name = "期初导入（读取阶段、实际开工/竣工日期、入库日期、统计编码，按流程逐项办理；仅督查）"
    suspend_reason = Field(attribute=None, column_name="停缓建原因", widget=values.TextWidget("阶段为“停缓建”时必填。"),
                           readonly=True)
    cancel_reason = Field(attribute=None, column_name="取消原因", widget=values.TextWidget("阶段为“取消”时必填。"),
                          readonly=True)
    for _f in (suspend_reason, cancel_reason):
        _f.required, _f.width, _f.help_text = False, 24, ""
    del _f

    class Meta(ProjectResource.Meta):
        pass

    #: the columns a plain import ignores and this one reads
    LOADED = ("stage", "actual_start", "actual_completion", "registered_on", "stats_code")

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.plans: list[tuple[int, dict, dict]] = []  # (row number, raw row, parsed values), in file order

    def note_readonly(self, instance, row, number) -> None:
        pass  # the read-only columns are read here

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        errors: dict[str, list[str]] = {}
        parsed: dict = {}
        for name in (*self.LOADED, "suspend_reason", "cancel_reason"):
            f = self.fields[name]
            if f.column_name not in row:
                parsed[name] = None
                continue
            try:
                parsed[name] = f.widget.clean(row[f.column_name])
            except ValueError as exc:
                errors.setdefault(name, []).append(str(exc))
        instance._initial = parsed
        instance._initial_errors = errors

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if self._plan_of(instance):
            return False  # the stage or dates change even if no other column does
        return super().skip_row(instance, original, row, import_validation_errors)

    def _plan_of(self, instance) -> bool:
        parsed = getattr(instance, "_initial", {})
        stage = parsed.get("stage") or Stage.RESERVE
        return bool(stage != instance.stage or any(parsed.get(k) for k in self.LOADED[1:]))

    def check_row(self, instance, add) -> None:
        super().check_row(instance, add)
        if not is_supervisor(self.user):
            add(NON_FIELD_ERRORS, "期初导入只能由督查（市级）用户进行。")
            return
        for name, messages in getattr(instance, "_initial_errors", {}).items():
            for message in messages:
                add(name, message)
        parsed = getattr(instance, "_initial", {})
        if getattr(instance, "_initial_errors", None):
            return
        stage = parsed.get("stage") or Stage.RESERVE
        if not instance._state.adding and self._plan_of(instance) and instance.stage != Stage.RESERVE:
            add("stage", f"该项目在系统中已是“{instance.get_stage_display()}”，期初导入只用于尚未办理阶段的项目；"
                         "请在系统中按流程办理。")
            return
        label = Stage(stage).label
        start, done = parsed.get("actual_start"), parsed.get("actual_completion")
        if stage in STARTED and start is None:
            add("actual_start", f"阶段为“{label}”的项目须填写实际开工日期。")
        if stage in (Stage.RESERVE, Stage.PREPARING) and start is not None:
            add("actual_start", f"阶段为“{label}”的项目尚未开工，不应填写实际开工日期；已开工的请把阶段改为“在建”等。")
        if stage == Stage.COMPLETED and done is None:
            add("actual_completion", "阶段为“竣工”的项目须填写实际竣工日期。")
        if stage != Stage.COMPLETED and done is not None:
            add("actual_completion", f"阶段为“{label}”的项目不应填写实际竣工日期；已竣工的请把阶段改为“竣工”。")
        if stage == Stage.SUSPENDED and not parsed.get("suspend_reason"):
            add("suspend_reason", "阶段为“停缓建”的项目须填写停缓建原因。")
        if stage == Stage.CANCELLED and not parsed.get("cancel_reason"):
            add("cancel_reason", "阶段为“取消”的项目须填写取消原因。")
        if bool(parsed.get("registered_on")) != bool(parsed.get("stats_code")):
            missing = "stats_code" if parsed.get("registered_on") else "registered_on"
            add(missing, "入库须同时填写入库日期和统计编码。")

    def save_instance(self, instance, is_create, row, **kwargs):
        super().save_instance(instance, is_create, row, **kwargs)
        if self._plan_of(instance):
            self.plans.append((kwargs.get("row_number"), row, instance))

    def after_import(self, dataset, result, **kwargs):
        if not result.has_errors() and not result.has_validation_errors() and self.plans:
            self.replay(result)
        super().after_import(dataset, result, **kwargs)

    def replay(self, result) -> None:
        """The rows' stages through `services.projects_replay`, a step at a time for the whole file; a refusal
        becomes that row's problem."""
        codes = [instance.code for _n, _r, instance in self.plans]
        saved = {}
        for start in range(0, len(codes), 1000):
            chunk = codes[start:start + 1000]
            saved.update((p.code, p) for p in Project.objects.select_related("district").filter(code__in=chunk))
        plans = [(saved[instance.code], self.replay_plan(instance._initial)) for _n, _r, instance in self.plans]
        with reason_prefix(INITIAL_LOAD), services.announcements_held() as held:
            try:
                refused = services.projects_replay(plans=plans, by=self.user)
            except PermissionDenied as exc:
                refused = dict.fromkeys(range(len(plans)), exc)
        for index, exc in sorted(refused.items()):
            number, row, _instance = self.plans[index]
            if isinstance(exc, PermissionDenied):
                result.append_invalid_row(number, row, ValidationError({NON_FIELD_ERRORS: [str(exc)]}))
            else:
                result.append_invalid_row(number, row, self._on_columns(exc))
        self.announced_ids.update(held)

    @staticmethod
    def replay_plan(parsed: dict) -> services.ReplayPlan:
        return services.ReplayPlan(
            stage=parsed.get("stage") or Stage.RESERVE, actual_start=parsed.get("actual_start"),
            actual_completion=parsed.get("actual_completion"), registered_on=parsed.get("registered_on"),
            stats_code=parsed.get("stats_code") or "", suspend_reason=parsed.get("suspend_reason") or "",
            cancel_reason=parsed.get("cancel_reason") or "",
        )

    @staticmethod
    def _on_columns(exc: ValidationError) -> ValidationError:
        """A service's refusal on the row's columns: field errors stay on their field, a refused transition
        ("当前状态为…") is the 阶段 column's."""
        if hasattr(exc, "error_dict"):
            return exc
        column = "registered_on" if getattr(exc, "code", None) in ("not_started", "already_registered") else "stage"
        return ValidationError({column: exc.messages})


ProjectResource.initial_resource = InitialProjectResource


@register
class AnnualPlanEntryResource(AnnouncesProjectFacts, ExcelResource):
    table = "plan_entries"
    title = "年度计划"
    key_rule = "按统一项目代码和年度匹配"
    select_related = ("project",)
    export_ordering = ("-year", "project__code")

    project = column(AnnualPlanEntry, "project", header="统一项目代码", width=26)
    project_name = column(AnnualPlanEntry, "project__name", readonly=True, header="项目名称", width=30)
    year = column(AnnualPlanEntry, "year", values.IntegerWidget(**YEAR))
    kind = column(AnnualPlanEntry, "kind")
    planned_investment = column(AnnualPlanEntry, "planned_investment", width=18)
    planned_start_month = column(
        AnnualPlanEntry, "planned_start_month", values.IntegerWidget(**{**MONTH, "rule": "月份 1–12；新开工项目必填，其他不填。"})
    )
    note = column(AnnualPlanEntry, "note", width=24)

    example = {
        "project": "2101-220104-04-01-000001",
        "project__name": "新能源汽车零部件产业园项目",
        "year": 2021,
        "kind": "新开工",
        "planned_investment": Decimal("30000"),
        "planned_start_month": 4,
    }

    class Meta:
        model = AnnualPlanEntry
        import_id_fields = ("project", "year")

    def announced_id(self, instance):
        return instance.project_id


@register
class MonthlyReportResource(ExcelResource):
    table = "monthly_reports"
    title = "月报"
    key_rule = "按统一项目代码、年、月匹配"
    select_related = ("project",)
    export_ordering = ("-year", "-month", "project__code")

    project = column(MonthlyReport, "project", header="统一项目代码", width=26)
    project_name = column(MonthlyReport, "project__name", readonly=True, header="项目名称", width=30)
    year = column(MonthlyReport, "year", values.IntegerWidget(**YEAR))
    month = column(MonthlyReport, "month", values.IntegerWidget(**MONTH))
    amount = column(MonthlyReport, "amount", width=18)
    progress = column(MonthlyReport, "progress", width=40)
    explanation = column(MonthlyReport, "explanation", width=30)
    status = column(MonthlyReport, "status", readonly=True)

    example = {
        "project": "2101-220104-04-01-000001",
        "project__name": "新能源汽车零部件产业园项目",
        "year": 2021,
        "month": 5,
        "amount": Decimal("2500"),
        "progress": "主体结构施工，完成形象进度30%",
        "explanation": "",
        "status": "草稿",
    }

    class Meta:
        model = MonthlyReport
        import_id_fields = ("project", "year", "month")

    @classmethod
    def rules(cls) -> list[str]:
        """The template's 填写说明 also lists every 审核规则 and its threshold (projects.quality)."""
        return ["审核规则：错误不能导入；警告须在“说明”列写明原因；提示仅供参考。", *quality.documentation()]

    @classmethod
    def template_rows(cls, user) -> list[list]:
        """A district clerk's template holds the open period's rows (本期填报): each project owing the report,
        with last month's 形象进度 to edit (停缓建 projects: 0 and “停缓建”); others get the example row."""
        if not scope_of(user).is_district_clerk:
            return super().template_rows(user)
        period = periods.current()
        last = period.first_day - datetime.timedelta(days=1)
        owing = (periods.projects_owing(user=user, period=period)
                 .annotate(last_progress=Subquery(MonthlyReport.objects.filter(
                     project=OuterRef("pk"), year=last.year, month=last.month).values("progress")[:1]),
                     draft_amount=Subquery(MonthlyReport.objects.filter(
                         project=OuterRef("pk"), year=period.year, month=period.month).values("amount")[:1]))
                 .order_by("code"))
        rows = []
        for p in owing:
            suspended = p.stage == Stage.SUSPENDED
            values_ = {"project": p.code, "project__name": p.name, "year": period.year, "month": period.month,
                       "amount": p.draft_amount if p.draft_amount is not None else (Decimal("0") if suspended else None),
                       "progress": "停缓建" if suspended else (p.last_progress or ""), "explanation": "",
                       "status": "草稿"}
            rows.append([values_.get(f.attribute, "") for f in cls.fields.values()])
        return rows or super().template_rows(user)

    def get_bulk_update_fields(self):
        # What the 审核规则 found is saved with the row (the reviewers read and filter it).
        return [*super().get_bulk_update_fields(), "findings", "warning_count"]


@register
class LandSupplyResource(AnnouncesProjectFacts, ExcelResource):
    table = "land_supplies"
    title = "土地供应"
    key_rule = "按地块编号匹配"
    select_related = ("district", "project")
    export_ordering = ("-supply_date", "parcel_code")

    parcel_code = column(LandSupply, "parcel_code", width=20)
    location = column(LandSupply, "location", width=30)
    district = column(LandSupply, "district")
    use = column(LandSupply, "use")
    hectares = column(LandSupply, "hectares", values.DecimalWidget(places=4, unit="公顷"))
    supply_date = column(LandSupply, "supply_date")
    contract_start_date = column(LandSupply, "contract_start_date", width=18)
    transferee = column(LandSupply, "transferee", width=24)
    project = column(LandSupply, "project", header="统一项目代码", width=26)
    project_name = column(LandSupply, "project__name", readonly=True, header="项目名称", width=30)

    example = {
        "parcel_code": "长国土2021-001",
        "location": "朝阳区硅谷大街以东",
        "district": "朝阳区",
        "use": "工业用地",
        "hectares": Decimal("12.5"),
        "supply_date": datetime.date(2021, 3, 15),
        "contract_start_date": datetime.date(2021, 9, 15),
        "transferee": "长春某汽车零部件有限公司",
        "project": "2101-220104-04-01-000001",
        "project__name": "新能源汽车零部件产业园项目",
    }

    class Meta:
        model = LandSupply
        import_id_fields = ("parcel_code",)

    def announced_id(self, instance):
        return instance.project_id


@register
class StatsRegistrationResource(AnnouncesProjectFacts, ExcelResource):
    """统计入库清单 (三看一促): the statistics bureau's list, matched to the register and registered from.

    A row is matched by its normalised 统一项目代码, else by its normalised project name when exactly one
    project has it; a name match is listed in the preview's 提示 for the supervisor to confirm (confirming the
    import confirms it). A matched project that has started and is not registered is registered through
    `project_register` (a refusal is the row's problem: nothing is saved); one registered with another date or
    code is a warning. Only supervisors import the list.
    """

    table = "stats_registrations"
    title = "统计入库清单"
    key_rule = "按统计编码匹配，已有的更新，没有的新增"
    select_related = ("project",)
    export_ordering = ("-registered_on", "stats_code")

    project_code = column(StatsRegistration, "project_code", values.KeyWidget(CODE_RULE), width=26)
    project_name = column(StatsRegistration, "project_name", width=30)
    stats_code = column(StatsRegistration, "stats_code", width=18)
    registered_on = column(StatsRegistration, "registered_on")
    matched_by = column(StatsRegistration, "matched_by", readonly=True)
    matched_project = column(StatsRegistration, "project", readonly=True, header="匹配的项目代码", width=26)

    example = {
        "project_code": "2101-220104-04-01-000001",
        "project_name": "新能源汽车零部件产业园项目",
        "stats_code": "220104-2021-0001",
        "registered_on": datetime.date(2021, 6, 30),
    }

    class Meta:
        model = StatsRegistration
        import_id_fields = ("stats_code",)

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self.matches: list[tuple[int, dict, StatsRegistration]] = []
        self.notes: list[str] = []
        header = self.fields["project_code"].column_name
        codes = sorted({values.normalise_key(c) for c in dataset[header] if not values.is_blank(c)}) \
            if header in dataset.headers else []
        self.by_code = {}
        for start in range(0, len(codes), 1000):
            self.by_code.update((p.code, p) for p in Project.objects.filter(code__in=codes[start:start + 1000]))
        self._by_name = None

    def by_name(self) -> dict[str, Project | None]:
        """Normalised name → the one project with it (None when several share it); read once, when needed."""
        if self._by_name is None:
            found: dict[str, Project | None] = {}
            for project in Project.objects.only("pk", "code", "name", "actual_start", "registered_on",
                                                "stats_code", "stage"):
                key = values.normalise(project.name)
                found[key] = None if key in found else project
            self._by_name = found
        return self._by_name

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        number = self.excel_row(kwargs.get("row_number") or 0)
        project = self.by_code.get(instance.project_code) if instance.project_code else None
        matched_by = StatsRegistration.MatchedBy.CODE if project else StatsRegistration.MatchedBy.NONE
        if project is None and instance.project_name:
            key = values.normalise(instance.project_name)
            project = self.by_name().get(key)
            if project is not None:
                matched_by = StatsRegistration.MatchedBy.NAME
                typed = f"统一项目代码“{instance.project_code}”在系统中没有，" if instance.project_code else "未填统一项目代码，"
                self.notes.append(f"第{number}行：{typed}按项目名称匹配到“{project.name}”（{project.code}），"
                                  "请核对；确认导入即确认此匹配。")
            elif key in self.by_name():
                self.notes.append(f"第{number}行：系统中有多个名为“{instance.project_name}”的项目，无法按名称匹配，"
                                  "请填写统一项目代码。")
        instance.project = project
        instance.matched_by = matched_by
        instance.listed_on = today()
        if project is not None and project.registered_on is not None and (
                project.registered_on != instance.registered_on or project.stats_code != instance.stats_code):
            self.notes.append(
                f"第{number}行：“{project.name}”已于{project.registered_on}入库（统计编码 {project.stats_code}），"
                f"与清单（{instance.registered_on}，{instance.stats_code}）不一致，请核实。"
            )

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return False  # every row of a new list is matched again and dated (清单导入日期)

    def check_row(self, instance, add) -> None:
        if not is_supervisor(self.user):
            add(NON_FIELD_ERRORS, "统计入库清单只能由督查（市级）用户导入。")

    def check_scope(self, instance, add) -> None:
        pass  # city-wide, supervisors only (check_row)

    def get_bulk_update_fields(self):
        return [*super().get_bulk_update_fields(), "project", "matched_by", "listed_on"]

    def save_instance(self, instance, is_create, row, **kwargs):
        super().save_instance(instance, is_create, row, **kwargs)
        project = instance.project
        if project is not None and project.actual_start is not None and project.registered_on is None:
            self.matches.append((kwargs.get("row_number"), row, instance))

    def after_import(self, dataset, result, **kwargs):
        if not result.has_errors() and not result.has_validation_errors() and self.matches:
            with services.announcements_held() as held:
                for number, row, instance in self.matches:
                    try:
                        services.project_register(project=instance.project, on=instance.registered_on,
                                                  stats_code=instance.stats_code, by=self.user)
                    except ValidationError as exc:
                        messages = exc.messages
                        result.append_invalid_row(number, row, ValidationError({"registered_on": messages}))
                    except PermissionDenied as exc:
                        result.append_invalid_row(number, row, ValidationError({NON_FIELD_ERRORS: [str(exc)]}))
            self.announced_ids.update(held)
        super().after_import(dataset, result, **kwargs)

    def warnings(self):
        from config.excel.resources import Problem

        sheet = getattr(self.dataset, "title", "") or self.title
        return [*super().warnings(), *(Problem(sheet, None, "", None, note) for note in getattr(self, "notes", []))]
