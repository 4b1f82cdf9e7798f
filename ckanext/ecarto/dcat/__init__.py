"""DCAT output of the portal: the `ecarto` ckanext-dcat profile (after `euro_dcat_ap_3`)."""
