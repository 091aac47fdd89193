"""三看一促: the four lists of the statistics bureau's list against the register, as the admin shows and
downloads them. Each list is a selector (`projects.selectors`); this module only names their columns."""

from __future__ import annotations

from . import selectors


def _registration(obj) -> list:
    project = obj.project
    return [obj.stats_code, obj.registered_on, obj.project_code, obj.project_name,
            project.code if project else "", project.name if project else "",
            project.district.name if project else "", obj.get_matched_by_display(),
            project.registered_on if project else None, project.stats_code if project else ""]


def _project(obj) -> list:
    return [obj.code, obj.name, obj.district.name, obj.get_stage_display(), obj.actual_start]


REGISTRATION_COLUMNS = ["统计编码", "入库日期（清单）", "统一项目代码（清单）", "项目名称（清单）", "匹配的项目代码",
                        "匹配的项目名称", "属地", "匹配方式", "系统中的入库日期", "系统中的统计编码"]
PROJECT_COLUMNS = ["统一项目代码", "项目名称", "属地", "阶段", "实际开工日期"]

OUTCOMES = {
    "registered": ("已匹配并入库", REGISTRATION_COLUMNS,
                   lambda user: selectors.registrations_in_agreement(user=user)),
    "mismatched": ("已入库但日期或编码不一致", REGISTRATION_COLUMNS,
                   lambda user: selectors.registration_mismatches(user=user)),
    "unstarted": ("清单中有但本系统未开工", REGISTRATION_COLUMNS,
                  lambda user: selectors.unstarted_on_bureau_list(user=user)),
    "missing": ("已开工30天以上但不在清单中", PROJECT_COLUMNS,
                lambda user: selectors.started_missing_from_stats_list(user=user)),
}


def row(outcome: str, obj) -> list:
    return _project(obj) if outcome == "missing" else _registration(obj)
