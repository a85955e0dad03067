"""Translation catalogs and language choice. Every user-facing string comes from here."""
from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

CATALOG: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "app.title": ("医院运营决策驾驶舱", "Hospital Operations Dashboard"),
    "app.subtitle.hospital": ("全院运营概览", "Hospital overview"),
    "app.subtitle.campus": ("院区运营概览", "Campus overview"),
    "app.subtitle.departments": ("所辖科室运营概览", "Overview of your departments"),
    "fresh.through": ("数据截至 {through}", "Data through {through}"),
    "fresh.loaded": ("最近加载 {loaded}", "last loaded {loaded}"),
    "fresh.none": ("仓库中没有加载记录（meta_load 为空）", "No load recorded in the warehouse (meta_load is empty)"),
    "home.structure": ("规模", "Size"),
    "home.campuses": ("院区", "Campuses"),
    "home.clinical_departments": ("临床科室", "Clinical departments"),
    "home.open_beds": ("开放床位", "Open beds"),
    "home.doctors": ("医师", "Doctors"),
    "home.medical_groups": ("医疗组", "Medical groups"),
    "home.devices": ("大型设备", "Large devices"),
    "home.ytd": ("本年累计（{start} 至 {end}）", "Year to date ({start} to {end})"),
    "home.yoy": ("同比", "YoY"),
    "home.department": ("科室速览（本年累计）", "Department at a glance (year to date)"),
    "home.no_data": ("该科室在此期间没有数据。", "This department has no data for the period."),
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
    "login.title": ("请登录", "Please sign in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.bad": ("用户名或密码不正确。", "The user name or password is not right."),
    "login.locked": ("登录失败次数过多，请 {minutes} 分钟后再试。",
                     "Too many failed sign-ins: try again in {minutes} minutes."),
    "login.demo_refused": ("演示账号只能用于演示数据仓库。", "Demo accounts work only on the demo warehouse."),
    "login.csrf": ("页面已过期，请重新提交。", "The page had expired: please submit it again."),
    "login.demo_hint": ("演示账号及其密码在首次启动时打印，并保存在数据目录的 demo-users.txt 中。",
                        "Demo accounts and their passwords were printed at first start and saved in "
                        "demo-users.txt in the data folder."),
    "lang.switch": ("English", "中文"),
    "admin.username": ("用户名", "User name"),
    "admin.name": ("姓名", "Name"),
    "admin.role": ("角色", "Role"),
    "admin.scope": ("数据范围", "Scope"),
    "admin.scope_ids": ("院区或科室", "Campuses or departments"),
    "admin.state": ("状态", "State"),
    "admin.active": ("启用", "active"),
    "admin.inactive": ("停用", "inactive"),
    "admin.demo": ("演示账号", "demo account"),
    "admin.pick": ("选择用户", "User"),
    "admin.new_user": ("＋ 新建用户", "+ New user"),
    "admin.password": ("密码（新建或重置时填写）", "Password (for a new user or a reset)"),
    "admin.save": ("保存", "Save"),
    "admin.reset_password": ("重置密码", "Reset password"),
    "admin.toggle_active": ("停用 / 启用", "Deactivate / activate"),
    "admin.created": ("已创建用户 {username}。", "User {username} created."),
    "admin.saved": ("已保存 {username} 的角色和数据范围。", "Role and scope of {username} saved."),
    "admin.password_set": ("已重置 {username} 的密码。", "Password of {username} reset."),
    "admin.activated": ("已启用 {username}。", "{username} activated."),
    "admin.deactivated": ("已停用 {username}，其会话已失效。", "{username} deactivated; their sessions have ended."),
    "admin.err.pick_first": ("请先选择一个已有用户。", "Pick an existing user first."),
    "admin.err.scope_mismatch": ("该角色不能使用这种数据范围。", "This role cannot take that kind of scope."),
    "admin.err.scope_ids_required": ("请选择至少一个院区或科室。", "Choose at least one campus or department."),
    "admin.err.scope_ids_forbidden": ("这种数据范围不需要选择院区或科室。", "This scope takes no campuses or departments."),
    "admin.err.bad_username": ("用户名须为 3–64 位字母、数字、点、短横线或下划线。",
                               "A user name has 3 to 64 letters, digits, dots, dashes or underscores."),
    "admin.err.user_exists": ("该用户名已存在。", "That user name exists already."),
    "admin.err.stale": ("该用户已被他人修改，请重新选择后再试。", "Someone else changed this user since you opened it: "
                        "pick it again and retry."),
    "scope.hospital": ("全院", "Whole hospital"),
    "scope.campus": ("院区", "Campus"),
    "scope.departments": ("科室", "Departments"),
    "scope.none": ("无数据", "No data"),
    "password.too_short": ("密码至少需要 10 个字符。", "The password needs at least 10 characters."),
    "password.needs_letter_digit": ("密码需同时包含字母和数字。", "The password needs both letters and digits."),
    "password.contains_username": ("密码不能包含用户名。", "The password must not contain the user name."),
    "password.common": ("密码过于常见。", "The password is too common."),
    "audit.action": ("操作", "Action"),
    "audit.user": ("用户", "User"),
    "audit.at": ("时间", "Time"),
    "audit.target": ("对象", "Target"),
    "audit.detail": ("详情", "Detail"),
    "audit.ip": ("地址", "Address"),
    "action.login": ("登录", "sign-in"),
    "action.login_failed": ("登录失败", "failed sign-in"),
    "action.logout": ("退出", "sign-out"),
    "action.forbidden_page": ("越权访问页面", "refused page"),
    "action.forbidden_callback": ("越权数据请求", "refused data request"),
    "action.csrf_refused": ("CSRF 校验失败", "CSRF refused"),
    "action.export": ("导出", "export"),
    "action.user_created": ("创建用户", "user created"),
    "action.user_changed": ("修改角色/范围", "role or scope changed"),
    "action.password_reset": ("重置密码", "password reset"),
    "action.user_deactivated": ("停用用户", "user deactivated"),
    "action.user_activated": ("启用用户", "user activated"),
    "audit.from": ("开始日期", "From"),
    "audit.to": ("结束日期", "To"),
    "audit.none": ("没有符合条件的记录。", "No entries match."),
    "audit.bad_filter": ("筛选条件无效。", "That filter is not valid."),
    "nav.logout": ("退出", "Sign out"),
    "nav.admin": ("用户管理", "Users"),
    "nav.audit": ("审计日志", "Audit log"),
    "role.admin": ("系统管理员", "Administrator"),
    "role.leader": ("院领导", "Hospital leader"),
    "role.director": ("科主任", "Department director"),
    "role.assistant": ("专科运营助理", "Operations assistant"),
    "forbidden.title": ("无权访问", "Not allowed"),
    "forbidden.body": ("您的角色不能打开此页面，此次访问已记录。",
                       "Your role may not open this page; the attempt has been recorded."),
    "banner.warehouse_down": ("数据仓库暂时无法访问，页面数据可能不是最新：{message}",
                              "The data warehouse cannot be reached; figures may be out of date: {message}"),
    "error.forbidden_action": ("您无权查看该数据。", "You may not see these figures."),
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
