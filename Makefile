# eCarto portal: two commands do everything on a fresh Debian/Ubuntu machine with Python 3.11.
#   make run   install, set up PostgreSQL/Redis/databases, load the real sample data, serve on :5000
#   make test  install, set up the test databases, run the whole test suite
SHELL := /bin/bash
SH := scripts/ecarto.sh

.PHONY: run test setup install services lock bench-search bench-pages bench-ingest bench-territoires bench-periods bench-load i18n

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
	CKAN_SQLALCHEMY_URL=$$($(SH) bench-database | tail -1) .venv/bin/python bench/search.py

# Establishment pages vs CKAN's dataset page: sample data + real UAI files published again
# as extra resources (10 UAI-keyed resources in all).
bench-pages:
	@$(SH) deps && $(SH) services
	@export CKAN_SQLALCHEMY_URL=$$($(SH) bench-database | tail -1); \
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
	@export CKAN_SQLALCHEMY_URL=$${ECARTO_BENCH_URL:-$$($(SH) bench-database | tail -1)}; \
	.venv/bin/ckan -c test.ini ecarto load-sample > /dev/null 2>&1; \
	.venv/bin/python bench/territoires.py

# Multi-period files at national size (Arcep ftthCommunes, IPS over 6 rentrées): ingestion, full
# recompute of the aggregates and page times, this version next to the previous one (commit
# ECARTO_BENCH_PREV, default 04e0c0f, as a git worktree) in the same run, each on its own database.
bench-periods:
	@$(SH) deps && $(SH) services
	@$(SH) bench-database > /dev/null
	.venv/bin/python bench/periods.py

bench-ingest:
	@$(SH) deps && $(SH) services
	CKAN_SQLALCHEMY_URL=$$($(SH) bench-database | tail -1) .venv/bin/python bench/ingest.py -c test.ini

# Load over HTTP: anonymous pages at concurrency 8 and 32, then 8 while a 5,000-row file is loaded;
# its own gunicorn + jobs worker on the bench database (sample data), stopped at the end.
# ECARTO_LOAD_DURATION: seconds per phase (60). Against `make run`'s portal instead:
#   .venv/bin/python bench/load.py http://127.0.0.1:5000 --ckan-ini ckan.ini
bench-load:
	@$(SH) deps && $(SH) services
	@export CKAN_SQLALCHEMY_URL=$${ECARTO_BENCH_URL:-$$($(SH) bench-database | tail -1)}; \
	export CKAN_REDIS_URL=$${ECARTO_BENCH_REDIS_URL:-redis://127.0.0.1:6379/12}; \
	.venv/bin/ckan -c test.ini ecarto load-sample > /dev/null 2>&1; \
	.venv/bin/python bench/load.py --serve --ckan-ini test.ini --duration $${ECARTO_LOAD_DURATION:-60}

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
