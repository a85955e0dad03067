"""The demo hospital generator."""
from ..load import write_warehouse
from .build import write_truth
from .generate import DemoData, generate

__all__ = ["DemoData", "generate", "write_truth", "write_warehouse"]
