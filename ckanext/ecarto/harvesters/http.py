"""HTTP access of the harvesters: timeouts, retries with exponential backoff, size limits, and
French messages that say which URL failed, what happened and what to do.

Retried: connection errors, timeouts, HTTP 429 and 5xx (the remote portal may recover).
Not retried: other HTTP 4xx (a wrong identifier or URL stays wrong), malformed JSON, and URLs
the outbound-fetch guard refuses.
The total time of a failing call is bounded by ``retries × timeout + backoff × (2^retries − 1)``.

Every request — the source's catalogue, each pagination link (``next_page``), each data file —
goes through the portal's outbound-fetch guard (``ckanext/ecarto/remote.py``): http(s) only,
public addresses only (unless ``ckanext.ecarto.allow_private_urls``), the name resolved once and
the connection made to the checked address, each redirect checked the same way.
"""
from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import requests

import ckan.plugins.toolkit as tk

from ckanext.ecarto import remote

USER_AGENT = "ckanext-ecarto-harvester (+https://github.com/)"


class FetchError(Exception):
    """A remote call that failed for good (French message: what, where, what to do)."""

    def __init__(self, message: str, *, url: str, status: Optional[int] = None):
        super().__init__(message)
        self.url = url
        self.status = status


@dataclass
class HttpSettings:
    timeout: float = 30.0      # seconds, per call (connect and read)
    retries: int = 3           # attempts after the first one
    backoff: float = 2.0       # seconds before the first retry, doubled each time
    max_bytes: int = 500 * 1024 * 1024
    total_timeout: float = 3600.0   # seconds, a whole call (a slow trickle never blocks a harvest)


JSON_MAX_BYTES = 100 * 1024 * 1024   # a catalogue page in memory


