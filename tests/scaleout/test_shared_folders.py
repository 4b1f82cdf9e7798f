"""What a request may need on another node lives in a folder the nodes share (issue 19): the files
waiting between their validation report and their publication go to
``ckanext.ecarto.publication_staging_path`` when set, else into CKAN's storage folder."""
from __future__ import annotations

import io
import os

from ckanext.ecarto.validation import staging


def test_stagings_go_to_the_configured_shared_folder(ckan_config, monkeypatch, tmp_path):
    shared = tmp_path / "partage" / "publication"
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.publication_staging_path", str(shared))
    staged = staging.create(io.BytesIO(b"UAI;IPS\n0310008R;101.2\n"), filename="ips.csv", package_id="p", user="u")
    assert staged.path == os.path.join(str(shared), staged.token, "ips.csv")
    assert staging.load(staged.token, package_id="p", user="u").size == staged.size
    staging.discard(staged.token)


def test_without_it_they_go_to_ckan_storage_folder(ckan_config, monkeypatch, tmp_path):
    monkeypatch.setitem(ckan_config, "ckanext.ecarto.publication_staging_path", "")
    monkeypatch.setitem(ckan_config, "ckan.storage_path", str(tmp_path))
    assert staging.root() == os.path.join(str(tmp_path), "ecarto-publication")
