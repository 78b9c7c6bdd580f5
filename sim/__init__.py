"""sim: an agent-based simulator of bilateral trade negotiations; its first scenarios are the 2025 tariff talks."""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__`` on first use (importlib.metadata takes a moment to import; ``python -m sim`` starts without it)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sim")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0.0.0+unknown"
