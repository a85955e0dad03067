"""The shell every page lives in: login, access rules, navigation, language, error banners."""
