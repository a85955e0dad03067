"""Texts of refusals made before a page or callback runs (the request body limit)."""
TEXTS: dict[str, tuple[str, str]] = {
    "http.too_large": ("请求内容过大（上限 {mb} MB），未予处理。",
                       "The request was too large (the limit is {mb} MB) and was not processed."),
}
