"""The national performance appraisal of tertiary public hospitals (国家三级公立医院绩效考核, "国考")
as the scorecard shows it: its indicators in the appraisal's own groups, each mapped to the
registry indicator that computes it, or marked as one the warehouse contract cannot give and why.

The appraisal has four parts (medical quality, operational efficiency, sustainable development,
satisfaction) and some 55 indicators; about half are computed from data a hospital's operations
warehouse does not hold (prescription reviews, infection surveillance, research funding, survey
scores). Those are listed, never shown as a figure. Where the registry's definition differs from
the appraisal's in a way a reader should know, `note_*` says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from .registry import INDICATORS

GROUPS: dict[str, tuple[str, str]] = {
    "quality": ("医疗质量", "Medical quality"),
    "efficiency": ("运营效率", "Operational efficiency"),
    "development": ("持续发展", "Sustainable development"),
    "satisfaction": ("满意度评价", "Satisfaction"),
}

# why an indicator cannot be given: reason code -> (zh, en)
REASONS: dict[str, tuple[str, str]] = {
    "clinical_records": ("需要病历或院感监测明细，数据仓库接口不含", "needs clinical records or infection surveillance "
                         "the warehouse contract does not hold"),
    "pharmacy": ("需要处方与药品目录明细，数据仓库接口不含", "needs prescription and formulary detail the warehouse "
                 "contract does not hold"),
    "process": ("需要预约与信息系统评级数据，数据仓库接口不含", "needs appointment and IT-rating data the warehouse "
                "contract does not hold"),
    "finance": ("需要资产负债表或会计制度信息，数据仓库接口不含", "needs the balance sheet or accounting facts the "
                "warehouse contract does not hold"),
    "staff_detail": ("需要人员职称、专业与培训明细，数据仓库接口只有人员类别", "needs staff titles, specialties and "
                     "training records; the warehouse contract holds staff categories only"),
    "research": ("需要科研项目与成果数据，数据仓库接口不含", "needs research projects and outputs the warehouse "
                 "contract does not hold"),
    "survey": ("来自国家满意度调查平台，不在数据仓库中", "comes from the national satisfaction survey platform, "
               "not the warehouse"),
    "equipment_quality": ("需要检查阳性结果与设备质控记录，数据仓库接口不含", "needs exam findings and device "
                          "quality-control records the warehouse contract does not hold"),
}


@dataclass(frozen=True)
class Item:
    group: str  # a key of GROUPS
    name_zh: str  # the appraisal's own name
    name_en: str
    code: str | None = None  # the registry indicator that computes it; None: the warehouse cannot give it
    reason: str | None = None  # a key of REASONS when code is None
    note_zh: str = ""
    note_en: str = ""

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en

    def note(self, lang: str) -> str:
        return self.note_zh if lang.startswith("zh") else self.note_en


_Q, _E, _D, _S = "quality", "efficiency", "development", "satisfaction"

ITEMS: tuple[Item, ...] = (
    # 医疗质量: function (功能定位), quality and safety (质量安全), rational drug use (合理用药), service (服务流程)
    Item(_Q, "出院患者手术占比", "Share of discharges with an operation", "surgery_share"),
    Item(_Q, "出院患者微创手术占比", "Minimally invasive share of operations", "minimally_invasive_share",
         note_zh="分母为手术病例（国考为出院患者）", note_en="Of the cases with an operation (the appraisal "
         "divides by all discharges)"),
    Item(_Q, "出院患者四级手术比例", "Level-4 share of operations", "level4_surgery_share"),
    Item(_Q, "日间手术占择期手术比例", "Day surgery share of elective operations", "day_surgery_share"),
    Item(_Q, "特需医疗服务占比", "Share of premium services", reason="clinical_records"),
    Item(_Q, "手术患者并发症发生率", "Surgical complication rate", "surgical_complication_rate"),
    Item(_Q, "Ⅰ类切口手术部位感染率", "Surgical-site infection rate of clean (type I) wounds",
         reason="clinical_records"),
    Item(_Q, "单病种质量控制", "Single-disease quality control", reason="clinical_records"),
    Item(_Q, "大型医用设备检查阳性率", "Positive rate of large-equipment exams", reason="equipment_quality"),
    Item(_Q, "低风险组病例死亡率", "Mortality in low-risk DRG groups", "low_risk_mortality"),
    Item(_Q, "择期手术患者术前平均住院日", "Average preoperative wait", "preop_days",
         note_zh="本院关注的流程指标", note_en="A process measure tracked beside the appraisal's"),
    Item(_Q, "非预期31天再住院率", "Unplanned 31-day readmission rate", "readmission_31d_rate",
         note_zh="本院关注的质量指标", note_en="A quality measure tracked beside the appraisal's"),
    Item(_Q, "点评处方占处方总数的比例", "Share of prescriptions reviewed", reason="pharmacy"),
    Item(_Q, "抗菌药物使用强度（DDDs）", "Antibiotic use density (DDDs)", reason="pharmacy"),
    Item(_Q, "门诊患者基本药物处方占比", "Essential-medicine share of outpatient prescriptions", reason="pharmacy"),
    Item(_Q, "国家组织药品集中采购中标药品使用比例", "Use of nationally procured medicines",
         reason="pharmacy"),
    Item(_Q, "门诊患者平均预约诊疗率", "Outpatient appointment rate", reason="process"),
    Item(_Q, "电子病历应用功能水平分级", "Electronic medical record rating", reason="process"),
    # 运营效率: resources (资源效率), revenue structure (收支结构), cost control (费用控制)
    Item(_E, "平均住院日", "Average length of stay", "alos"),
    Item(_E, "每百张病床药师人数", "Pharmacists per 100 beds", "pharmacists_per_100_beds"),
    Item(_E, "门诊收入占医疗收入比例", "Outpatient share of medical revenue", "outpatient_revenue_share"),
    Item(_E, "门诊收入中来自医保基金的比例", "Insurance fund share of outpatient revenue", "fund_share_outpatient"),
    Item(_E, "住院收入中来自医保基金的比例", "Insurance fund share of inpatient revenue", "fund_share_inpatient"),
    Item(_E, "医疗服务收入占医疗收入比例", "Medical-service revenue share", "service_revenue_share"),
    Item(_E, "人员支出占业务支出比重", "Personnel cost share", "personnel_cost_share",
         note_zh="以科室全成本中的人员经费计", note_en="Personnel cost within the departments' full cost"),
    Item(_E, "万元收入能耗支出", "Energy cost per 10,000 yuan of revenue", "energy_per_10k_revenue"),
    Item(_E, "收支结余", "Balance", "balance"),
    Item(_E, "资产负债率", "Debt-to-asset ratio", reason="finance"),
    Item(_E, "医疗收入增幅", "Medical revenue growth", "medical_revenue_growth"),
    Item(_E, "门诊次均费用增幅", "Growth of charge per outpatient visit", "charge_per_visit_growth"),
    Item(_E, "门诊次均药品费用增幅", "Growth of drug charge per outpatient visit", "drug_per_visit_growth"),
    Item(_E, "住院次均费用增幅", "Growth of charge per discharge", "charge_per_discharge_growth"),
    Item(_E, "住院次均药品费用增幅", "Growth of drug charge per discharge", "drug_per_discharge_growth"),
    Item(_E, "全面预算管理", "Comprehensive budget management", reason="finance"),
    # 持续发展: staff (人员结构), training (人才培养), research (学科建设)
    Item(_D, "医护比", "Nurses per doctor", "nurses_per_doctor"),
    Item(_D, "卫生技术人员职称结构", "Titles of health professionals", reason="staff_detail"),
    Item(_D, "麻醉、儿科、重症、病理、中医医师占比", "Share of anaesthesia, paediatric, ICU, pathology and TCM "
         "doctors", reason="staff_detail"),
    Item(_D, "住院医师首次参加医师资格考试通过率", "First-attempt licensing pass rate of residents",
         reason="staff_detail"),
    Item(_D, "每百名卫生技术人员科研项目经费", "Research funding per 100 health professionals", reason="research"),
    Item(_D, "每百名卫生技术人员科研成果转化金额", "Research transfer income per 100 health professionals",
         reason="research"),
    # 满意度评价
    Item(_S, "门诊患者满意度", "Outpatient satisfaction", reason="survey"),
    Item(_S, "住院患者满意度", "Inpatient satisfaction", reason="survey"),
    Item(_S, "医务人员满意度", "Staff satisfaction", reason="survey"),
)

for _item in ITEMS:  # every mapped item is a registry indicator; every other names its reason
    if _item.code is not None and _item.code not in INDICATORS:
        raise ValueError(f"scorecard item {_item.name_en}: unknown indicator {_item.code}")
    if _item.code is None and _item.reason not in REASONS:
        raise ValueError(f"scorecard item {_item.name_en}: say why the warehouse cannot give it")

CODES: tuple[str, ...] = tuple(i.code for i in ITEMS if i.code is not None)
