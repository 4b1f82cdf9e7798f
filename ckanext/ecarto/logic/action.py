"""Ingestion actions: `ecarto_ingest_resource` (load or reload a resource's table) and
`ecarto_ingest_status` (what the registry says about it: rows, rejects, errors)."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.ecarto import ingest


def ecarto_ingest_resource(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Load (or reload) a resource's file into PostgreSQL, keyed on its UAI or commune column.

    :param id: the resource id
    :param force: reload even if the file and settings are unchanged (default false)
    :param background: run as a background job instead of now (default false)
    :returns: the ingestion report (``status`` ok|error|skipped, ``n_rows``, ``n_rejected``,
        ``rejects``, ``message``…), or ``{"queued": true}`` for a background job
    """
    resource_id = tk.get_or_bust(data_dict, "id")
    tk.check_access("ecarto_ingest_resource", context, data_dict)
    force = tk.asbool(data_dict.get("force", False))
    if tk.asbool(data_dict.get("background", False)):
        job = tk.enqueue_job(ingest.ingest_job, [resource_id, force],
                             title=f"eCarto : chargement de {resource_id}", rq_kwargs={"timeout": 3600})
        return {"queued": True, "job_id": job.id}
    return ingest.ingest_resource(resource_id, force=force).as_dict()


@tk.side_effect_free
def ecarto_ingest_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What the registry says about an ingested resource.

    :param id: the resource id
    :param rejects_limit: how many rejected rows to return (default 100)
    :returns: the registry row (``status``, ``table_name``, ``key_kind``, ``key_column``,
        ``n_rows``, ``n_rejected``, ``rejects``, ``message``, ``loaded_at``…)
    """
    resource_id = tk.get_or_bust(data_dict, "id")
    tk.check_access("ecarto_ingest_status", context, data_dict)
    row = ingest.status(resource_id)
    if row is None:
        raise tk.ObjectNotFound(tk._("Cette ressource n'a pas été chargée en base."))
    limit = max(0, int(data_dict.get("rejects_limit", 100) or 0))
    row["rejects"] = (row.get("rejects") or [])[:limit]
    if row.get("loaded_at") is not None:
        row["loaded_at"] = row["loaded_at"].isoformat()
    row.pop("options_hash", None)
    return row


def get_actions() -> dict[str, Any]:
    return {
        "ecarto_ingest_resource": ecarto_ingest_resource,
        "ecarto_ingest_status": ecarto_ingest_status,
    }
