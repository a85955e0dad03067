"""Texts of the admin page's session list and its "sign out everywhere" button."""
TEXTS: dict[str, tuple[str, str]] = {
    "sessions.title": ("所选用户的会话", "Sessions of the selected user"),
    "sessions.help": ("列出所选用户当前有效的登录会话。“全部登出”立即结束这些会话（已签发的大屏登录会让大屏重新登录，"
                      "需在下方撤销其大屏登录）。",
                      "The selected user's sessions that are still open. “Sign out everywhere” ends them at once "
                      "(a wall display with a kiosk login signs in again: revoke its kiosk login below)."),
    "sessions.pick": ("请在上方选择一个用户以查看其会话。", "Pick a user above to see their sessions."),
    "sessions.none": ("该用户当前没有有效会话。", "This user has no open session."),
    "sessions.started": ("登录时间", "Signed in"),
    "sessions.last_seen": ("最近活动", "Last seen"),
    "sessions.address": ("地址", "Address"),
    "sessions.browser": ("浏览器", "Browser"),
    "sessions.wall": ("大屏", "Wall display"),
    "sessions.end_all": ("全部登出", "Sign out everywhere"),
    "sessions.ended": ("已结束 {username} 的 {count} 个会话。", "Ended {count} session(s) of {username}."),
    "action.sessions_ended": ("强制登出全部会话", "signed out everywhere"),
}
