"""Texts of the admin page's declared user form and grids."""
from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "admin.err.missing": ("请填写此项。", "Fill this in."),
    "admin.err.too_long": ("内容过长。", "This is too long."),
    "admin.err.not_choice": ("请从列表中选择。", "Choose one from the list."),
    "admin.err.not_text": ("请填写文字。", "Type text here."),
    "admin.err.invalid": ("此项无效。", "This value is not valid."),
    "admin.users_help": ("点击一行即可选择该用户进行编辑。", "Click a row to pick that user for editing."),
    "kiosk.revoke_help": ("撤销仍有效的大屏登录：", "Revoke a kiosk login still valid:"),
}
