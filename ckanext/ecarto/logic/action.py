"""Ingestion actions: `ecarto_ingest_resource` (load or reload a resource's table) and
`ecarto_ingest_status` (what the registry says about it: rows, rejects, errors)."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ckanext.ecarto import ingest
from ckanext.ecarto.ingest import messages as ingest_messages
from ckanext.ecarto.ingest.queue import enqueue_once
from ckanext.ecarto.logic import schema
from ckanext.ecarto.validation import gate


def ecarto_ingest_resource(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Load (or reload) a resource's file into PostgreSQL, keyed on its UAI or commune column.

    :param id: the resource id
    :param force: reload even if the file and settings are unchanged (default false)
    :param background: run as a background job instead of now (default false)
    :returns: the ingestion report (``status`` ok|error|skipped, ``n_rows``, ``n_rejected``,
        ``rejects``, ``message``…), or ``{"queued": true}`` for a background job

    The file is validated for its dataset's axis first, like any file attached to a dataset
    (issue 15, ``validation.gate``): a refused file is not loaded, even when forced.
    """
    data_dict = schema.validate(data_dict, schema.ingest_resource_schema, context)
    resource_id = data_dict["id"]
    tk.check_access("ecarto_ingest_resource", context, data_dict)
    force = data_dict["force"]
    if data_dict["background"]:
        # a job already waiting for this resource stands for this request (several nodes)
        job_id, _new = enqueue_once(gate.guarded_job, resource_id, force, title=f"eCarto : chargement de {resource_id}")
        return {"queued": True, "job_id": job_id}
    return gate.validate_then_ingest(resource_id, user=context.get("user"), force=force).as_dict()


@tk.side_effect_free
def ecarto_ingest_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What the registry says about an ingested resource.

    :param id: the resource id
    :param rejects_limit: how many rejected rows to return (0 to 10,000, default 100)
    :returns: the registry row (``status``, ``table_name``, ``key_kind``, ``key_column``,
        ``n_rows``, ``n_rejected``, ``rejects``, ``message``, ``public_message``, ``failure``
        (``code``, ``at``), ``loaded_at``…); ``message`` is the publisher's message and ``detail``
        the technical text of a failure for the dataset's editors, the public message otherwise
    """
    data_dict = schema.validate(data_dict, schema.ingest_status_schema, context)
    resource_id = data_dict["id"]
    tk.check_access("ecarto_ingest_status", context, data_dict)
    row = ingest.status(resource_id)
    if row is None:
        raise tk.ObjectNotFound(tk._("Cette ressource n'a pas été chargée en base."))
    limit = data_dict["rejects_limit"]
    row["rejects"] = (row.get("rejects") or [])[:limit]
    if row.get("loaded_at") is not None:
        row["loaded_at"] = row["loaded_at"].isoformat()
    # readers see a French status; the technical detail of a failure is for the dataset's editors
    return ingest_messages.shape_status(row, editor=ingest_messages.may_edit(context, row["package_id"]))


def get_actions() -> dict[str, Any]:
    return {
        "ecarto_ingest_resource": ecarto_ingest_resource,
        "ecarto_ingest_status": ecarto_ingest_status,
    }
