"""Texts of the leader's screens (DRG cost screen, department profit view) and the shell's badge."""
TEXTS: dict[str, tuple[str, str]] = {
    "table.sort": ("点击按此列排序", "Click to sort by this column"),
    "table.empty": ("没有数据。", "No rows."),
    "table.page": ("第 {page}/{pages} 页", "page {page} of {pages}"),
    "table.money_note": ("金额单位：元（万 = 万元，亿 = 亿元）", "Amounts in yuan (k = thousand, M = million)"),
    "drg.col.code": ("编码", "Code"),
    "drg.col.name": ("病组名称", "DRG group"),
    "drg.no_losers": ("此期间没有亏损病组。", "No DRG group lost money in this period."),
    "drg.carriers_hint": ("点击科室打开科室页面", "Click a department to open its page"),
    "profit.table_wall": ("全部科室（按结余从高到低）", "All departments, highest balance first"),
    "profit.treemap_hover": ("医疗收入 {revenue} · 结余 {balance} · 结余率 {margin}",
                             "Revenue {revenue} · balance {balance} · margin {margin}"),
    "profit.axis_balance": ("结余（万元）", "Balance (M yuan)"),
    "profit.hover_balance": ("结余", "Balance"),
    "shell.scope_departments": ("{n} 个科室", "{n} departments"),
}
