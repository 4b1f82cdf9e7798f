"""Columns drift between vintages of the annuaire (2026 drops `Nombre_d_eleves`, 2023 wrote
`Code postal`, `coordonnee_X`, `etablissement_multi_lignes`…): each new version of a resource
replaces the table with the new columns, and names that only differ by spacing or accents map
to the same SQL column."""
from __future__ import annotations

import uuid

from .ingest_helpers import OCCITANIE, VAL_DE_MARNE, column_types, derived, query, raw_bytes, registry


def test_new_vintage_replaces_the_columns(load):
    resource_id = str(uuid.uuid4())
    v2024 = load(OCCITANIE, resource_id=resource_id)
    assert "nombre_d_eleves" in column_types(v2024.table_name)

    v2026 = load(VAL_DE_MARNE, resource_id=resource_id)

    assert v2026.status == "ok" and v2026.table_name == v2024.table_name
    types = column_types(v2026.table_name)
    assert "nombre_d_eleves" not in types and len(types) == 71 + 4  # _key, _row, _periode, _periode_ordre
    stored = registry(resource_id)
    assert [c["source"] for c in stored["columns"]][1:4] == [
        "Identifiant_de_l_etablissement", "Nom_etablissement", "Type_etablissement"]
    assert not any(c["source"] == "Nombre_d_eleves" for c in stored["columns"])


def test_older_header_names_land_in_the_same_columns(load, tmp_path):
    text = raw_bytes(VAL_DE_MARNE).decode("utf-8-sig")
    header, body = text.split("\r\n", 1)
    old = (header.replace("Code_postal", "Code postal").replace("coordX_origine", "coordonnee_X")
           .replace("coordY_origine", "coordonnee_Y").replace("multi_uai", "etablissement_multi_lignes"))

    report = load(derived(tmp_path, "annuaire-094-entetes-2023.csv", ("\ufeff" + old + "\r\n" + body).encode("utf-8")))

    assert report.status == "ok", report.message
    types = column_types(report.table_name)
    assert {"code_postal", "coordonnee_x", "coordonnee_y", "etablissement_multi_lignes"} <= set(types)
    assert types["coordonnee_x"] == "double precision" and types["code_postal"] == "text"
    assert query(f"SELECT code_postal FROM {report.table_name} WHERE _key = '0940176F'")[0]["code_postal"] == "94260"
    sources = {c["name"]: c["source"] for c in registry(report.resource_id)["columns"]}
    assert sources["code_postal"] == "Code postal"
