# eCarto portal: two commands do everything on a fresh Debian/Ubuntu machine with Python 3.11.
#   make run   install, set up PostgreSQL/Redis/databases, load the real sample data, serve on :5000
#   make test  install, set up the test databases, run the whole test suite
SHELL := /bin/bash
SH := scripts/ecarto.sh

.PHONY: run test setup install services lock bench-search bench-pages bench-ingest bench-territoires bench-periods bench-load bench-nodes bench-faults i18n

run: setup
	@$(SH) sample
	@$(SH) serve

# Everything but serving: what `make run` does before gunicorn starts.
setup:
	@$(SH) deps
	@$(SH) services
	@$(SH) databases
	@$(SH) config
	@$(SH) init

test:
	@$(SH) deps
	@$(SH) browser
	@$(SH) cluster-tools
	@scripts/udata-venv.sh
	@$(SH) services
	@$(SH) test-databases
	.venv/bin/pytest --ckan-ini=test.ini tests $(PYTEST_ARGS)

install:
	@$(SH) deps

services:
	@$(SH) services

# Re-resolve the stack from requirements*.txt and refresh the full pin list.
lock:
	rm -rf .venv-lock && python3.11 -m venv .venv-lock
	.venv-lock/bin/pip install -q -r requirements-dev.txt
	( echo '# Every package of the resolved stack, pinned (pip freeze of requirements-dev.txt). Regenerate with `make lock`.'; \
	  .venv-lock/bin/pip freeze ) > constraints.txt
	rm -rf .venv-lock

# Benchmarks print their figures; they run on a scratch database (ecarto_bench).
bench-search:
	@$(SH) deps && $(SH) services
	CKAN_SQLALCHEMY_URL=$$($(SH) bench-database ecarto_bench_search | tail -1) .venv/bin/python bench/search.py $(BENCH_ARGS)

# Establishment pages vs CKAN's dataset page: sample data + real UAI files published again
# as extra resources (10 UAI-keyed resources in all).
bench-pages:
	@$(SH) deps && $(SH) services
	@export CKAN_SQLALCHEMY_URL=$$($(SH) bench-database ecarto_bench_pages | tail -1); \
	.venv/bin/ckan -c test.ini ecarto load-sample > /dev/null 2>&1; \
	for i in 1 2 3; do .venv/bin/ckan -c test.ini ecarto load data/sample/ips-colleges-2023/ips-colleges-2023.csv \
	  --dataset bench-ips-copie-$$i --axe etablissements --organization menj --millesime 2023 > /dev/null 2>&1; done; \
	for i in 1 2; do .venv/bin/ckan -c test.ini ecarto load \
	  data/sample/geolocalisation-etablissements/fr-en-adresse-et-geolocalisation-etablissements_colleges-france_2024-11.csv.gz \
	  --dataset bench-geoloc-copie-$$i --axe etablissements --organization menj --millesime 2024 > /dev/null 2>&1; done; \
	.venv/bin/python bench/pages.py

# Territory pages, their JSON and the national choropleth data (real sample data).
bench-territoires:
	@$(SH) deps && $(SH) services
	@export CKAN_SQLALCHEMY_URL=$${ECARTO_BENCH_URL:-$$($(SH) bench-database ecarto_bench_territoires | tail -1)}; \
	.venv/bin/ckan -c test.ini ecarto load-sample > /dev/null 2>&1; \
	.venv/bin/python bench/territoires.py

# Multi-period files at national size (Arcep ftthCommunes, IPS over 6 rentrées): ingestion, full
# recompute of the aggregates and page times, this version next to the previous one (commit
# ECARTO_BENCH_PREV, default 04e0c0f, as a git worktree) in the same run, each on its own database.
bench-periods:
	@$(SH) deps && $(SH) services
	@$(SH) bench-database > /dev/null
	.venv/bin/python bench/periods.py

