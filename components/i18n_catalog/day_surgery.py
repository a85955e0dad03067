"""Texts of the day-surgery view (日间手术, pages/day_surgery.py)."""
TEXTS: dict[str, tuple[str, str]] = {
    "ds.title": ("日间手术", "Day surgery"),
    "ds.nav": ("日间手术", "Day surgery"),
    "ds.all_departments": ("全部科室", "All departments"),
    "ds.v1": ("此数据仓库没有日间手术分析所需的数据：它不记录哪些手术是择期手术（数据仓库合同第2版的择期手术标记），"
              "因此无法计算日间手术占择期手术比例、与常规住院的对比、腾出的床日和可转日间的病例。"
              "数据仓库按第2版合同加载择期手术标记后，此页即显示这些内容。",
              "This warehouse has no day-surgery data for this view: it does not record which operations were "
              "elective (the elective flag of warehouse contract version 2), so the day-surgery share of elective "
              "operations, the comparison with ordinary admissions, the bed-days freed and the candidates "
              "cannot be given. Once the warehouse loads the elective flag (contract version 2), this page shows them."),
    "ds.none": ("{start} 至 {end} 期间没有择期手术病例。", "No elective operations from {start} to {end}."),
    "ds.shown.my_departments": ("您可查看的全部科室", "all your departments"),
    "ds.addr.other_campus": ("与地址中的科室不在同一院区", "is not the campus of the address's department"),
    "ds.period": ("统计期间：{start} 至 {end}（按出院日期）。", "Period: {start} to {end} (by discharge date)."),
    # the cards
    "ds.card.day_cases": ("日间手术例数", "Day-surgery cases"),
    "ds.card.elective": ("择期手术例数", "Elective operations"),
    "ds.card.share": ("日间手术占择期手术比例", "Day surgery share of elective operations"),
    "ds.card.bed_days": ("腾出床日", "Bed-days freed"),
    "ds.card.stay": ("平均住院日：日间 / 常规", "Mean stay: day / conventional"),
    "ds.card.margin": ("例均结余：日间 / 常规", "Margin per case: day / conventional"),
    "ds.card.candidates": ("可转日间的常规择期病例", "Conventional elective cases that could be day cases"),
    "ds.card.last_year": ("上年同期 {value}", "Same period last year {value}"),
    "ds.card.last_year_none": ("上年同期无数据", "No figure for the same period last year"),
    "ds.card.bed_days_note": ("按各病组常规住院与日间的平均住院日之差计", "Each group's conventional less day-case mean stay"),
    "ds.card.candidates_note": ("约可再腾出 {days} 床日", "About {days} more bed-days"),
    "ds.card.conv_note": ("常规：同一病组按普通住院收治的择期病例",
                         "Conventional: the same groups' elective cases admitted as ordinary inpatients"),
    "ds.days": ("{value} 天", "{value} days"),
    # sections
    "ds.trend": ("日间手术占择期手术比例（按月）", "Day surgery share of elective operations, by month"),
    "ds.trend_axis": ("占比", "Share"),
    "ds.trend_hover": ("{month}：{share}（日间 {day} / 择期 {elective}）", "{month}: {share} ({day} day / {elective} elective)"),
    "ds.trend_partial": ("（本月截至 {end}，未满月）", " (month in progress, to {end})"),
    "ds.trend_period": ("所选期间", "Period shown"),
    "ds.trend_none": ("近 {months} 个月没有择期手术病例。", "No elective operations in the last {months} months."),
    "ds.departments": ("各科室日间手术", "Day surgery by department"),
    "ds.departments_note": ("腾出床日以所见范围内各病组常规择期住院的平均住院日为基准；可转日间病例为已开展日间手术的病组中"
                            "仍按常规住院的择期病例。点击科室所在行打开其科室工作台。",
                            "Bed-days freed are measured against each group's mean stay of conventional elective "
                            "admissions in the view; candidates are elective cases still admitted conventionally in "
                            "groups already done as day surgery. Click a department's row to open its page."),
    "ds.groups": ("各病组日间手术与常规住院对比", "Day surgery against ordinary admission, by procedure group"),
    "ds.groups_note": ("病组为DRG病组；只列出本期有日间手术的病组。费用、成本与结余为例均；结余 = 支付 − 成本。"
                       "常规列为同一病组按普通住院的择期病例。",
                       "Procedure groups are DRG groups; only groups with day surgery in the period are listed. "
                       "Charge, cost and margin are per case; margin = payment − cost. The conventional columns are "
                       "the same group's elective cases admitted as ordinary inpatients."),
    "ds.candidates": ("仍按常规住院的择期手术", "Elective operations still admitted conventionally"),
    "ds.candidates_note": ("已开展日间手术的病组中，仍按普通住院收治的择期病例最多的科室和病组（前 {n} 名）。",
                           "The departments and groups with the most elective cases still admitted conventionally in "
                           "groups already done as day surgery (top {n})."),
    "ds.cand.departments": ("科室", "Departments"),
    "ds.cand.groups": ("病组", "Groups"),
    "ds.cand.cases": ("{cases} 例常规住院", "{cases} conventional"),
    "ds.cand.share": ("日间占比 {share}", "day share {share}"),
    "ds.cand.days": ("约 {days} 床日", "about {days} bed-days"),
    "ds.cand.none": ("没有仍按常规住院的可转日间病例。", "No elective case of a day-surgery group is admitted conventionally."),
    "ds.no_groups": ("本期没有日间手术病组。", "No group had day surgery in the period."),
    # grid columns
    "ds.col.dept_id": ("科室编码", "Department code"),
    "ds.col.name": ("科室", "Department"),
    "ds.col.campus": ("院区", "Campus"),
    "ds.col.drg_code": ("病组编码", "Group code"),
    "ds.col.group": ("病组", "Procedure group"),
    "ds.col.day_cases": ("日间手术例数", "Day cases"),
    "ds.col.elective": ("择期手术例数", "Elective operations"),
    "ds.col.share": ("日间占比", "Day share"),
    "ds.col.conventional": ("常规择期例数", "Conventional elective"),
    "ds.col.candidates": ("可转日间例数", "Candidates"),
    "ds.col.bed_days_freed": ("腾出床日", "Bed-days freed"),
    "ds.col.candidate_bed_days": ("可再腾出床日", "Bed-days still to free"),
    "ds.col.day_alos": ("日间平均住院日", "Day mean stay"),
    "ds.col.conv_alos": ("常规平均住院日", "Conventional mean stay"),
    "ds.col.day_charge": ("日间例均费用", "Day charge per case"),
    "ds.col.conv_charge": ("常规例均费用", "Conventional charge per case"),
    "ds.col.day_cost": ("日间例均成本", "Day cost per case"),
    "ds.col.conv_cost": ("常规例均成本", "Conventional cost per case"),
    "ds.col.day_margin": ("日间例均结余", "Day margin per case"),
    "ds.col.conv_margin": ("常规例均结余", "Conventional margin per case"),
    "ds.col.day_margin_per_case": ("日间例均结余", "Day margin per case"),
    "ds.export.departments": ("各科室日间手术", "Day surgery by department"),
    "ds.export.groups": ("各病组日间手术与常规住院对比", "Day surgery against ordinary admission by group"),
}
