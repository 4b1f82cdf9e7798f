"""What a person reads instead of a file's identifiers and codes: column labels, code
explanations, categorical values in normal case, French numbers and rounded coordinates.

The establishment page, its « people » CSV and the search page read values through this module;
the JSON, the machine CSV and the API keep the values as published.

- A column's label is its data dictionary's (stored in the column model at ingestion, see
  ``ingest/columns.py``); without one, the header humanised: ``Nombre_d_eleves`` → « Nombre
  d'élèves », ``Lycee_des_metiers`` → « Lycée des métiers » (the header stays available to data
  users beside it).
- Codes explained: Arcep operator codes (``FRTE`` → Orange, ``SFR0`` → SFR, ``BOUY`` →
  Bouygues Telecom, ``FREE`` → Free; the other codes of the 2018 observatoire are local
  infrastructure operators the data do not name, kept as they are), the ministry's nature codes
  (``340`` → « Collège »), the sector (``prive`` → « Privé »).
- Normal case only for values known to be categories (nature, state, a column whose role is
  ``dimension``), never for names or addresses: « COLLEGE » → « Collège », « A FERMER » → « À
  fermer »; short all-capitals words (REP, SEGPA, GRETA) are acronyms and stay.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from ckanext.ecarto.core import roles
from ckanext.ecarto.core.translation import _
from ckanext.ecarto.etablissements.identity import normalise_header

# --------------------------------------------------------------------------- words

# Words written without their accents in the ministry's headers and all-capitals values.
ACCENTED: dict[str, str] = {
    "a": "à", "academie": "académie", "academies": "académies", "age": "âge", "annee": "année",
    "annees": "années", "categorie": "catégorie", "cinema": "cinéma", "college": "collège",
    "colleges": "collèges", "composees": "composées", "concentre": "concentré", "creation": "création",
    "debit": "débit", "deficients": "déficients", "denomination": "dénomination", "departement": "département",
    "departementaux": "départementaux", "departements": "départements", "disperse": "dispersé",
    "donnees": "données", "ecart": "écart", "ecole": "école", "ecoles": "écoles", "education": "éducation",
    "educatif": "éducatif", "electricite": "électricité", "elementaire": "élémentaire", "eleve": "élève",
    "eleves": "élèves", "eligibilite": "éligibilité", "eligible": "éligible", "eligibles": "éligibles",
    "enseignt": "enseignement", "equipement": "équipement", "etab": "établissement",
    "etablissement": "établissement", "etablissements": "établissements", "etat": "état",
    "europeenne": "européenne", "experimental": "expérimental", "experimentation": "expérimentation",
    "fermee": "fermée", "general": "général", "generale": "générale", "handicapes": "handicapés",
    "hebergement": "hébergement", "libelle": "libellé", "lycee": "lycée", "lycees": "lycées",
    "maj": "mise à jour", "medico": "médico", "mere": "mère", "metiers": "métiers", "metier": "métier",
    "ministere": "ministère", "numero": "numéro", "operateur": "opérateur", "operateurs": "opérateurs",
    "parite": "parité", "pedagogique": "pédagogique", "periode": "période", "precision": "précision",
    "prive": "privé", "privee": "privée", "privees": "privées", "reference": "référence", "region": "région",
    "regional": "régional", "rentree": "rentrée", "reseau": "réseau", "reseaux": "réseaux",
    "specialise": "spécialisé", "specialisee": "spécialisée", "telephone": "téléphone",
    "therapeut": "thérapeutique", "theatre": "théâtre", "tres": "très", "zones": "zones",
}
# Acronyms kept in capitals wherever they appear.
ACRONYMS = frozenset({
    "bac", "cio", "cp", "cpge", "dsden", "ent", "epci", "epsg", "erea", "ftth", "greta", "iem", "ien",
    "ies", "insee", "ips", "oi", "pial", "rep", "rpi", "segpa", "siren", "siret", "sts", "tbi", "thd", "tni",
    "uai", "ulis",
})
ELISIONS = frozenset({"d", "l", "qu", "jusqu"})

# what a technical column name is made of: letters, digits, `_`, `-`, `.`
_IDENTIFIER = re.compile(r"[\w.-]+")
_CAMEL = re.compile(r"(?<=[a-zà-ÿ0-9])(?=[A-Z])|(?<=[a-zà-ÿ])(?=[0-9])")
_SEPARATORS = re.compile(r"[_\s]+")


def _word(token: str, first: bool, keep_capitals: bool = False) -> str:
    if keep_capitals and len(token) > 1 and token.isupper():
        return token    # an acronym in a mixed-case header: IPS, T1, EPCI
    low = token.lower()
    if low in ACRONYMS:
        return low.upper()
    word = ACCENTED.get(low, low)
    return word[:1].upper() + word[1:] if first else word


def _sentence(tokens: list[str], keep_capitals: bool = False) -> str:
    """Tokens as a French sentence-case phrase, with elisions (``d eleves`` → « d'élèves »)."""
    out: list[str] = []
    pending = ""
    for i, token in enumerate(tokens):
        low = token.lower()
        if low in ELISIONS and out and i + 1 < len(tokens) and not pending:
            pending = low + "'"
            continue
        word = _word(token, not out and not pending, keep_capitals)
        out.append(pending + word)
        pending = ""
    return " ".join(out)


def humanize(header: str) -> str:
    """A header as a person reads it: separators as spaces, sentence case, accents restored on
    the ministry's usual words (``Identifiant_de_l_etablissement`` → « Identifiant de
    l'établissement », ``NbTerminauxMoins5`` → « Nb terminaux moins 5 »)."""
    text = str(header or "").strip()
    if not text:
        return ""
    if "_" not in text and " " in text:
        return text[:1].upper() + text[1:]     # already words: « OI 2018 T1 », « Code région »
    if not _IDENTIFIER.fullmatch(text):
        return text        # not a technical name (a publisher's free text, a formula…): as published
    mixed = not text.isupper()
    if mixed:
        text = _CAMEL.sub(" ", text)
    tokens = [t for t in _SEPARATORS.split(text) if t]
    if not tokens:
        return text
    return _sentence(tokens, keep_capitals=mixed)


def column_label(col: dict[str, Any]) -> str:
    """The label of a column of the column model: the data dictionary's when it gave one (the
    model stores the header itself otherwise), else the header humanised."""
    source = str(col.get("source") or col.get("name") or "")
    label = str(col.get("label") or "").strip()
    if label and label != source:
        return label
    return humanize(source) or source


def normal_case(text: Any) -> Any:
    """An all-capitals category in normal case (« COLLEGE » → « Collège », « A FERMER » → « À
    fermer »); any other value unchanged (names in mixed case, short acronyms like REP or SEGPA,
    codes with digits)."""
    if not isinstance(text, str):
        return text
    value = text.strip()
    letters = [c for c in value if c.isalpha()]
    if not letters or not value.isupper() or any(c.isdigit() for c in value):
        return text
    if " " not in value and "'" not in value and len(value) <= 5:
        return text     # an acronym: REP, SEGPA, GRETA, EREA
    tokens = re.split(r"(\s+|'|-|/|\(|\))", value)
    out, first = [], True
    for token in tokens:
        if not token or not token.strip() or token in ("'", "-", "/", "(", ")"):
            out.append(token)
            continue
        out.append(_word(token, first))
        first = False
    return "".join(out)


# --------------------------------------------------------------------------- codes

# Arcep "code opérateur" of the national operators, as the observatoire HD/THD writes them
# (column « OI 2018 T1 »: `FRTE`, `SFR0`, `FRTE-SFR0`, `FRTE partielle`).
ARCEP_OPERATORS: dict[str, str] = {
    "FRTE": "Orange",
    "SFR0": "SFR",
    "BOUY": "Bouygues Telecom",
    "FREE": "Free",
}

# The ministry's nature codes (`code_nature`, `nature_uai`) met in the annuaire and the
# géolocalisation files, with their labels written out.
NATURES: dict[str, str] = {
    "101": "École maternelle",
    "103": "École maternelle d'application",
    "151": "École élémentaire",
    "153": "École élémentaire d'application",
    "162": "École élémentaire spécialisée",
    "240": "Institut médico-éducatif",
    "241": "Institut thérapeutique, éducatif et pédagogique",
    "242": "Institut d'éducation motrice (IEM)",
    "245": "Établissement pour polyhandicapés",
    "247": "Institut d'éducation sensorielle pour déficients auditifs",
    "248": "Institut d'éducation sensorielle pour sourds-aveugles",
    "249": "Établissement médico-expérimental",
    "300": "Lycée d'enseignement général et technologique",
    "301": "Lycée d'enseignement technologique",
    "302": "Lycée d'enseignement général",
    "306": "Lycée polyvalent",
    "307": "Lycée d'enseignement général, technologique et professionnel agricole",
    "310": "Lycée climatique",
    "320": "Lycée professionnel",
    "334": "Section d'enseignement professionnel",
    "335": "Section d'enseignement général et technologique",
    "340": "Collège",
    "350": "Collège climatique",
    "352": "Collège spécialisé",
    "370": "Établissement régional d'enseignement adapté (EREA)",
    "380": "Maison familiale rurale d'éducation et d'orientation",
    "400": "École composée uniquement de STS et/ou de CPGE",
    "802": "Rectorat",
    "803": "Service rectoral",
    "805": "Direction des services départementaux de l'éducation nationale",
    "809": "Circonscription d'inspection de l'éducation nationale",
    "841": "Centre d'information et d'orientation",
}

SECTORS = {"public": "Public", "prive": "Privé"}


def sector_label(value: Optional[str]) -> str:
    """« Public » / « Privé » for the portal's `public` / `prive` (other values as they are)."""
    if not value:
        return ""
    if value == "prive":
        return _("Privé")
    # not through CKAN's catalogue: its msgid « Public » (a dataset's visibility) reads « Publique »
    return SECTORS.get(value, str(value))


def nature_label(code: Optional[str], libelle: Optional[str] = None) -> str:
    """The nature of an establishment in words: the label of its nature code, else the file's
    label in normal case."""
    known = NATURES.get(str(code or "").strip())
    if known:
        return known
    return normal_case(libelle) if libelle else ""


def is_operator_column(header: str) -> bool:
    """A column holding Arcep operator codes: « OI 2018 T1 » (opérateur d'infrastructure),
    « Opérateur », « code_operateur »…"""
    norm = normalise_header(header)
    return bool(re.match(r"^oi(_|$)", norm)) or "operateur" in norm


_OPERATOR_TOKEN = re.compile(r"[A-Z0-9@]{3,5}")


def operators_text(value: str) -> Optional[str]:
    """« Orange, SFR » for ``FRTE-SFR0``, « Orange (partiel) » for ``FRTE partielle``; codes the
    portal does not know are kept. None when the value holds no operator code."""
    parts = [p for p in re.split(r"[-,;/\s]+", value.strip()) if p]
    if not parts:
        return None
    names: list[str] = []
    partial = False
    found = False
    for part in parts:
        if part.lower().startswith("partiel"):
            partial = True
            continue
        if not _OPERATOR_TOKEN.fullmatch(part):
            return None
        found = found or part in ARCEP_OPERATORS
        names.append(ARCEP_OPERATORS.get(part, part))
    if not names or not found:
        return None
    text = ", ".join(names)
    return f"{text} ({_('partiel')})" if partial else text


@dataclass(frozen=True)
class Shown:
    """A value as a person reads it: ``text``; ``code`` the published value when the text
    explains it (shown beside it for data users), ``title`` what the code is."""

    text: str
    code: Optional[str] = None
    title: Optional[str] = None


def explain(header: str, role: Optional[str], value: Any) -> Optional[Shown]:
    """The readable form of a text value of a column, or None to show it as published."""
    if not isinstance(value, str) or not value.strip():
        return None
    if is_operator_column(header):
        text = operators_text(value)
        if text is not None:
            return Shown(text, value.strip(), _("code opérateur de l'Arcep"))
    norm = normalise_header(header)
    if norm in ("code_nature", "nature_uai") and value.strip() in NATURES:
        return Shown(NATURES[value.strip()], value.strip(), _("code nature du ministère"))
    if norm in ("secteur", "statut_public_prive", "secteur_public_prive_libe"):
        plain = normalise_header(value)
        if plain in SECTORS:
            return Shown(sector_label(plain))
    if role == roles.DIMENSION:
        cased = normal_case(value)
        if cased != value:
            return Shown(cased)
    return None


# --------------------------------------------------------------------------- numbers

def french_number(value: Any, decimals: Optional[int] = None) -> str:
    """``12345.678`` → « 12 345,68 » (narrow no-break space for thousands, comma for decimals);
    integers without decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    trim = decimals is None
    if decimals is None:
        decimals = 0 if number == int(number) else 2
    text = f"{number:,.{decimals}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")    # 123.1 → « 123,1 », not « 123,10 »
    return text.replace(",", "\u202f").replace(".", ",")


def coordinate(value: Any) -> str:
    """A latitude or longitude to 5 decimals (about a metre), French decimal comma."""
    if value is None or value == "":
        return ""
    try:
        return french_number(round(float(value), 5), 5).rstrip("0").rstrip(",")
    except (TypeError, ValueError):
        return str(value)
