"""The demo hospital generator."""
from .generate import DemoData, generate
from .load import write_truth, write_warehouse

__all__ = ["DemoData", "generate", "write_truth", "write_warehouse"]