# Sample files vs the DataStore API, then a national annuaire (70,000 rows × 72 columns) against
# the raw COPY floor, the previous version (ECARTO_BENCH_PREV, default ea6b206) beside; peak RSS
# at 140,000 rows. BENCH_ARGS="--skip-baseline --skip-previous" for a shorter run.
bench-ingest:
	@$(SH) deps && $(SH) services
	CKAN_SQLALCHEMY_URL=$$($(SH) bench-database ecarto_bench_ingest | tail -1) .venv/bin/python bench/ingest.py -c test.ini $(BENCH_ARGS)

# Load over HTTP: anonymous pages at concurrency 8 and 32, then 8 while a 5,000-row file is loaded;
# its own gunicorn + jobs worker on the bench database (sample data), stopped at the end: once per
# server configuration (3 sync workers without the page cache = the baseline, then the page cache
# with several worker classes/counts), summary table with ratios to the baseline.
# ECARTO_LOAD_DURATION: seconds per phase (60); BENCH_ARGS="--configs sync3-sans-cache,sync3" to
# choose the configurations. Against `make run`'s portal instead:
#   .venv/bin/python bench/load.py http://127.0.0.1:5000 --ckan-ini ckan.ini
# Fault injection (issue 19): PostgreSQL restart, Redis outage, kill -9 of a web worker, of the jobs
# worker, of a refresh job — on its own PostgreSQL cluster and Redis (ports 5441 and 6391, as root),
# `scripts/ecarto.sh serve` and 4 visitors; prints errors, recovery, data lost, manual action.
bench-faults:
	@$(SH) deps
	.venv/bin/python bench/faults.py $(BENCH_ARGS)

bench-load:
	@$(SH) deps && $(SH) services
	@export CKAN_SQLALCHEMY_URL=$${ECARTO_BENCH_URL:-$$($(SH) bench-database ecarto_bench_load | tail -1)}; \
	export CKAN_REDIS_URL=$${ECARTO_BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}; \
	.venv/bin/ckan -c test.ini ecarto load-sample > /dev/null 2>&1; \
	.venv/bin/python bench/load.py --serve --ckan-ini test.ini --duration $${ECARTO_LOAD_DURATION:-60} $(BENCH_ARGS)

# The load mix of bench-load through nginx over one node, then two (Debian's nginx; the sample
# data on its own bench database). ECARTO_NODES_DURATION: seconds per measure (30);
# BENCH_ARGS=--replica adds two nodes reading from a hot standby (throw-away primary + standby, root).
bench-nodes:
	@$(SH) deps && $(SH) services && $(SH) cluster-tools
	@export CKAN_SQLALCHEMY_URL=$${ECARTO_BENCH_URL:-$$($(SH) bench-database ecarto_bench_nodes | tail -1)}; \
	export CKAN_REDIS_URL=$${ECARTO_BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}; \
	.venv/bin/ckan -c test.ini ecarto load-sample > /dev/null 2>&1; \
	.venv/bin/python bench/nodes.py --ckan-ini test.ini --duration $${ECARTO_NODES_DURATION:-30} $(BENCH_ARGS)

# Refresh the translation catalogues from the sources (French msgids; fr first, en offered).
i18n:
	.venv/bin/pybabel extract -F babel.cfg -k _ -k ungettext:1,2 -k N_ -o ckanext/ecarto/i18n/ckanext-ecarto.pot .
	for l in fr en; do \
	  if [ -f ckanext/ecarto/i18n/$$l/LC_MESSAGES/ckanext-ecarto.po ]; then \
	    .venv/bin/pybabel update -N -D ckanext-ecarto -l $$l -i ckanext/ecarto/i18n/ckanext-ecarto.pot -d ckanext/ecarto/i18n; \
	  else \
	    .venv/bin/pybabel init -D ckanext-ecarto -l $$l -i ckanext/ecarto/i18n/ckanext-ecarto.pot -d ckanext/ecarto/i18n; \
	  fi; done
	.venv/bin/pybabel compile -D ckanext-ecarto -d ckanext/ecarto/i18n
