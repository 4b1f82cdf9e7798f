"""Run CKAN (or a bench script) with `ckanext.ecarto` taken from another checkout of the project.

    .venv/bin/python bench/prev_version.py CHECKOUT ckan -c test.ini ecarto load …
    .venv/bin/python bench/prev_version.py CHECKOUT bench/periods.py --measure

The virtualenv holds an *editable* install of this working tree: a finder placed in
`sys.meta_path` (`__editable__…finder`) resolves `ckanext.ecarto` to it. Here that finder is
removed and CHECKOUT/ckanext is put first in `ckanext.__path__` before CKAN is imported, so
every `ckanext.ecarto` module — plugin, migrations, templates, CLI commands — comes from
CHECKOUT (a `git worktree` of an older commit, see bench/periods.py), with the same CKAN and
the same other extensions. Used by bench/periods.py to measure the previous version in the same
run; the rest of the argument list is run as `ckan …` or as a Python script.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path


def use_checkout(checkout: Path) -> None:
    """Make `ckanext.ecarto` resolve to CHECKOUT/ckanext/ecarto in this process."""
    if "ckanext.ecarto" in sys.modules:
        raise RuntimeError("ckanext.ecarto est déjà importé : trop tard pour changer de version")
    sys.meta_path[:] = [finder for finder in sys.meta_path
                        if "__editable__" not in getattr(finder, "__module__", "")]
    sys.path[:] = [entry for entry in sys.path if "__editable__" not in entry]
    import ckanext  # CKAN's namespace package (site-packages/ckanext)
    ckanext.__path__.insert(0, str(checkout / "ckanext"))


def run(argv: list[str]) -> None:
    """`ckan ARGS…` through CKAN's click entry point, or `SCRIPT ARGS…` as __main__."""
    if argv[0] == "ckan":
        from ckan.cli.cli import ckan
        sys.argv = argv
        ckan()
        return
    sys.argv = argv
    sys.path.insert(0, str(Path(argv[0]).resolve().parent))
    runpy.run_path(argv[0], run_name="__main__")


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    checkout = Path(sys.argv[1]).resolve()
    if not (checkout / "ckanext" / "ecarto" / "plugin.py").is_file():
        sys.exit(f"{checkout} n'est pas une copie de ckanext-ecarto")
    use_checkout(checkout)
    run(sys.argv[2:])


if __name__ == "__main__":
    main()
