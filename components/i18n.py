"""Translation catalogs and language choice. Every user-facing string comes from here."""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

CATALOG: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "app.title": ("医院运营决策驾驶舱", "Hospital Operations Dashboard"),
    "app.subtitle": ("全院运营概览", "Hospital overview"),
    "fresh.through": ("数据截至 {through}", "Data through {through}"),
    "fresh.loaded": ("最近加载 {loaded}", "last loaded {loaded}"),
    "fresh.none": ("仓库中没有加载记录（meta_load 为空）", "No load recorded in the warehouse (meta_load is empty)"),
    "home.structure": ("医院结构", "Hospital structure"),
    "home.campuses": ("院区", "Campuses"),
    "home.clinical_departments": ("临床科室", "Clinical departments"),
    "home.open_beds": ("开放床位", "Open beds"),
    "home.doctors": ("医师", "Doctors"),
    "home.medical_groups": ("医疗组", "Medical groups"),
    "home.devices": ("大型设备", "Large devices"),
    "home.ytd": ("本年累计（{start} 至 {end}）", "Year to date ({start} to {end})"),
    "home.yoy": ("同比", "YoY"),
    "home.no_yoy": ("无去年同期数据", "no data a year ago"),
    "home.cost_window": ("成本类指标按已关账月份计算：{start} 至 {end}", "Cost indicators cover closed months: {start} to {end}"),
    "error.warehouse": ("数据仓库暂时无法访问：{message}", "The data warehouse cannot be reached: {message}"),
    "error.warehouse_hint": ("页面会在仓库恢复后自动显示数据；如持续出现，请联系信息中心。",
                             "Figures return by themselves once the warehouse is back; if this persists, "
                             "contact the IT centre."),
    "error.unexpected": ("出现意外错误（错误编号 {error_id}），已记录在服务器日志中。",
                         "Something went wrong (error id {error_id}); it has been recorded in the server log."),
    "error.not_found": ("页面不存在", "Page not found"),
    "error.not_found_body": ("找不到地址 {path}。", "There is no page at {path}."),
    "nav.home": ("首页", "Home"),
    "unit.yuan": ("元", "yuan"),
    "unit.wan": ("万", "10k"),
    "unit.yi": ("亿", "100M"),
}


def t(key: str, lang: str, **kwargs: object) -> str:
    zh, en = CATALOG[key]
    text = zh if lang == "zh" else en
    return text.format(**kwargs) if kwargs else text


def pick_lang(accept_language: str | None, saved: str | None = None) -> str:
    """The user's saved choice, else the browser's first supported language, else Chinese."""
    if saved in LANGS:
        return saved
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANG
