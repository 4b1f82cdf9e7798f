"""Harvesters of the portal on ckanext-harvest (issue 4): ``ecarto_ods`` (Opendatasoft portals
such as data.education.gouv.fr) and ``ecarto_udata`` (data.gouv.fr), sharing ``base`` (ids,
incremental runs, grace period, errors) and ``http`` (timeouts, retries). CKAN-to-CKAN
harvesting uses ckanext-harvest's own ``ckan`` harvester."""
from __future__ import annotations

from ckanext.ecarto.harvesters.ods import EcartoOdsHarvester
from ckanext.ecarto.harvesters.udata import EcartoUdataHarvester

__all__ = ["EcartoOdsHarvester", "EcartoUdataHarvester"]
