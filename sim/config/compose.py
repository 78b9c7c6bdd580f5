"""Compose ``conf/config.yaml`` with Hydra's compose API, as the command line would, outside ``@hydra.main``.

Hydra keeps one global instance; it is cleared before and after, so callers (tests, the validation cases,
the keyword model, the dashboard, the codebook) never see each other's state.
"""

from __future__ import annotations

from omegaconf import DictConfig

from sim.config.values import CONF_DIR

__all__ = ["compose_config"]


def compose_config(*overrides: str) -> DictConfig:
    """The composed config of a command line's overrides (Hydra's own errors pass through)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            return compose(config_name="config", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()
