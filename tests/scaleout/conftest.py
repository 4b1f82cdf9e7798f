"""The publication tests' small portal (an annuaire, a département with its editor and tokens)."""
from tests.publication import conftest as publication

portal = publication.portal
