"""Bad files are refused before publication and by the ordinary upload path, and every failure is
recorded with a message fit for its readers (issue 12, item 9).

Each bad file is made at test time from real rows (the IPS of the collèges, sample data):

- 10,000 columns (PostgreSQL holds 1,600 per table, 2 of which are the ingestion's own);
- a « gzip bomb »: the IPS rows then 5 GB of zeros, compressed (built from one compressed
  16 MB member repeated: 5 MB on disk, nothing large ever in memory);
- a single line without line end (the rows joined by `;`), above the line length limit;
- Excel's « texte Unicode » export: UTF-16 LE with BOM, tab-separated, CRLF — read, not refused;
- a NUL byte in a value;
- rows too wide for PostgreSQL's 8 kB rows; a truncated gzip file; an XLSX too large once
  decompressed.

Paths: the validation report (`ecarto_validate_resource`, `ecarto_publish_resource`) and CKAN's
ordinary upload (`resource_create` / `resource_patch`, which skip the report and go straight to
the ingestion). After a refused `resource_patch` the previous data stays in place; the status
(`ecarto_ingest_status`) holds the failure without NUL characters; an anonymous reader gets only
a French message, the dataset's editor also the publisher's message and the technical detail.
"""
from __future__ import annotations

import codecs
import gzip
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

import ckan.logic as logic
import ckan.model as model
import ckan.tests.factories as factories
import ckan.tests.helpers as helpers

from tests.security import people

pytestmark = pytest.mark.usefixtures("with_plugins")

ROOT = Path(__file__).resolve().parents[2]
IPS = ROOT / "data" / "sample" / "ips-colleges-2023" / "ips-colleges-2023.csv"
PUBLIC_FAILURE = "Le fichier n'a pas pu être intégré : "
KEPT = "La dernière version du fichier n'a pas pu être intégrée"


# --------------------------------------------------------------------------- files (real rows)

def ips_lines(n: int = 40) -> list[str]:
    """Header and the first `n` data lines of the IPS file (`;`, as published)."""
    return IPS.read_bytes().decode("utf-8-sig").splitlines()[:n + 1]


def ips_csv(n: int = 40) -> bytes:
    return ("\n".join(ips_lines(n)) + "\n").encode("utf-8")


def wide_csv(n_columns: int, *, filled: bool = True, n: int = 20) -> bytes:
    """The IPS rows with measure columns added up to `n_columns` columns (each filled with the
    row's IPS, or left empty)."""
    header, *rows = ips_lines(n)
    extra = n_columns - len(header.split(";"))
    out = [header + "".join(f";mesure_{i}" for i in range(1, extra + 1))]
    for row in rows:
        ips = row.split(";")[2]
        out.append(row + (";" + ips if filled else ";") * extra)
    return ("\n".join(out) + "\n").encode("utf-8")


def gzip_bomb(zero_gb: int = 5) -> bytes:
    """Real rows then `zero_gb` GB of zero bytes, gzip-compressed (multi-member gzip, as
    `cat a.gz b.gz` makes: one compressed 16 MB member of zeros, repeated)."""
    zeros = gzip.compress(bytes(16 << 20), 9)
    return gzip.compress(ips_csv()) + zeros * (zero_gb * 64)


def one_line(size: int) -> bytes:
    """The IPS rows joined by `;` into one line of at least `size` bytes, no line end."""
    text = ";".join(IPS.read_bytes().decode("utf-8-sig").splitlines())
    while len(text) < size:
        text = text + ";" + text
    return text[:size].encode("utf-8")


def excel_unicode_text(n: int = 40) -> bytes:
    """What Excel writes for « Texte Unicode (*.txt) »: UTF-16 LE with BOM, tabs, CRLF."""
    text = "\r\n".join(line.replace(";", "\t") for line in ips_lines(n)) + "\r\n"
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def with_nul(line: int = 5) -> bytes:
    lines = ips_lines()
    lines[line - 1] = lines[line - 1].replace("2023", "20\x0023", 1)
    return ("\n".join(lines) + "\n").encode("utf-8")


# --------------------------------------------------------------------------- portal

@dataclass
class Portal:
    sysadmin: dict[str, Any]
    org: dict[str, Any]
    editor: dict[str, Any]
    token: str
    names: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def portal(module_portal_db) -> Portal:
    sysadmin = factories.Sysadmin()
    org, editor = people.collectivite_with_editor(sysadmin, "departement-haute-garonne",
                                                  "Département de la Haute-Garonne", "editeur-hg", password=None)
    token = factories.APIToken(user=editor["name"])["token"]
    model.Session.remove()
    return Portal(sysadmin, org, editor, token)


def _as_editor(portal: Portal) -> dict[str, Any]:
    return {"user": portal.editor["name"], "ignore_auth": False}


def _upload(content: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(content), filename=filename)


def _dataset(portal: Portal, name: str) -> dict[str, Any]:
    return helpers.call_action("package_create", _as_editor(portal), name=name, title=f"IPS {name}",
                               owner_org=portal.org["id"], axe="etablissements", millesime="2023",
                               license_id="etalab-2.0")


def _validate(portal: Portal, content: bytes, filename: str) -> dict[str, Any]:
    return helpers.call_action("ecarto_validate_resource", _as_editor(portal), axe="etablissements",
                               upload=_upload(content, filename))


def _refused_by_publication(portal: Portal, name: str, content: bytes, filename: str) -> dict[str, Any]:
    """`ecarto_publish_resource` refuses the file: its report, and the dataset has no resource."""
    package = _dataset(portal, name)
    with pytest.raises(logic.ValidationError) as exc:
        helpers.call_action("ecarto_publish_resource", _as_editor(portal), package_id=package["id"],
                            upload=_upload(content, filename))
    report = exc.value.error_dict["rapport"][0]
    assert report["blocking"] is True and report["valid"] is False
    assert helpers.call_action("package_show", id=package["id"])["resources"] == []
    return report


def _status_over_http(app, resource_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = app.get("/api/3/action/ecarto_ingest_status", query_string={"id": resource_id},
                       headers=headers or {}, status=200)
    return json.loads(response.get_data(as_text=True))["result"]


def _table_rows(table: str) -> int:
    with model.meta.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def _no_control_characters(status: dict[str, Any]) -> None:
    text = json.dumps(status, ensure_ascii=False)
    assert "\x00" not in text and "\\u0000" not in text


def _good_then_bad(portal: Portal, name: str, bad: bytes, filename: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A resource created with the real IPS rows through CKAN's ordinary upload, then replaced
    by `bad` with resource_patch: (the registry row before, the resource)."""
    package = _dataset(portal, name)
    resource = helpers.call_action("resource_create", _as_editor(portal), package_id=package["id"], name="IPS",
                                   format="CSV", upload=_upload(ips_csv(), "ips.csv"))
    before = helpers.call_action("ecarto_ingest_status", {"user": portal.sysadmin["name"]}, id=resource["id"])
    assert before["status"] == "ok" and before["n_rows"] == 40, before
    helpers.call_action("resource_patch", _as_editor(portal), id=resource["id"], upload=_upload(bad, filename))
    return before, resource


def _assert_kept_and_explained(app, portal: Portal, before: dict[str, Any], resource: dict[str, Any],
                               editor_says: str, public_reason: str) -> dict[str, Any]:
    """The previous table is in place, the failure is recorded; the anonymous reader sees the
    French public message only, the editor the precise one. Returns the editor's status."""
    assert _table_rows(before["table_name"]) == 40                       # old data kept
    anonymous = _status_over_http(app, resource["id"])
    editor = _status_over_http(app, resource["id"], {"Authorization": portal.token})
    for status in (anonymous, editor):
        _no_control_characters(status)
        assert status["status"] == "ok" and status["n_rows"] == 40 and status["table_name"] == before["table_name"]
        assert status["failure"]["code"]
    assert anonymous["message"] == anonymous["public_message"]
    assert KEPT in anonymous["message"] and public_reason in anonymous["message"], anonymous["message"]
    assert "detail" not in anonymous and editor_says.lower() not in anonymous["message"].lower()
    assert editor_says.lower() in editor["message"].lower(), editor["message"]
    assert "reste en place" in editor["message"] and "detail" in editor
    return editor


# --------------------------------------------------------------------------- 10,000 columns

def test_ten_thousand_columns_are_refused_before_publication(portal):
    content = wide_csv(10_000)

    report = _refused_by_publication(portal, "ips-10000-colonnes", content, "ips-10000-colonnes.csv")

    assert [e["code"] for e in report["errors"]] == ["too-many-columns"]
    message = report["errors"][0]["message"]
    assert "trop de colonnes : le fichier en a 10\u00a0000" in message
    assert "au plus 1\u00a0596 par fichier" in message


def test_ten_thousand_columns_through_the_ordinary_upload_keep_the_old_data(app, portal):
    before, resource = _good_then_bad(portal, "ips-colonnes-patch", wide_csv(10_000), "ips.csv")

    editor = _assert_kept_and_explained(app, portal, before, resource, "le fichier en a 10\u00a0000",
                                        "trop de colonnes pour la base de données")
    assert editor["failure"]["code"] == "too-many-columns"


def test_the_column_limit_is_postgresql_s_minus_the_ingestion_s_own(app, portal):
    """1,596 columns (+ _key, _row, _periode, _periode_ordre = 1,600) are loaded; 1,597 are refused,
    by both paths."""
    fits = wide_csv(1596, filled=False)
    report = _validate(portal, fits, "ips-1596.csv")
    assert report["valid"], report["errors"]
    package = _dataset(portal, "ips-1596-colonnes")
    started = time.monotonic()
    resource = helpers.call_action("resource_create", _as_editor(portal), package_id=package["id"], name="IPS",
                                   format="CSV", upload=_upload(fits, "ips-1596.csv"))
    status = _status_over_http(app, resource["id"])
    assert status["status"] == "ok" and status["n_rows"] == 20
    assert time.monotonic() - started < 30                               # typed in one pass, not per column
    with model.meta.engine.connect() as conn:
        n_columns = conn.execute(sa.text(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
            "AND NOT attisdropped"), {"t": status["table_name"]}).scalar()
    # the file's « Rentrée scolaire » is the period: stored in _periode, not as a column of its own
    assert n_columns == 1600 - 1

    report = _validate(portal, wide_csv(1597, filled=False), "ips-1597.csv")
    assert [e["code"] for e in report["errors"]] == ["too-many-columns"]
    assert "le fichier en a 1\u00a0597" in report["errors"][0]["message"]


@pytest.mark.ckan_config("ckanext.ecarto.ingest_max_columns", "50")
def test_the_column_limit_can_be_lowered(portal):
    report = _validate(portal, wide_csv(60, filled=False), "ips-60.csv")
    assert [e["code"] for e in report["errors"]] == ["too-many-columns"]
    assert "le fichier en a 60, la base de données du portail en accepte au plus 50" in report["errors"][0]["message"]


def test_rows_too_wide_for_postgresql_are_refused_by_both_paths(app, portal):
    """1,100 filled numeric columns: below the column limit, but 1,100 × 8 bytes once typed cannot
    fit in PostgreSQL's 8,160-byte rows; 1,500 do not even fit as text. 1,000 do fit."""
    package = _dataset(portal, "ips-1000-mesures")
    outcome = helpers.call_action("ecarto_publish_resource", _as_editor(portal), package_id=package["id"],
                                  upload=_upload(wide_csv(1000, filled=True), "ips-1000.csv"))
    assert outcome["ingest"]["status"] == "ok" and outcome["ingest"]["n_rows"] == 20
    assert {c["type"] for c in outcome["ingest"]["columns"] if c["name"].startswith("mesure")} == {"number"}

    report = _validate(portal, wide_csv(1500, filled=True), "ips-1500.csv")
    assert [e["code"] for e in report["errors"]] == ["row-too-wide"]
    assert "Fichier refusé : ligne 2 : les lignes sont trop larges" in report["errors"][0]["message"]

    content = wide_csv(1100, filled=True)

    report = _refused_by_publication(portal, "ips-lignes-larges", content, "ips-larges.csv")
    assert [e["code"] for e in report["errors"]] == ["row-too-wide"]
    assert "au-delà des 8160 octets qu'une ligne PostgreSQL peut contenir" in report["errors"][0]["message"]

    before, resource = _good_then_bad(portal, "ips-larges-patch", content, "ips.csv")
    editor = _assert_kept_and_explained(app, portal, before, resource, "8160 octets",
                                        "lignes trop larges pour la base de données")
    assert editor["failure"]["code"] == "row-too-wide"


# --------------------------------------------------------------------------- gzip bomb

@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = gzip_bomb()
    assert len(data) < 6 << 20                                          # 5 GB of zeros in ~5 MB
    return data


def test_a_gzip_bomb_is_refused_quickly_before_publication(portal, bomb):
    started = time.process_time()
    report = _refused_by_publication(portal, "ips-bombe", bomb, "ips.csv.gz")
    cpu = time.process_time() - started

    assert [e["code"] for e in report["errors"]] == ["decompressed-too-large"]
    assert ("fichier compressé trop volumineux une fois décompressé (limite 256 Mo)"
            in report["errors"][0]["message"])
    assert cpu < 3, f"{cpu:.1f} s de CPU"                                # the issue measured 10–12 s
    print(f"\nbombe gzip refusée par la validation en {cpu:.2f} s de CPU")


def test_a_gzip_bomb_through_resource_patch_is_recorded_and_the_old_data_kept(app, portal, bomb):
    started = time.process_time()
    before, resource = _good_then_bad(portal, "ips-bombe-patch", bomb, "ips.csv.gz")
    cpu = time.process_time() - started

    editor = _assert_kept_and_explained(
        app, portal, before, resource, "fichier compressé trop volumineux une fois décompressé (limite 256 Mo)",
        "fichier compressé trop volumineux une fois décompressé")
    assert editor["failure"]["code"] == "decompressed-too-large"
    assert cpu < 6, f"{cpu:.1f} s de CPU"
    print(f"\nbombe gzip : création + remplacement (deux chargements) en {cpu:.2f} s de CPU")


@pytest.mark.ckan_config("ckanext.ecarto.ingest_max_decompressed_bytes", str(1 << 20))
def test_the_decompressed_limit_can_be_lowered_and_applies_to_xlsx(portal):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in IPS.read_bytes().decode("utf-8-sig").splitlines():   # the whole IPS file: > 1 MB of XML
        sheet.append(line.split(";"))
    out = io.BytesIO()
    workbook.save(out)
    assert len(out.getvalue()) < 1 << 20                                 # under the limit on disk

    report = _validate(portal, out.getvalue(), "ips.xlsx")

    assert [e["code"] for e in report["errors"]] == ["decompressed-too-large"]
    assert "(limite 1 Mo)" in report["errors"][0]["message"]


def test_a_truncated_gzip_is_explained_and_its_detail_is_for_editors(app, portal):
    compressed = gzip.compress(("\n".join(ips_lines(2000)) + "\n").encode("utf-8"))
    truncated = compressed[: len(compressed) // 2]

    report = _validate(portal, truncated, "ips.csv.gz")
    assert report["blocking"] and "tronqué" in report["errors"][0]["message"]

    before, resource = _good_then_bad(portal, "ips-gzip-tronque", truncated, "ips.csv.gz")
    editor = _assert_kept_and_explained(app, portal, before, resource, "fichier compressé (gzip) illisible",
                                        "fichier compressé illisible")
    assert editor["failure"]["code"] == "compressed-unreadable"
    assert "end-of-stream" in editor["detail"]                          # the library's own words, editors only
    anonymous = _status_over_http(app, resource["id"])
    assert "end-of-stream" not in json.dumps(anonymous)


# --------------------------------------------------------------------------- one huge line

def test_a_single_line_without_line_end_is_not_called_empty(app, portal):
    content = one_line(3 << 20)                                          # 3 MB, default limit 1 MB
    assert b"\n" not in content and b"\r" not in content

    report = _refused_by_publication(portal, "ips-une-ligne", content, "ips.csv")

    assert [e["code"] for e in report["errors"]] == ["line-too-long"]
    message = report["errors"][0]["message"]
    assert ("aucune fin de ligne trouvée dans le premier Mo : ce n'est pas un fichier CSV lisible" in message)
    assert "vide" not in message

    package = _dataset(portal, "ips-une-ligne-api")
    resource = helpers.call_action("resource_create", _as_editor(portal), package_id=package["id"], name="IPS",
                                   format="CSV", upload=_upload(content, "ips.csv"))
    anonymous = _status_over_http(app, resource["id"])
    editor = _status_over_http(app, resource["id"], {"Authorization": portal.token})
    assert anonymous["status"] == "error" and anonymous["table_name"] is None
    assert anonymous["message"] == PUBLIC_FAILURE + "ligne trop longue : ce n'est pas un fichier CSV lisible."
    assert "Aucune fin de ligne trouvée dans le premier Mo" in editor["message"]


@pytest.mark.ckan_config("ckanext.ecarto.ingest_max_line_bytes", str(64 * 1024))
def test_the_line_limit_can_be_lowered(app, portal):
    content = one_line(200 * 1024)

    report = _validate(portal, content, "ips.csv")
    assert "aucune fin de ligne trouvée dans les 64 premiers ko" in report["errors"][0]["message"]

    # a long line further down the file is pointed at
    lines = ips_lines()
    lines[7] = lines[7] + ";" + "9" * (70 * 1024)
    report = _validate(portal, ("\n".join(lines) + "\n").encode("utf-8"), "ips.csv")
    assert [e["code"] for e in report["errors"]] == ["line-too-long"]
    assert "la ligne 8 dépasse 64 ko" in report["errors"][0]["message"]

    before, resource = _good_then_bad(portal, "ips-ligne-longue", content, "ips.csv")
    _assert_kept_and_explained(app, portal, before, resource, "les 64 premiers ko", "ligne trop longue")


# --------------------------------------------------------------------------- UTF-16

def test_excel_unicode_text_is_read_not_called_binary(app, portal):
    content = excel_unicode_text()
    header, *rows = ips_lines()
    assert content[:2] == b"\xff\xfe" and b"\x00" in content

    report = _validate(portal, content, "ips-unicode.txt")

    assert report["valid"], report["errors"]
    assert report["file"]["encoding"] == "utf-16" and report["file"]["separator"] == "\t"
    assert report["file"]["columns"] == header.split(";")               # « Rentrée scolaire » intact
    assert report["file"]["n_rows"] == len(rows)
    assert report["preview"]["rows"][0]["values"] == rows[0].split(";")
    assert "encoding" in {w["code"] for w in report["warnings"]}        # converted, and said so

    package = _dataset(portal, "ips-unicode")
    outcome = helpers.call_action("ecarto_publish_resource", _as_editor(portal), package_id=package["id"],
                                  upload=_upload(content, "ips-unicode.txt"))
    assert outcome["ingest"]["status"] == "ok" and outcome["ingest"]["n_rows"] == len(rows)
    assert outcome["ingest"]["encoding"] == "utf-16"
    first = rows[0].split(";")
    with model.meta.engine.connect() as conn:
        ips = conn.execute(sa.text(f"SELECT ips FROM {outcome['ingest']['table_name']} WHERE _key = :uai"),
                           {"uai": first[1]}).scalar()
    assert ips == pytest.approx(float(first[2]))


def test_utf16_without_bom_through_the_ordinary_upload(app, portal):
    header, *rows = ips_lines()
    content = ("\r\n".join(line.replace(";", "\t") for line in ips_lines()) + "\r\n").encode("utf-16-le")

    report = _validate(portal, content, "ips.txt")
    assert report["valid"] and report["file"]["encoding"] == "utf-16-le"

    package = _dataset(portal, "ips-utf16-sans-bom")
    resource = helpers.call_action("resource_create", _as_editor(portal), package_id=package["id"], name="IPS",
                                   format="TSV", upload=_upload(content, "ips.txt"))
    status = _status_over_http(app, resource["id"])
    assert status["status"] == "ok" and status["n_rows"] == len(rows) and status["encoding"] == "utf-16-le"


# --------------------------------------------------------------------------- NUL byte

def test_a_nul_byte_is_pointed_at_before_publication(portal):
    report = _refused_by_publication(portal, "ips-nul", with_nul(line=5), "ips.csv")

    assert [e["code"] for e in report["errors"]] == ["nul-character"]
    assert "caractère nul (octet 0x00) à la ligne 5" in report["errors"][0]["message"]


def test_a_nul_byte_through_the_ordinary_upload(app, portal):
    before, resource = _good_then_bad(portal, "ips-nul-patch", with_nul(line=30), "ips.csv")

    editor = _assert_kept_and_explained(app, portal, before, resource, "caractère nul (octet 0x00) à la ligne 30",
                                        "caractère nul")
    assert editor["failure"]["code"] == "nul-character"
    anonymous = _status_over_http(app, resource["id"])
    assert "invalid byte sequence" not in json.dumps(anonymous) and "PostgreSQL" not in json.dumps(anonymous)


def test_a_nul_character_in_json_never_reaches_postgresql(app, portal):
    header, *rows = ips_lines(5)
    names = header.split(";")
    records = [dict(zip(names, row.split(";"))) for row in rows]
    records[2]["IPS"] = "10\u00003.4"
    content = json.dumps(records, ensure_ascii=True).encode("utf-8")     # the NUL as \\u0000
    assert b"\x00" not in content

    report = _validate(portal, content, "ips.json")
    assert report["blocking"] and "l'enregistrement 3 contient un caractère nul" in report["errors"][0]["message"]

    package = _dataset(portal, "ips-json-nul")
    resource = helpers.call_action("resource_create", _as_editor(portal), package_id=package["id"], name="IPS",
                                   format="JSON", upload=_upload(content, "ips.json"))
    anonymous = _status_over_http(app, resource["id"])
    assert anonymous["status"] == "error"
    assert anonymous["message"] == PUBLIC_FAILURE + (
        "le fichier contient un caractère nul (fichier binaire ou encodage non pris en charge).")
    _no_control_characters(anonymous)


# --------------------------------------------------------------------------- status for readers

def test_an_anonymous_reader_never_sees_a_database_error(app, portal, tmp_path):
    """A PostgreSQL failure (here: the loader's connection ended by the server while it copies
    the rows, as a restart would) is recorded; readers see a French sentence, the editor the
    PostgreSQL text, which the logs hold too."""
    from ckanext.ecarto import ingest

    package = _dataset(portal, "ips-erreur-base")
    resource = helpers.call_action("resource_create", _as_editor(portal), package_id=package["id"], name="IPS",
                                   format="CSV", upload=_upload(ips_csv(), "ips.csv"))
    table = _status_over_http(app, resource["id"])["table_name"]
    whole = tmp_path / "ips.csv"
    whole.write_bytes(IPS.read_bytes())                                   # every row: several chunks
    killed: list[int] = []

    def progress(done, total, n_rows):
        if killed:
            return
        with model.meta.engine.connect() as other:
            pids = other.execute(sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )).scalars().all()  # this test's database only: never another run's connections
            for pid in pids:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        killed.extend(pids)

    report = ingest.ingest_file(str(whole), resource_id=resource["id"], package_id=package["id"], force=True,
                                progress=progress, chunk_rows=1000)
    assert killed and report.status == "error" and report.failure_code == "database"

    anonymous = _status_over_http(app, resource["id"])
    editor = _status_over_http(app, resource["id"], {"Authorization": portal.token})
    assert anonymous["message"] == anonymous["public_message"]
    assert "erreur de la base de données" in anonymous["message"] and KEPT in anonymous["message"]
    assert "detail" not in anonymous
    assert "Erreur PostgreSQL pendant le chargement" in editor["message"]
    technical = editor["detail"]                                          # psycopg2's own words
    assert technical and technical.splitlines()[0] in editor["message"]
    assert technical.splitlines()[0] not in json.dumps(anonymous, ensure_ascii=False)
    assert _table_rows(table) == 40                                       # the previous version is in place
