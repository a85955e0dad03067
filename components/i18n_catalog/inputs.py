"""Texts of the callback boundary (shell/inputs.py): what a refused value gets."""
from __future__ import annotations

TEXTS: dict[str, tuple[str, str]] = {
    "input.refused": ("提交的值无效（类型、范围或长度不符，或含控制字符），未予处理。请刷新页面后重试。",
                      "A value sent was not accepted (wrong type, out of range, too long, or with control "
                      "characters) and nothing was done. Reload the page and try again."),
}
