"""The operations assistant's workspace (运营分析工作台): one page per section, under /workspace."""
