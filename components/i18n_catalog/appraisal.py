"""Texts of the national appraisal scorecard (国考): the leadership wall, the workspace section and the
department page's short form."""
TEXTS: dict[str, tuple[str, str]] = {
    "wall.appraisal_title": ("国考指标", "National appraisal"),
    "ap.subtitle": ("本年累计 {start} 至 {end}，对比上年与国家、省级中位数", "Year to date {start} to {end}, against last "
                    "year and the national and provincial medians"),
    "ap.col.group": ("维度", "Part"),
    "ap.col.name": ("指标", "Indicator"),
    "ap.col.ytd": ("本年累计", "This year"),
    "ap.col.last_year": ("上年", "Last year"),
    "ap.col.national": ("国家中位数", "National median"),
    "ap.col.provincial": ("省级中位数", "Provincial median"),
    "ap.col.direction": ("导向", "Better when"),
    "ap.col.status": ("对比国家中位数", "Against the median"),
    "ap.col.trend": ("近24个月", "24 months"),
    "ap.col.drags": ("拖累科室", "Pulling it down"),
    "ap.col.source": ("标杆来源", "Benchmark source"),
    "ap.direction.up": ("越高越好", "higher"),
    "ap.direction.down": ("越低越好", "lower"),
    "ap.direction.none": ("无优劣导向", "no better direction"),
    "ap.status.better": ("优于", "better"),
    "ap.status.level": ("持平", "level"),
    "ap.status.worse": ("落后", "worse"),
    "ap.status.none": ("—", "—"),
    "ap.cannot": ("数据仓库无法提供（{n}项）：", "Not available from the warehouse ({n}):"),
    "ap.reason.clinical_records": ("病历与院感", "clinical records"),
    "ap.reason.pharmacy": ("处方明细", "prescriptions"),
    "ap.reason.process": ("预约与信息化评级", "appointments, IT rating"),
    "ap.reason.finance": ("资产负债与预算", "balance sheet, budgeting"),
    "ap.reason.staff_detail": ("人员职称与培训", "staff titles, training"),
    "ap.reason.research": ("科研", "research"),
    "ap.reason.survey": ("满意度调查", "satisfaction survey"),
    "ap.reason.equipment_quality": ("检查阳性与设备质控", "exam findings"),
    "ap.reason.hospital_only": ("全院口径", "whole hospital only"),
    "ap.reason.contract_v2": ("本数据仓库不提供（需数据仓库接口第2版）", "not available in this warehouse (contract "
                              "version 2)"),
    "ap.no_benchmarks": ("本数据仓库没有标杆数据（数据仓库接口第2版），国家与省级中位数暂缺。",
                         "This warehouse holds no reference values (fact_benchmark, contract version 2): the national "
                         "and provincial medians are left empty."),
    "ap.drags_note": ("拖累科室：仅临床科室，各按本指标自身的分母（如择期手术数、手术例数）计算其数值，按其分母占比加权，"
                      "取对全院（或所选范围）数值拉低最多者；收支结余取亏损最多者。",
                      "Pulling it down: clinical departments only, each judged on the indicator's own denominator "
                      "(elective operations, operations …) and weighed by its share of it; those that pull the "
                      "figure down most. The balance: the largest losses."),
    "ap.status_note": ("颜色与文字：本年累计对比国家中位数（无国家中位数时对比省级），相差2%以内为持平。",
                       "Colour and word: this year against the national median (the provincial one where there is no "
                       "national), within 2% reads level."),
    # the workspace section
    "ws.tab.appraisal": ("国考指标", "National appraisal"),
    "ws.appraisal": ("国考指标", "National appraisal"),
    "ws.ap.scope_note": ("本年累计与上年，范围为您的{scope}。点击任一单元格下钻到科室、DRG病组和病例；上年一列按上年下钻。",
                         "Year to date and last year, for your {scope}. Click any cell to drill down to the departments, "
                         "the DRG groups and the cases; the last year's cell drills into last year."),
    "ws.ap.scope.hospital": ("全院", "whole hospital"),
    "ws.ap.scope.campus": ("院区", "campus"),
    "ws.ap.scope.departments": ("所辖科室", "departments"),
    "ws.ap.crumbs": ("下钻路径", "Drill-down path"),
    "ws.ap.drill_title": ("下钻：科室、DRG病组与病例", "Drill-down: departments, DRG groups and cases"),
    "ws.ap.top": ("国考指标", "Scorecard"),
    "ws.ap.trend": ("{name}：近24个月", "{name}: the last 24 months"),
    "ws.ap.departments": ("{name}：各临床科室（{period}）", "{name}: clinical departments ({period})"),
    "ws.ap.groups": ("{name}：{dept}的DRG病组（{period}）", "{name}: DRG groups of {dept} ({period})"),
    "ws.ap.cases": ("{name}：病例（{period}）", "{name}: the cases ({period})"),
    "ws.ap.cases_count": ("共 {n} 例，显示前 {shown} 例，不利方向的病例在前。", "{n} cases, the first {shown} shown, "
                          "the adverse ones first."),
    "ws.ap.drill_hint": ("点击一行继续下钻。", "Click a row to drill further."),
    "ws.ap.no_drg": ("该指标不是由住院病例计算的，无法按DRG病组和病例下钻。", "This indicator is not computed from "
                     "inpatient cases: it has no DRG groups or cases to drill to."),
    "ws.ap.not_available": ("本数据仓库无法提供该指标：{reason}", "Not available in this warehouse: {reason}"),
    "ws.ap.bad_drg": ("病组 {drg} 不在{dept}本期的病例中，显示该科室的病组。", "DRG group {drg} has no cases of {dept} "
                      "in the period: the department's groups are shown."),
    "ws.ap.none": ("该期间没有数据。", "No figures for this period."),
    "ws.ap.col.value": ("指标值", "Value"),
    "ws.ap.col.volume": ("分母", "Denominator"),
    "ws.ap.col.weight": ("分母占比", "Share"),
    "ws.ap.col.gap": ("与整体差距", "Gap"),
    "ws.ap.col.drag": ("拖累", "Drag"),
    "ws.ap.col.department": ("科室", "Department"),
    "ws.ap.col.drg": ("DRG病组", "DRG group"),
    "ws.ap.col.case_id": ("病例号", "Case"),
    "ws.ap.col.discharge_date": ("出院日期", "Discharged"),
    "ws.ap.col.los_days": ("住院日", "Stay (days)"),
    "ws.ap.col.charge_total": ("总费用", "Charge"),
    "ws.ap.col.contribution": ("计入分子", "Counts"),
    "addr.label.item": ("国考指标", "appraisal indicator"),
    "addr.label.drg": ("DRG病组", "DRG group"),
    # the department page
    "dw.appraisal": ("国考指标", "National appraisal"),
    "dw.appraisal_note": ("本科室本年累计，对比国家中位数（全院口径）。", "This department, year to date, against the national "
                          "median (a whole-hospital figure)."),
    "dw.appraisal_drill": ("在运营分析工作台中下钻", "Drill down in the workspace"),
}
