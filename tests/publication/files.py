"""Files the tests publish: real rows of the sample data, cut small or changed at byte level at
test time (nothing here is invented: every UAI, name and value comes from a real file).

- IPS of the public collèges of Haute-Garonne (the ministry's IPS file, rows of collèges that the
  Occitanie annuaire lists in département 031): what a département would publish about its
  collèges; UTF-8 with BOM, `;`.
- The Occitanie annuaire's rows of those collèges (axis « établissements », columns matching the
  axis's Table Schema), used for encodings, separators and type errors.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
OCCITANIE = SAMPLE / "annuaire-education" / "fr-en-annuaire-education_occitanie_2024-11-26.csv.gz"
IPS = SAMPLE / "ips-colleges-2023" / "ips-colleges-2023.csv"
SCREENSHOT_PNG = ROOT / "ckanext" / "ecarto" / "assets" / "vendor" / "leaflet" / "images" / "marker-icon.png"  # a PNG in the repository
CHECK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def check_letter(digits: str) -> str:
    return CHECK_LETTERS[int(digits) % 23]


@lru_cache(maxsize=1)
def occitanie_text() -> str:
    return gzip.decompress(OCCITANIE.read_bytes()).decode("utf-8-sig")


@lru_cache(maxsize=1)
def occitanie_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(occitanie_text()), delimiter=";"))


@lru_cache(maxsize=1)
def colleges_31() -> dict[str, dict[str, str]]:
    """Public and private collèges of Haute-Garonne in the annuaire, by UAI."""
    return {r["Identifiant_de_l_etablissement"]: r for r in occitanie_rows()
            if r["Code_departement"] == "031" and r["code_nature"] == "340"}


def ips_lines() -> list[str]:
    """Header and the IPS lines of those collèges, as in the source file (without BOM)."""
    text = IPS.read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    wanted = colleges_31()
    return [lines[0]] + [line for line in lines[1:] if line.split(";")[1] in wanted]


def ips_haute_garonne(*, bom: bool = True) -> bytes:
    """IPS of the Haute-Garonne collèges: UTF-8, `;`, BOM like the source."""
    body = ("\n".join(ips_lines()) + "\n").encode("utf-8")
    return (codecs.BOM_UTF8 if bom else b"") + body


def ips_values() -> dict[str, str]:
    return {line.split(";")[1]: line.split(";")[2] for line in ips_lines()[1:]}


def annuaire_lines() -> list[str]:
    """Header and the annuaire lines of the Haute-Garonne collèges (source bytes decoded)."""
    lines = occitanie_text().splitlines()
    wanted = colleges_31()
    return [lines[0]] + [line for line in lines[1:] if line.split(";", 1)[0] in wanted]


def annuaire_colleges(*, encoding: str = "utf-8-sig", delimiter: str = ";", limit: int = 40) -> bytes:
    """The first `limit` Haute-Garonne collèges of the annuaire, re-written with `delimiter`
    (csv module, quoting as needed) and encoded in `encoding`."""
    rows = list(csv.reader(io.StringIO("\n".join(annuaire_lines()[:limit + 1])), delimiter=";"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def with_cell(data: bytes, *, line: int, column: str, value: str, delimiter: str = ";") -> bytes:
    """`data` (UTF-8, optional BOM) with one cell changed: line 2 is the first data line."""
    bom = data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    lines = text.split("\n")
    header = lines[0].rstrip("\r").split(delimiter)
    cells = lines[line - 1].split(delimiter)
    cells[header.index(column)] = value
    lines[line - 1] = delimiter.join(cells)
    return (codecs.BOM_UTF8 if bom else b"") + "\n".join(lines).encode("utf-8")


def wrong_letter(uai: str) -> str:
    """The UAI with a check letter that is not the right one."""
    right = check_letter(uai[:7])
    wrong = next(letter for letter in CHECK_LETTERS if letter != right)
    return uai[:7] + wrong


def big_ips_file(path: Path, size: int = 50 * 1024 * 1024) -> int:
    """The whole IPS file's data lines replicated until `size` bytes: returns the data rows."""
    text = IPS.read_bytes().decode("utf-8-sig")
    header, *lines = text.splitlines()
    block = ("\n".join(lines) + "\n").encode("utf-8")
    rows = 0
    with open(path, "wb") as out:
        out.write(codecs.BOM_UTF8 + (header + "\n").encode("utf-8"))
        written = out.tell()
        while written < size:
            out.write(block)
            written += len(block)
            rows += len(lines)
    return rows
