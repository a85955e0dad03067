"""Texts of the address notes (a bad address parameter and what is shown instead) and of the
refusals that name their real reason (role, department scope, unknown department)."""
TEXTS: dict[str, tuple[str, str]] = {
    "addr.note": ("地址中的{label}（{param}={value}）{problem}，现显示{shown}。",
                  "The address's {label} ({param}={value}) {problem}; showing {shown} instead."),
    "addr.note_unused": ("地址中的{label}（{param}={value}）{problem}，此页面显示{shown}。",
                         "The address's {label} ({param}={value}) {problem}; this page shows {shown}."),
    "addr.notes_label": ("地址参数提示", "Notes on the address"),
    "addr.label.period": ("统计期间", "period"),
    "addr.label.campus": ("院区", "campus"),
    "addr.label.division": ("系统", "division"),
    "addr.label.dept": ("科室", "department"),
    "addr.label.stream": ("收入类别", "revenue stream"),
    "addr.label.by": ("下钻方向", "drill-down direction"),
    "addr.bad.period": ("不是此页面提供的统计期间（可选：{offered}）",
                        "is not a period this page offers ({offered})"),
    "addr.bad.period_month": ("不是统计期间（可选：{offered}，或 YYYY-MM 格式的月份）",
                              "is not a period ({offered}, or a month as YYYY-MM)"),
    "addr.bad.period_range": ("超出数据范围（数据覆盖 {first} 至 {last}）",
                              "lies outside the data (data covers {first} to {last})"),
    "addr.bad.division": ("不是您可查看的系统", "is not a division you may see"),
    "addr.bad.choice": ("不是可选值（可选：{offered}）", "is not one of the choices ({offered})"),
    "addr.bad.unused": ("不适用于此页面", "does not apply to this page"),
    "addr.shown.wall_periods": ("今日、本月累计与本年累计", "today, month to date and year to date"),
    "addr.shown.all_divisions": ("全部系统", "all divisions"),
    "addr.shown.first_dept": ("{name}", "{name}"),
    "refuse.dept_scope.body": ("科室“{name}”不在您的权限范围内，此次访问已记录。请从您负责的科室中选择。",
                               "The department “{name}” lies outside your scope; the attempt has been recorded. "
                               "Pick one of your departments."),
    "refuse.dept_unknown.title": ("科室不存在", "No such department"),
    "refuse.dept_unknown.body": ("地址中的科室编号“{dept}”不存在。请从您负责的科室中选择。",
                                 "There is no department with the code “{dept}” in the address. Pick one of your "
                                 "departments."),
    "refuse.dept_not_here.title": ("此页面不提供该科室", "Department not offered here"),
    "refuse.dept_not_here.body": ("科室“{name}”不是此页面提供的科室（此页面只列出临床科室）。",
                                  "The department “{name}” is not one this page offers (it lists clinical "
                                  "departments only)."),
    "refuse.campus_scope.body": ("院区“{name}”不在您的权限范围内，此次访问已记录。",
                                 "The campus “{name}” lies outside your scope; the attempt has been recorded."),
    "refuse.project_scope.body": ("改善项目 {id} 涉及您权限范围之外的科室，此次访问已记录。",
                                  "Improvement project {id} covers departments outside your scope; the attempt has "
                                  "been recorded."),
    "refuse.my_departments": ("我的科室", "My departments"),
    "month.fmt": ("{y}-{m:02d}", "{mon} {y}"),
}
TEXTS.update({
    # Dash's controls
    "ctl.select_all": ("全选", "Select all"),
    "ctl.deselect_all": ("全不选", "Deselect all"),
    "ctl.selected_count": ("已选 {num_selected} 项", "{num_selected} selected"),
    "ctl.search": ("搜索", "Search"),
    "ctl.clear_search": ("清除搜索", "Clear search"),
    "ctl.clear_selection": ("清除选择", "Clear selection"),
    "ctl.no_options_found": ("没有匹配的选项", "No options found"),
    "ctl.pick_date": ("选择日期", "Pick a date"),
})
TEXTS.update({
    # typed values (data_layer/inputs.py): {field} and {unit} name the input, {low}–{high} its range
    "input.missing": ("请填写{field}：{low} 至 {high} 之间的数字（{unit}）。",
                      "Enter the {field}: a number from {low} to {high} ({unit})."),
    "input.not_number": ("{field}须为 {low} 至 {high} 之间的数字（{unit}）。",
                         "The {field} must be a number from {low} to {high} ({unit})."),
    "input.not_whole": ("{field}须为 {low} 至 {high} 之间的整数（{unit}），{value} 不是整数。",
                        "The {field} must be a whole number from {low} to {high} ({unit}); {value} is not."),
    "input.out_of_range": ("{field}须在 {low} 至 {high} 之间（{unit}），{value} 超出范围。",
                           "The {field} must be from {low} to {high} ({unit}); {value} is out of range."),
    "input.field.budget_tolerance": ("容差", "tolerance"),
    "input.field.costs_tolerance": ("判定阈值", "tolerance"),
    "input.unit.points": ("百分点", "percentage points"),
    "input.unit.percent": ("百分比", "per cent"),
})
