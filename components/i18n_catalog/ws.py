"""Texts shared by the workspace sections (tab bar, pickers, period checks)."""
TEXTS: dict[str, tuple[str, str]] = {
    "ws.title": ("运营分析工作台", "Operations workspace"),
    "ws.tab.portfolio": ("所辖科室", "My departments"),
    "ws.tab.revenue": ("收入分析", "Revenue drill-down"),
    "ws.tab.costs": ("成本监测", "Cost monitoring"),
    "ws.tab.drg": ("DRG病组", "DRG groups"),
    "ws.tab.budget": ("预算执行", "Budget"),
    "ws.tab.equipment": ("设备效益", "Equipment"),
    "ws.tab.projects": ("改善项目", "Improvement projects"),
    "ws.tab.reports": ("月度运营报告", "Monthly reports"),
    "ws.period_outside": ("期间 {period} 不在数据范围内（{first} 至 {through}）。",
                          "Period {period} lies outside the data ({first} to {through})."),
}
