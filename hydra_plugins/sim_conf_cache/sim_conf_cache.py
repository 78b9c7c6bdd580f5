"""Hydra reads ``sim``'s configs through a source that parses each file once per content.

Hydra parses every YAML file of the defaults list again on each compose, with a pure-Python YAML parser, and
``sim``'s scenario files are large; ``sim`` composes many times in one process (the pre-run check of a sweep's
jobs, the dashboard, the validation cases, the tests). Two Hydra plugins, on Hydra's public plugin interfaces
only, make a repeated compose cheap without changing what it composes:

* :class:`SimConfSource`, a :class:`~hydra.plugins.config_source.ConfigSource` of the scheme ``simconf://``:
  reads a folder of YAML files as Hydra's ``file://`` source does (same lookups, same errors), and keeps each
  parsed file by its real path, size and modification time (ns). A later load returns a copy (unpickled, about
  20x faster than parsing); an edited file is parsed again.
* :class:`SimConfSearchPath`, a :class:`~hydra.plugins.search_path_plugin.SearchPathPlugin`: Hydra calls it after
  adding the application's own config folder to the search path; it rewrites the one element naming ``sim``'s
  config folder (``file://<dir>`` from ``initialize_config_dir``, or the bare folder from ``@hydra.main``) to
  ``simconf://<dir>``. Every other element, and every other Hydra application, is left alone: it does nothing
  unless ``sim.resources`` (which locates ``sim``'s configs) is already imported, and it imports nothing of ``sim``.

The environment variable ``SIM_CONF_CACHE=0`` turns the rewrite off (Hydra's own ``file://`` source then reads
``sim``'s configs), to compare the two. With the cache on, the search path Hydra records in a run folder
(``.hydra/hydra.yaml``, ``hydra.runtime.config_sources``) and shows (``--info searchpath``) names the scheme
``simconf`` for ``sim``'s folder instead of ``file``.

This module is imported by Hydra's plugin scan in every Hydra application of the environment, so it imports only
Hydra, OmegaConf and the standard library.
"""

from __future__ import annotations

import os
import pickle
import sys

from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from hydra.plugins.search_path_plugin import SearchPathPlugin
from omegaconf import OmegaConf

__all__ = ["OFF_ENV", "SCHEME", "SimConfSearchPath", "SimConfSource"]

SCHEME = "simconf"
OFF_ENV = "SIM_CONF_CACHE"  # "0": sim's configs are read by Hydra's own file:// source, uncached

_parsed: dict[tuple[str, int, int], tuple[bytes, dict]] = {}  # (real path, size, mtime_ns) -> (pickled config, header)


class SimConfSource(ConfigSource):
    """A folder of YAML configs, read as Hydra's ``file://`` source reads one, each file parsed once per content."""

    @staticmethod
    def scheme() -> str:
        return SCHEME

    def _real(self, config_path: str) -> str:
        return os.path.realpath(os.path.join(self.path, config_path))

    def load_config(self, config_path: str) -> ConfigResult:
        full = self._real(self._normalize_file_name(config_path))
        try:
            st = os.stat(full)
        except OSError:
            raise ConfigLoadError(f"Config not found : {full}") from None  # Hydra's file source's words
        key = (full, st.st_size, st.st_mtime_ns)
        if key in _parsed:
            pickled, header = _parsed[key]
            config = pickle.loads(pickled)
        else:
            with open(full, encoding="utf-8") as f:
                header = ConfigSource._get_header_dict(f.read(512))
                f.seek(0)
                config = OmegaConf.load(f)
            _parsed[key] = (pickle.dumps(config), header)  # before Hydra edits it (it pops the defaults list)
        return ConfigResult(config=config, path=self.full_path(), provider=self.provider, header=dict(header))

    def available(self) -> bool:
        return self.is_group("")

    def is_group(self, config_path: str) -> bool:
        return os.path.isdir(self._real(config_path))

    def is_config(self, config_path: str) -> bool:
        return os.path.isfile(self._real(self._normalize_file_name(config_path)))

    def list(self, config_path: str, results_filter: ObjectType | None) -> list[str]:
        files: list[str] = []
        for name in os.listdir(self._real(config_path)):
            self._list_add_result(files=files, file_path=os.path.join(config_path, name), file_name=name,
                                  results_filter=results_filter)
        return sorted(set(files))


class SimConfSearchPath(SearchPathPlugin):
    """Points the search-path element of ``sim``'s config folder at :class:`SimConfSource`."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        resources = sys.modules.get("sim.resources")  # loaded by sim before it hands Hydra its folder
        if resources is None or os.environ.get(OFF_ENV) == "0":
            return
        conf = os.path.realpath(resources.conf_dir())
        for element in search_path.get_path():
            folder = element.path.removeprefix("file://")
            if "://" not in folder and os.path.realpath(folder) == conf:
                element.path = f"{SCHEME}://{folder}"
