"""sim: an agent-based simulator of bilateral trade negotiations; its first scenarios are the 2025 tariff talks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
