"""The column model inferred at ingestion on real files: roles, periods, reshape, typed measures
(issue #14). Oracles: the csv module and pandas on the same files."""
from __future__ import annotations

import gzip
import random
from pathlib import Path

import pandas as pd
import pytest

from tests.ingest.ingest_helpers import ARCEP_COMMUNES, ARCEP_FTTH, IPS, SAMPLE, query

IPS_YEARS = SAMPLE / "ips-colleges-multi-annees" / "fr-en-ips_colleges.csv"


def _roles(report) -> dict[str, str]:
    return {c["source"]: c["role"] for c in report.columns if c["name"] != "_key"}


def _latest(table: str, key: str) -> dict:
    return query(f"SELECT * FROM {table} WHERE _key = :k ORDER BY _periode_ordre DESC NULLS LAST, _row DESC "
                 f"LIMIT 1", k=key)[0]


@pytest.fixture
def ips_years() -> Path:
    return IPS_YEARS


def test_multi_year_file_gets_a_period_and_typed_measures(load, ips_years):
    report = load(ips_years)
    assert report.ok, report.message
    roles = _roles(report)
    assert roles["Rentrée scolaire"] == "period"
    assert roles["IPS"] == "measure" and roles["Ecart-type de l'IPS"] == "measure"
    assert roles["Code du département"] == "code"
    assert roles["Code INSEE de la commune"] == "code"
    assert roles["Secteur"] == "dimension"
    assert roles["Nom de l'établissment"] == "label"
    period = report.layout["period"]
    assert period["values"] == ["2016-2017", "2017-2018", "2018-2019", "2019-2020", "2020-2021", "2021-2022"]
    assert period["latest"] == "2021-2022" and period["orderable"]
    assert report.layout["rows_per_key_period"] == 1
    assert report.n_rows == 2644
    ips_col = next(c["name"] for c in report.columns if c["source"] == "IPS")
    latest = _latest(report.table_name, "0590002G")
    assert latest["_periode"] == "2021-2022" and latest[ips_col] == pytest.approx(80.4)
    oldest = query(f'SELECT "{ips_col}" AS v FROM {report.table_name} WHERE _key = :k AND _periode = :p',
                   k="0590002G", p="2016-2017")
    assert oldest[0]["v"] == pytest.approx(75.7)
    # the stored measure is a number: every value equals pandas' reading of the file
    frame = pd.read_csv(ips_years, sep=";", dtype=str)
    expected = frame.groupby("Rentrée scolaire")["IPS"].apply(lambda s: pd.to_numeric(s).mean())
    got = {r["p"]: r["m"] for r in query(f'SELECT _periode AS p, avg("{ips_col}") AS m FROM {report.table_name} '
                                         f"GROUP BY _periode")}
    for rentree, mean in expected.items():
        assert got[rentree] == pytest.approx(mean)


def test_shuffled_rows_give_the_same_latest_values(load, ips_years, tmp_path):
    lines = ips_years.read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    random.Random(14).shuffle(body)
    shuffled = tmp_path / "ips-shuffled.csv"
    shuffled.write_text("\n".join([lines[0]] + body) + "\n", encoding="utf-8")
    first, second = load(ips_years), load(shuffled)
    ips_a = next(c["name"] for c in first.columns if c["source"] == "IPS")
    for uai in ("0590002G", "0590046E", "0620001S"):
        rows = query(f"SELECT _key FROM {first.table_name} WHERE _key = :k", k=uai)
        if not rows:
            continue
        a, b = _latest(first.table_name, uai), _latest(second.table_name, uai)
        assert (a["_periode"], a[ips_a]) == (b["_periode"], b[ips_a])


def test_arcep_ftth_periods_in_columns_and_field_column_are_reshaped(load):
    report = load(ARCEP_FTTH, millesime="2018")
    assert report.ok, report.message
    reshape = report.layout["reshape"]
    assert reshape["periods_from_columns"] == ["T3 2017", "T4 2017", "T1 2018"]
    assert reshape["field_column"] == "Champ"
    assert set(reshape["fields"]) == {"Locaux Raccordables", "Catégorie"}
    roles = _roles(report)
    assert roles["Locaux Raccordables"] == "measure" and roles["Catégorie"] == "code"
    assert report.layout["period"]["values"] == ["T3 2017", "T4 2017", "T1 2018"]
    assert report.layout["rows_per_key_period"] == 1
    raw = gzip.decompress(ARCEP_FTTH.read_bytes()).decode("utf-8").splitlines()
    communes = {line.split(",")[0] for line in raw[5:] if line.strip()}
    assert report.layout["table_rows"] == 3 * len(communes)
    assert report.n_rows == 2 * len(communes)  # the file's rows
    col = reshape["fields"]["Locaux Raccordables"]
    # the sample's sum per quarter equals the file's, read with pandas
    frame = pd.read_csv(ARCEP_FTTH, skiprows=4, dtype=str)
    frame = frame[frame["Champ"] == "Locaux Raccordables"]
    for quarter in ("T3 2017", "T4 2017", "T1 2018"):
        values = pd.to_numeric(frame[quarter].str.replace(r"[\s\u00a0]", "", regex=True).replace("-", None))
        total = query(f'SELECT sum("{col}") AS s FROM {report.table_name} WHERE _periode = :p', p=quarter)[0]["s"]
        assert float(total) == pytest.approx(float(values.sum()))


