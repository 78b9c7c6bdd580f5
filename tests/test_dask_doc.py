"""Item 10 of issue 26: docs/dask.md says what a Dask cluster must be trusted with, and its TLS settings are
Dask's own (every key and variable it names exists in Dask's configuration, and reaches the client's security)."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "dask.md").read_text()

distributed = pytest.importorskip("distributed")


def test_the_page_says_what_must_be_trusted():
    for point in ("pickle", "run code", "tls://", "require-encryption", "contacted before the run starts"):
        assert point in DOC, point


def test_every_dask_setting_the_page_names_exists_in_dask_s_configuration():
    import dask.config

    variables = set(re.findall(r"DASK_(DISTRIBUTED__[A-Z_]+)=", DOC))
    assert len(variables) == 4
    for variable in variables:
        key = ".".join(part.lower().replace("_", "-") for part in variable.split("__"))
        assert dask.config.get(key, default="<absent>") != "<absent>", key


def test_the_variables_reach_the_security_a_client_opens_with(tmp_path, monkeypatch):
    import dask.config
    from distributed.security import Security

    files = {}
    for name in ("ca", "client", "client-key"):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text("not read here")
    env = {"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
           "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(files["ca"]),
           "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(files["client"]),
           "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(files["client-key"])}
    for key in env:
        assert key in DOC
    saved = copy.deepcopy(dask.config.config)
    try:
        dask.config.refresh(env={**os.environ, **env})  # as Dask reads its configuration at import
        security = Security()  # what distributed.Client(address) uses when given no security
    finally:
        dask.config.config.clear()
        dask.config.config.update(saved)
    assert security.require_encryption is True
    assert security.tls_ca_file == str(files["ca"])
    assert security.tls_client_cert == str(files["client"]) and security.tls_client_key == str(files["client-key"])
