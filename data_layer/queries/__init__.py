"""Scoped query functions, grouped by domain. Each takes a Warehouse and a Scope first."""
