"""Ground floor of ckanext-ecarto: vocabulary shared by every other package.

Nothing here imports the rest of the project (only the standard library, CKAN and
SQLAlchemy): the UAI rule, who may read what, the five axes and the update frequencies,
the portal's schema and table names, the column roles and the translation helpers.
"""