def _n(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")


class HttpClient:
    def __init__(self, settings: HttpSettings, *, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.sleep = sleep

    # ------------------------------------------------------------------ core

    def _attempts(self) -> int:
        return max(0, int(self.settings.retries)) + 1

    def _get(self, url: str, params: Optional[dict[str, Any]] = None, *, stream: bool = False) -> requests.Response:
        """GET with retries; returns a 2xx response or raises FetchError."""
        attempts = self._attempts()
        last_problem = ""
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.settings.backoff * (2 ** (attempt - 1)))
            try:
                response = self._fetch(url, params, stream)
            except remote.LimitExceeded as exc:
                raise FetchError(str(exc), url=url) from exc
            except remote.RemoteError as exc:   # refused by the outbound-fetch guard: not retried
                raise FetchError(tk._("{error} (URL : {url}) Vérifiez l'URL de la source dans sa configuration et les "
                                      "liens que publie la source.").format(url=_full_url(url, params), error=exc),
                                 url=url) from exc
            except requests.Timeout:
                last_problem = "timeout"
                continue
            except requests.ConnectionError as exc:
                last_problem = network_reason(exc)
                continue
            except requests.RequestException as exc:
                raise FetchError(tk._("Requête invalide vers {url} : {error}. Vérifiez l'URL de la source "
                                      "dans sa configuration.").format(url=url, error=_short(exc)),
                                 url=url) from exc
            if response.status_code == 429 or response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                response.close()
                continue
            if response.status_code >= 400:
                response.close()
                raise FetchError(_client_error_message(response.url or url, response.status_code),
                                 url=url, status=response.status_code)
            return response
        raise FetchError(_retry_message(_full_url(url, params), last_problem, attempts, self.settings.timeout),
                         url=url, status=int(last_problem[5:]) if last_problem.startswith("HTTP ") else None)

    def _fetch(self, url: str, params: Optional[dict[str, Any]], stream: bool) -> requests.Response:
        """One guarded GET (redirects followed and checked); unless ``stream``, the body is read
        here so that a connection lost while reading is retried like any connection error."""
        limit = None if stream else min(self.settings.max_bytes, JSON_MAX_BYTES)
        response = remote.fetch(url, params=params, headers={"User-Agent": USER_AGENT},
                                timeout=self.settings.timeout, max_bytes=limit,
                                total_timeout=self.settings.total_timeout)
        if not stream:
            try:
                response.content  # noqa: B018 - reads the body now
            except BaseException:
                response.close()
                raise
        return response

    # ------------------------------------------------------------------ API

    def get_json(self, url: str, params: Optional[dict[str, Any]] = None) -> Any:
        response = self._get(url, params)
        full = response.url or url
        try:
            return response.json()
        except (ValueError, requests.JSONDecodeError) as exc:
            snippet = response.text[:80].replace("\n", " ")
            raise FetchError(tk._(
                "Réponse illisible de {url} : ce n'est pas du JSON valide ({error} ; début de la "
                "réponse : « {snippet} »). Le portail distant renvoie peut-être une page d'erreur ou "
                "une réponse tronquée : réessayez plus tard, et vérifiez l'URL de la source."
            ).format(url=full, error=_short(exc), snippet=snippet), url=full) from exc
        finally:
            response.close()

    def download(self, url: str, *, suffix: str = "") -> str:
        """Stream `url` to a temporary file (the caller removes it). A transfer that stops before
        the announced length, or a file over the size limit, is an error: a partial file is never
        handed to the ingestion."""
        attempts = self._attempts()
        last: Optional[FetchError] = None
        for attempt in range(attempts):
            if attempt:
                self.sleep(self.settings.backoff * (2 ** (attempt - 1)))
            try:
                return self._download_once(url, suffix)
            except _Truncated as exc:
                last = FetchError(tk._(
                    "Téléchargement incomplet de {url} : {got} octets reçus sur {expected} annoncés "
                    "(connexion interrompue, {tries}). Rien n'a été chargé : la version déjà en base reste "
                    "en place et le prochain moissonnage réessaiera."
                ).format(url=url, got=_n(exc.got), expected=_n(exc.expected), tries=_tries(attempts)), url=url)
            except _TransferFailed as exc:
                last = FetchError(tk._(
                    "Téléchargement interrompu de {url} ({detail}, {tries}). Rien n'a été chargé : la version "
                    "déjà en base reste en place et le prochain moissonnage réessaiera."
                ).format(url=url, detail=exc.detail, tries=_tries(attempts)), url=url)
        assert last is not None
        raise last

    def _download_once(self, url: str, suffix: str) -> str:
        # connection errors, timeouts and 5xx are retried in _get; `download` retries broken transfers
        response = self._get(url, stream=True)
        expected = response.headers.get("Content-Length")
        expected_n = int(expected) if expected and expected.isdigit() else None
        limit = self.settings.max_bytes
        fd, path = tempfile.mkstemp(prefix="ecarto-harvest-", suffix=suffix)
        got = 0
        try:
            with os.fdopen(fd, "wb") as out:
                try:
                    for block in response.raw.stream(1 << 20, decode_content=True):
                        got += len(block)
                        if got > limit:
                            raise FetchError(tk._(
                                "Fichier trop volumineux à {url} : plus de {size} Mo. Augmentez "
                                "« max_download_mb » dans la configuration de la source, ou filtrez l'export."
                            ).format(url=url, size=_n(limit // (1024 * 1024))), url=url)
                        out.write(block)
                except FetchError:
                    raise
                except remote.RemoteError as exc:   # total time of the download exceeded
                    raise FetchError(tk._("{error} Rien n'a été chargé : la version déjà en base reste en "
                                          "place.").format(error=exc), url=url) from exc
                except Exception as exc:  # urllib3 ProtocolError / IncompleteRead / read timeout
                    raw_got = response.raw.tell() if hasattr(response.raw, "tell") else got
                    if expected_n is not None and raw_got < expected_n:
                        raise _Truncated(raw_got, expected_n) from exc
                    raise _TransferFailed(network_reason(exc)) from exc
            raw_got = response.raw.tell() if hasattr(response.raw, "tell") else got
            if expected_n is not None and raw_got < expected_n:
                raise _Truncated(raw_got, expected_n)
        except BaseException:
            os.unlink(path)
            raise
        finally:
            response.close()
        return path


class _Truncated(Exception):
    def __init__(self, got: int, expected: int):
        super().__init__(f"{got}/{expected}")
        self.got, self.expected = got, expected


class _TransferFailed(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def network_reason(exc: BaseException) -> str:
    """What went wrong on the network, in French words, from the exception chain — never the
    network library's own text (long, technical, and cut in the middle)."""
    seen: list[BaseException] = []
    current: Optional[BaseException] = exc
    while current is not None and current not in seen and len(seen) < 10:
        seen.append(current)
        current = current.__cause__ or current.__context__ or _reason_of(current)
    text = " ".join(f"{type(e).__name__} {e}" for e in seen).lower()
    if "timed out" in text or "timeout" in text:
        return tk._("délai de lecture dépassé")
    if "refused" in text or "errno 111" in text:
        return tk._("connexion refusée : aucun serveur n'écoute à cette adresse")
    if ("name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text
            or "temporary failure in name resolution" in text or "nameresolution" in text):
        return tk._("nom de serveur inconnu (DNS)")
    if "ssl" in text or "certificate" in text:
        return tk._("connexion sécurisée (TLS) refusée : certificat invalide ou protocole non pris en charge")
    if "reset" in text or "aborted" in text or "remotedisconnected" in text or "broken pipe" in text:
        return tk._("connexion coupée par le serveur distant")
    if "unreachable" in text or "no route" in text:
        return tk._("réseau injoignable")
    return tk._("connexion impossible")


def _reason_of(exc: BaseException) -> Optional[BaseException]:
    """urllib3 keeps the cause of a failed connection in ``reason`` (MaxRetryError)."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    args = getattr(exc, "args", ())
    return args[0] if args and isinstance(args[0], BaseException) else None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return text[:200]


def _full_url(url: str, params: Optional[dict[str, Any]]) -> str:
    if not params:
        return url
    return requests.Request("GET", url, params=params).prepare().url or url


def _tries(attempts: int) -> str:
    """« 3 tentatives » (attempts >= 1)."""
    return tk.ungettext("{n} tentative", "{n} tentatives", attempts).format(n=attempts)


def _retry_message(url: str, problem: str, attempts: int, timeout: float) -> str:
    tries = _tries(attempts)
    if problem == "timeout":
        return tk._("Délai dépassé : {url} n'a pas répondu en {timeout} s ({tries}). Le portail distant est "
                    "lent ou indisponible : réessayez plus tard, ou augmentez « timeout » dans la configuration "
                    "de la source.").format(url=url, timeout=f"{timeout:g}", tries=tries)
    if problem.startswith("HTTP 429"):
        return tk._("Trop de requêtes : {url} a répondu HTTP 429 ({tries}). Le quota d'appels du portail est "
                    "atteint : relancez le moissonnage plus tard (data.education.gouv.fr autorise 5 000 appels "
                    "anonymes par jour).").format(url=url, tries=tries)
    if problem.startswith("HTTP "):
        return tk._("Erreur du serveur distant : {url} a répondu {problem} ({tries}). Le problème est du côté "
                    "du portail distant : réessayez plus tard ; s'il persiste, signalez-le à son "
                    "producteur.").format(url=url, problem=problem, tries=tries)
    return tk._("Serveur injoignable : {url} — {problem} ({tries}). Vérifiez l'URL de la source et l'accès "
                "réseau du serveur CKAN, puis relancez le moissonnage.").format(url=url, problem=problem, tries=tries)


def _client_error_message(url: str, status: int) -> str:
    if status == 404:
        return tk._("Introuvable : {url} a répondu HTTP 404. Le jeu ou le fichier a peut-être été renommé ou "
                    "supprimé à la source : vérifiez l'identifiant dans la configuration de la "
                    "source.").format(url=url)
    if status in (401, 403):
        return tk._("Accès refusé : {url} a répondu HTTP {status}. Le jeu est peut-être privé ou demande une "
                    "clé d'API : vérifiez ses droits d'accès à la source.").format(url=url, status=status)
    return tk._("Requête refusée : {url} a répondu HTTP {status}. Vérifiez l'URL et les paramètres de la "
                "configuration de la source.").format(url=url, status=status)
