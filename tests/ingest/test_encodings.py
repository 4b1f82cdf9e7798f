"""UTF-8 with BOM (every ministry export), UTF-8 without BOM, and cp1252/latin-1 (Excel exports):
the accents come out right whatever the encoding. The non-UTF-8 files are byte-level variants
of the real annuaire written by the test (derived files)."""
from __future__ import annotations

import codecs

import pytest

from .ingest_helpers import VAL_DE_MARNE, derived, query, raw_bytes, registry


def _names(report):
    return {r["_key"]: r["nom_etablissement"] for r in query(f"SELECT _key, nom_etablissement FROM {report.table_name}")}


def test_real_file_has_a_bom_and_is_read_as_utf8_sig(load):
    assert raw_bytes(VAL_DE_MARNE).startswith(codecs.BOM_UTF8)

    report = load(VAL_DE_MARNE)

    assert report.encoding == "utf-8-sig"
    assert report.key_column == "Identifiant_de_l_etablissement"  # the BOM is not part of the header
    assert _names(report)["0940176F"] == "Ecole élémentaire Robert Doisneau"


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("cp1252", "cp1252"), ("latin-1", "cp1252")])
def test_derived_encodings_give_the_same_text(load, tmp_path, encoding, expected):
    text = raw_bytes(VAL_DE_MARNE).decode("utf-8-sig")
    variant = derived(tmp_path, f"annuaire-094-{encoding}.csv", text.encode(encoding))
    reference = _names(load(VAL_DE_MARNE))

    report = load(variant)

    assert report.status == "ok", report.message
    assert report.encoding == expected
    assert _names(report) == reference
    assert registry(report.resource_id)["encoding"] == expected


def test_latin1_only_bytes_fall_back_to_latin1(load, tmp_path):
    # 0x81 is undefined in cp1252: such a file can only be latin-1
    content = "UAI;libellé\r\n0311131L;Lycée\x81\r\n".encode("latin-1")
    report = load(derived(tmp_path, "latin1.csv", content))
    assert report.status == "ok" and report.encoding == "latin-1"
    assert query(f"SELECT libelle FROM {report.table_name}")[0]["libelle"] == "Lycée\x81"