def test_arcep_flags_and_codes(load):
    report = load(ARCEP_COMMUNES)
    assert report.ok, report.message
    roles = _roles(report)
    assert roles["Zones très denses"] == "flag" and roles["Commune rurale"] == "flag"
    assert roles["Commune de montagne"] == "dimension"  # values 1, 2, 3: classes, never summed
    assert roles["Code région"] == "code" and roles["Code département"] == "code"
    assert roles["Logements"] == "measure"
    by_source = {c["source"]: c for c in report.columns}
    assert by_source["Logements"]["aggregation"] == "sum"
    flag = by_source["Commune rurale"]["name"]
    values = {r["v"] for r in query(f'SELECT DISTINCT "{flag}" AS v FROM {report.table_name}')}
    assert values <= {True, False} and None not in values  # Arcep's "-" means no


def test_declared_measure_full_of_text_is_refused_and_keeps_the_previous_version(load, tmp_path):
    good = tmp_path / "equipement.csv"
    good.write_text("uai;nb_tablettes;commentaire\n0311131L;12;ok\n0310001H;4;\n", encoding="utf-8")
    report = load(good, resource_id="11111111-1111-1111-1111-111111111111")
    assert report.ok
    bad = tmp_path / "equipement-v2.csv"
    bad.write_text("uai;nb_tablettes;commentaire\n0311131L;douze;ok\n0310001H;quatre;\n", encoding="utf-8")
    refused = load(bad, resource_id="11111111-1111-1111-1111-111111111111",
                   data_dictionary='[{"column": "commentaire", "role": "measure"}]')
    assert refused.status == "error"
    assert "commentaire" in refused.message
    rows = query(f"SELECT * FROM {report.table_name} ORDER BY _row")
    assert [r["nb_tablettes"] for r in rows] == [12, 4]


def test_declared_measure_with_a_few_text_cells_rejects_those_cells(load, tmp_path):
    path = tmp_path / "equipement.csv"
    path.write_text("uai;salles\n0311131L;12\n0310001H;douze\n0310002J;3\n0310003K;5\n", encoding="utf-8")
    report = load(path, data_dictionary='[{"column": "salles", "role": "measure"}]')
    assert report.ok, report.message
    assert any(r.get("column") == "salles" and r["row"] == 2 for r in report.rejects)
    rows = query(f"SELECT _key, salles FROM {report.table_name} ORDER BY _row")
    assert [r["salles"] for r in rows] == [12, None, 3, 5]


def test_unorderable_periods_keep_rows_without_a_latest(load, tmp_path):
    path = tmp_path / "campagnes.csv"
    path.write_text("uai;campagne;nb_tablettes\n0311131L;printemps;3\n0311131L;automne;4\n", encoding="utf-8")
    report = load(path, data_dictionary='[{"column": "campagne", "role": "period"}]')
    assert report.ok, report.message
    period = report.layout["period"]
    assert period["orderable"] is False and period["latest"] is None and "ordonnées" in period["reason"]
    assert report.n_rows == 2


def test_declared_period_with_unreadable_values_is_refused(load, tmp_path):
    path = tmp_path / "annees.csv"
    path.write_text("uai;annee;nb\n0311131L;2021;3\n0311131L;l'an dernier;4\n", encoding="utf-8")
    report = load(path, data_dictionary='[{"column": "annee", "role": "period"}]')
    assert report.status == "error" and "l'an dernier" in report.message


def test_rentree_given_as_a_year_is_the_school_year_it_starts(load):
    """The 2023 IPS extract writes « Rentrée scolaire » 2023: rentrée 2023-2024, comparable with
    the multi-year file's 2021-2022."""
    report = load(IPS, millesime="2023")
    assert report.ok
    assert report.layout["period"]["values"] == ["2023-2024"]
    assert {c["role"] for c in report.columns if c["name"] == "_key"} == {"key"}
