"""Choices of the special-bond pipeline. Each stage carries a label and a badge colour."""

from django.db import models


class BondField(models.TextChoices):
    """领域: the sectors special bonds may finance."""

    TRANSPORT = "transport", "交通基础设施"
    ENERGY = "energy", "能源"
    AGRI_WATER = "agri_water", "农林水利"
    ECOLOGY = "ecology", "生态环保"
    SOCIAL = "social", "社会事业"
    COLD_CHAIN = "cold_chain", "城乡冷链等物流基础设施"
    MUNICIPAL = "municipal", "市政和产业园区基础设施"
    HOUSING = "housing", "保障性安居工程"
    OTHER = "other", "其他"


class BondStage(models.TextChoices):
    """早谋划、早申报、早发行、早到位、早见效."""

    PLANNING = "planning", "谋划"
    APPLIED = "applied", "申报"
    APPROVED = "approved", "审核通过"
    ISSUED = "issued", "已发行"
    FUNDED = "funded", "资金到位"
    EFFECTIVE = "effective", "见效"


BOND_STAGE_COLOURS = {
    BondStage.PLANNING: "grey",
    BondStage.APPLIED: "blue",
    BondStage.APPROVED: "purple",
    BondStage.ISSUED: "orange",
    BondStage.FUNDED: "teal",
    BondStage.EFFECTIVE: "green",
}

# The date field that records when each stage was reached.
STAGE_DATE_FIELDS = {
    BondStage.PLANNING: "planned_on",
    BondStage.APPLIED: "applied_on",
    BondStage.APPROVED: "approved_on",
    BondStage.ISSUED: "issued_on",
    BondStage.FUNDED: "funded_on",
    BondStage.EFFECTIVE: "effective_on",
}
