"""ckanext-ecarto: the eCarto observatory of digital equipment in schools, as a CKAN portal."""
from setuptools import setup

setup(
    message_extractors={
        "ckanext": [
            ("**.py", "python", None),
            ("**.js", "javascript", None),
            ("**/templates/**.html", "ckan", None),
        ],
    },
)
