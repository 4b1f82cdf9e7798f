"""One clean French message per failure: a source that does not answer gives one catalogue error
(not one per query), saying what happened in words — never the network library's own text."""
from __future__ import annotations

import socket

import pytest

from ckanext.ecarto.harvesters.run import run_source

from .conftest import FAST

pytestmark = pytest.mark.usefixtures("with_plugins")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_source_that_does_not_answer_gives_one_clean_message(make_source):
    url = f"http://127.0.0.1:{closed_port()}"
    source = make_source("ecarto_udata", url, {"organizations": ["arcep"], "tags": ["education"],
                                               "axe": "connectivite", **FAST})
    summary = run_source(source["name"])
    assert summary.object_errors == []
    [message] = summary.gather_errors
    assert message.startswith("Catalogue de la source illisible. Serveur injoignable : ")
    assert "connexion refusée : aucun serveur n'écoute à cette adresse" in message
    assert "(2 tentatives)" in message and "1 autre(s) requête(s) de la source en échec" in message
    for technical in ("HTTPConnectionPool", "PinnedHTTP", "Max retries", "NewConnectionError", "Errno"):
        assert technical not in message
    assert message.count("Serveur injoignable") == 1
