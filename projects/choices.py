"""Choices of the project register. Each status carries a label and a badge colour (as NetBox does)."""

from decimal import Decimal

from django.db import models


class DistrictKind(models.TextChoices):
    CITY = "city", "市直"
    URBAN = "urban", "城区"
    ZONE = "zone", "开发区"
    COUNTY = "county", "县市"


class Industry(models.TextChoices):
    AUTO = "auto", "汽车"
    EQUIPMENT = "equipment", "先进装备制造"
    AGRI_FOOD = "agri_food", "农产品加工"
    OPTO = "opto", "光电信息"
    BIO = "bio", "生物医药"
    ENERGY = "energy", "新能源"
    TOURISM = "tourism", "文化旅游"
    SERVICES = "services", "现代服务业"
    INFRA = "infra", "基础设施"
    SOCIAL = "social", "社会民生"
    OTHER = "other", "其他"


class Category(models.TextChoices):
    INDUSTRIAL = "industrial", "产业项目"
    INFRASTRUCTURE = "infrastructure", "基础设施项目"
    LIVELIHOOD = "livelihood", "民生改善项目"


class Stage(models.TextChoices):
    RESERVE = "reserve", "谋划储备"
    PREPARING = "preparing", "前期"
    BUILDING = "building", "在建"
    SUSPENDED = "suspended", "停缓建"
    COMPLETED = "completed", "竣工"
    CANCELLED = "cancelled", "取消"


STAGE_COLOURS = {
    Stage.RESERVE: "grey",
    Stage.PREPARING: "blue",
    Stage.BUILDING: "green",
    Stage.SUSPENDED: "orange",
    Stage.COMPLETED: "teal",
    Stage.CANCELLED: "red",
}


class TaskForceLevel(models.TextChoices):
    CITY = "city", "市级"
    DISTRICT = "district", "区级"
    STREET = "street", "街道"


class PlanKind(models.TextChoices):
    NEW_START = "new_start", "新开工"
    CONTINUING = "continuing", "续建"
    COMPLETING = "completing", "竣工"
    RESERVE = "reserve", "储备"


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已报送"
    APPROVED = "approved", "已审核"
    RETURNED = "returned", "已退回"


REPORT_STATUS_COLOURS = {
    ReportStatus.DRAFT: "grey",
    ReportStatus.SUBMITTED: "blue",
    ReportStatus.APPROVED: "green",
    ReportStatus.RETURNED: "orange",
}


class LandUse(models.TextChoices):
    INDUSTRIAL = "industrial", "工业用地"
    COMMERCIAL = "commercial", "经营性用地"
    OTHER = "other", "其他用地"


class Tier(models.TextChoices):
    """Investment tiers, cumulative upward: a 10亿 project is also 亿元以上 and 5000万以上."""

    BELOW = "below", "5000万元以下"
    W5000 = "5000w", "5000万元以上"
    Y1 = "1y", "亿元以上"
    Y10 = "10y", "10亿元以上"
    Y50 = "50y", "50亿元以上"
    Y100 = "100y", "100亿元以上"


# Lower bound of each tier in 万元 (inclusive), highest first. BELOW has no bound.
TIER_FLOORS_WAN: dict[str, Decimal] = {
    Tier.Y100: Decimal("1000000"),
    Tier.Y50: Decimal("500000"),
    Tier.Y10: Decimal("100000"),
    Tier.Y1: Decimal("10000"),
    Tier.W5000: Decimal("5000"),
}
