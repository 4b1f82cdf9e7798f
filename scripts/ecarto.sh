#!/usr/bin/env bash
# Set-up steps of the eCarto portal, called by the Makefile (`make run`, `make test`).
#
#   scripts/ecarto.sh deps             create .venv and install the pinned stack
#   scripts/ecarto.sh browser          Debian's chromium for the browser tests
#   scripts/ecarto.sh cluster-tools    Debian's nginx for the several-node tests and bench
#   scripts/ecarto.sh services         make sure PostgreSQL and Redis answer (install/start them)
#   scripts/ecarto.sh databases        roles + CKAN and DataStore databases of the portal
#   scripts/ecarto.sh test-databases   roles + databases used by test.ini
#   scripts/ecarto.sh config           write/refresh ckan.ini (secrets generated once, kept in .ecarto/)
#   scripts/ecarto.sh init             migrations (core, harvest, ecarto), DataStore rights, sysadmin
#   scripts/ecarto.sh sample           load the bundled real sample data (idempotent)
#   scripts/ecarto.sh serve            serve the portal with gunicorn on 127.0.0.1:5000, with the jobs
#                                      worker (retries), the periodic check of the aggregates and the
#                                      harvest consumers and scheduler beside it, each restarted if it dies
#
# Environment:
#   ECARTO_DATABASE_URL  SQLAlchemy URL of an existing CKAN database (else local server, created here)
#   ECARTO_DATASTORE_WRITE_URL / ECARTO_DATASTORE_READ_URL  DataStore URLs (with ECARTO_DATABASE_URL)
#   ECARTO_REDIS_URL     Redis URL (else redis://127.0.0.1:6379/1)
#   ECARTO_PG_ADMIN_URL  URL of a PostgreSQL superuser, used to create roles and databases
#   ECARTO_ADMIN_USER / ECARTO_ADMIN_PASSWORD / ECARTO_ADMIN_EMAIL  the sysadmin to create
#   ECARTO_PORT (5000), ECARTO_WORKERS (5, measured by make bench-load), ECARTO_HARVEST_RUN_EVERY (60, seconds between `harvester run`)
#   ECARTO_WATCH_EVERY (30, seconds between two `ckan ecarto veille`: stale aggregates recomputed)
#   ECARTO_LOG_DIR (.ecarto: logs of the processes of `serve`), ECARTO_ACCESS_LOG (ECARTO_LOG_DIR/access.log;
#   `-` for the standard output)
# The host and port of PostgreSQL come from ECARTO_PG_ADMIN_URL, else ECARTO_DATABASE_URL, else
# 127.0.0.1:5432 (the databases are created, and ckan.ini points, where those URLs say).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STATE="$ROOT/.ecarto"
LOGS="${ECARTO_LOG_DIR:-$STATE}"
PY="${PYTHON:-python3.11}"
CKAN_INI="${CKAN_INI:-$ROOT/ckan.ini}"
export CKAN_INI
REDIS_URL="${ECARTO_REDIS_URL:-redis://127.0.0.1:6379/1}"

# "HOST PORT" of a PostgreSQL URL (postgresql://user:pw@host:port/db, or ?host=/socket/dir);
# 127.0.0.1 and 5432 where the URL says nothing.
url_host_port() {
    local py="$PY"; command -v "$py" >/dev/null || py=python3
    "$py" - "$1" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
query = urllib.parse.parse_qs(u.query)
host = u.hostname or (query.get("host") or ["127.0.0.1"])[0]
print(host, u.port or (query.get("port") or [5432])[0])
EOF
}
PG_URL="${ECARTO_PG_ADMIN_URL:-${ECARTO_DATABASE_URL:-}}"
if [ -n "$PG_URL" ]; then
    read -r PG_HOST PG_PORT <<<"$(url_host_port "$PG_URL")"
else
    PG_HOST=127.0.0.1
    PG_PORT=5432
fi

pg_url() {  # USER PASSWORD DATABASE -> URL on PG_HOST:PG_PORT (a socket directory as ?host=)
    case "$PG_HOST" in
        /*) echo "postgresql://$1:$2@/$3?host=$PG_HOST&port=$PG_PORT" ;;
        *) echo "postgresql://$1:$2@$PG_HOST:$PG_PORT/$3" ;;
    esac
}

say() { printf '\033[1m[ecarto]\033[0m %s\n' "$*"; }
die() { printf '\033[31m[ecarto] %s\033[0m\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
    # Debian/Ubuntu packages; as root we install them, otherwise we say what to run.
    if ! is_root; then
        die "Paquets manquants : lancez « sudo apt-get install -y $* » puis relancez la commande."
    fi
    say "installation des paquets Debian : $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --------------------------------------------------------------------------- deps
cmd_deps() {
    command -v "$PY" >/dev/null || PY=python3
    "$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
        || die "Python 3.11 est requis (trouvé : $("$PY" --version 2>&1))."
    # psycopg2 is built from source (CKAN pins the non-binary package): gcc + pg_config.
    local missing=()
    command -v pg_config >/dev/null || missing+=(libpq-dev)
    command -v gcc >/dev/null || missing+=(build-essential)
    "$PY" -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
    [ -e /usr/lib/x86_64-linux-gnu/libmagic.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libmagic.so.1 ] \
        || ldconfig -p 2>/dev/null | grep -q libmagic.so.1 || missing+=(libmagic1)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

    [ -x "$VENV/bin/python" ] || { say "création de .venv"; "$PY" -m venv "$VENV"; }
    local stamp="$VENV/.ecarto-deps" want
    want="$(cat requirements.txt requirements-dev.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installation de la pile épinglée (CKAN 2.12.0, extensions, outils de test)…"
        local t0=$SECONDS
        "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
        "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e .
        echo "$want" > "$stamp"
        say "pile installée en $((SECONDS - t0)) s"
    fi
    # The French catalogue of the extension is compiled from its .po file.
    "$VENV/bin/pybabel" -q compile -D ckanext-ecarto -d ckanext/ecarto/i18n
}

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
cmd_browser() {
    [ -x /usr/bin/chromium ] && return 0
    if is_root; then
        apt_install chromium fonts-dejavu-core
    else
        say "Chromium absent : les tests de navigateur seront ignorés (sudo apt-get install -y chromium)."
    fi
}

# nginx for the tests and the benchmark of several web nodes behind a reverse proxy (issue 19).
cmd_cluster_tools() {
    [ -x /usr/sbin/nginx ] && return 0
    if is_root; then
        apt_install nginx
    else
        say "nginx absent : les tests à plusieurs nœuds seront ignorés (sudo apt-get install -y nginx)."
    fi
}

# --------------------------------------------------------------------------- services
pg_ready() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" 2>/dev/null \
    || "$VENV/bin/python" - <<EOF 2>/dev/null
import socket; socket.create_connection(("$PG_HOST", $PG_PORT), 2)
EOF
}

start_postgres() {
    [ -z "$PG_URL" ] || [ "$PG_PORT" = 5432 ] \
        || die "PostgreSQL ne répond pas sur $PG_HOST:$PG_PORT (ECARTO_PG_ADMIN_URL / ECARTO_DATABASE_URL)."
    if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        apt_install postgresql postgresql-contrib
    fi
    is_root || die "PostgreSQL ne tourne pas : lancez « sudo pg_ctlcluster \$(ls /etc/postgresql) main start »."
    local ver; ver="$(ls /etc/postgresql | sort -V | tail -1)"
    [ -n "$ver" ] || die "Aucun cluster PostgreSQL trouvé dans /etc/postgresql."
    say "démarrage de PostgreSQL $ver"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null \
        || pg_ctlcluster "$ver" main start
    for _ in $(seq 30); do pg_ready && return 0; sleep 1; done
    die "PostgreSQL ne répond pas sur $PG_HOST:$PG_PORT."
}

redis_ready() {
    "$VENV/bin/python" -c "import redis,sys; redis.Redis.from_url('$REDIS_URL', socket_timeout=2).ping()" 2>/dev/null
}

start_redis() {
    command -v redis-server >/dev/null || apt_install redis-server
    say "démarrage de Redis"
    mkdir -p "$STATE"
    # append-only persistence: the queued jobs survive a restart of Redis (.ecarto/appendonly*)
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly yes \
        --appendfsync everysec --dir "$STATE" --logfile "$STATE/redis.log" >/dev/null
    for _ in $(seq 20); do redis_ready && return 0; sleep 0.5; done
    die "Redis ne répond pas sur $REDIS_URL."
}

cmd_services() {
    if [ -n "${ECARTO_DATABASE_URL:-}" ]; then
        "$VENV/bin/python" -c "import sqlalchemy as sa; sa.create_engine('$ECARTO_DATABASE_URL').connect().close()" \
            || die "ECARTO_DATABASE_URL ne répond pas."
    else
        pg_ready || start_postgres
    fi
    if ! redis_ready; then
        [ -z "${ECARTO_REDIS_URL:-}" ] || die "ECARTO_REDIS_URL ($ECARTO_REDIS_URL) ne répond pas."
        start_redis
    fi
    say "PostgreSQL et Redis répondent"
}

# --------------------------------------------------------------------------- databases
# psql as a superuser on database $PGDB (default postgres): ECARTO_PG_ADMIN_URL, else
# `postgres` over TCP (trust), else the postgres system user over the local socket
# (Debian's default peer authentication).
pg_admin() {
    local db="${PGDB:-postgres}"
    if [ -n "${ECARTO_PG_ADMIN_URL:-}" ]; then
        psql "${ECARTO_PG_ADMIN_URL%/*}/$db" -v ON_ERROR_STOP=1 -qAt "$@"
    elif psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d postgres -qAtc 'select 1' >/dev/null 2>&1; then
        psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -w -d "$db" -v ON_ERROR_STOP=1 -qAt "$@"
    elif is_root && id postgres >/dev/null 2>&1; then
        (cd / && runuser -u postgres -- psql -p "$PG_PORT" -d "$db" -v ON_ERROR_STOP=1 -qAt "$@")
    else
        die "Impossible d'administrer PostgreSQL : définissez ECARTO_PG_ADMIN_URL=postgresql://postgres:MOTDEPASSE@127.0.0.1:5432/postgres"
    fi
}

ensure_role() {  # name password
    pg_admin -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$1') THEN
            CREATE ROLE \"$1\" LOGIN PASSWORD '$2';
        ELSE
            ALTER ROLE \"$1\" LOGIN PASSWORD '$2';
        END IF; END \$\$;"
}

ensure_database() {  # name owner
    if [ -z "$(pg_admin -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" ]; then
        pg_admin -c "CREATE DATABASE \"$1\" OWNER \"$2\" ENCODING 'utf8' TEMPLATE template0"
        say "base $1 créée"
    fi
    # French full text without accents (search backend): unaccent needs a superuser.
    PGDB="$1" pg_admin -c "CREATE EXTENSION IF NOT EXISTS unaccent" -c "CREATE EXTENSION IF NOT EXISTS pg_trgm"
}

secret() {  # name -> a random value generated once and kept in .ecarto/
    mkdir -p "$STATE"; chmod 700 "$STATE"
    local f="$STATE/$1"
    [ -s "$f" ] || "$VENV/bin/python" -c "import secrets; print(secrets.token_urlsafe(24))" > "$f"
    cat "$f"
}

cmd_databases() {
    [ -z "${ECARTO_DATABASE_URL:-}" ] || { say "base fournie par ECARTO_DATABASE_URL"; return 0; }
    ensure_role ckan_default "$(secret db_password)"
    ensure_role datastore_default "$(secret datastore_ro_password)"
    ensure_database ckan_default ckan_default
    ensure_database datastore_default ckan_default
    say "bases ckan_default et datastore_default prêtes"
}

cmd_test_databases() {
    ensure_role ecarto_test ecarto_test
    ensure_role ecarto_test_ro ecarto_test
    ensure_database ecarto_ckan_test ecarto_test
    ensure_database ecarto_datastore_test ecarto_test
    "$VENV/bin/ckan" -c test.ini datastore set-permissions 2>/dev/null | PGDB=ecarto_datastore_test pg_admin >/dev/null
    say "bases de test prêtes"
}

# A fresh scratch database for a benchmark (bench/*.py), with every migration applied: dropped and
# created again on each call, so benchmarks run in any order and never meet another one's data.
cmd_bench_database() {  # [NAME] (default ecarto_bench)
    local name="${1:-ecarto_bench}"
    case "$name" in ecarto_bench*) ;; *) die "base de mesure invalide : $name (ecarto_bench…)" ;; esac
    ensure_role ecarto_test ecarto_test
    pg_admin -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" >/dev/null
    ensure_database "$name" ecarto_test >/dev/null
    local url="postgresql://ecarto_test:ecarto_test@$PG_HOST:$PG_PORT/$name"
    for step in "db init" "db upgrade -p activity" "db upgrade -p harvest" "db upgrade -p ecarto"; do
        CKAN_SQLALCHEMY_URL="$url" "$VENV/bin/ckan" -c test.ini $step >/dev/null 2>&1
    done
    echo "$url"
}

# --------------------------------------------------------------------------- config
cmd_config() {
    local db ds_w ds_r
    if [ -n "${ECARTO_DATABASE_URL:-}" ]; then
        db="$ECARTO_DATABASE_URL"
        ds_w="${ECARTO_DATASTORE_WRITE_URL:?ECARTO_DATASTORE_WRITE_URL est requis avec ECARTO_DATABASE_URL}"
        ds_r="${ECARTO_DATASTORE_READ_URL:-$ds_w}"
    else
        db="$(pg_url ckan_default "$(secret db_password)" ckan_default)"
        ds_w="$(pg_url ckan_default "$(secret db_password)" datastore_default)"
        ds_r="$(pg_url datastore_default "$(secret datastore_ro_password)" datastore_default)"
    fi
    if [ ! -f "$CKAN_INI" ]; then
        "$VENV/bin/ckan" generate config "$CKAN_INI" >/dev/null
        say "ckan.ini généré (clés secrètes aléatoires, non versionné)"
    fi
    mkdir -p "$STATE/storage"
    "$VENV/bin/ckan" config-tool "$CKAN_INI" \
        "sqlalchemy.url = $db" \
        "ckan.datastore.write_url = $ds_w" \
        "ckan.datastore.read_url = $ds_r" \
        "ckan.datastore.sqlsearch.enabled = true" \
        "ckan.redis.url = $REDIS_URL" \
        "solr_url = http://127.0.0.1:1/solr-unused" \
        "ckan.site_url = http://127.0.0.1:${ECARTO_PORT:-5000}" \
        "ckan.site_title = eCarto — le numérique éducatif en données ouvertes" \
        "ckan.site_description = Observatoire open data des territoires numériques éducatifs" \
        "ckan.storage_path = $STATE/storage" \
        "ckan.max_resource_size = 100" \
        "ckan.locale_default = fr" \
        "ckan.locales_offered = fr en" \
        "ckan.gravatar_default = disabled" \
        "ckan.plugins = ecarto activity datastore datatables_view scheming_datasets scheming_organizations harvest ckan_harvester ecarto_ods ecarto_udata ecarto_carte_uai ecarto_tableau dcat structured_data" \
        "scheming.dataset_schemas = ckanext.ecarto:schemas/dataset.yaml" \
        "scheming.organization_schemas = ckanext.scheming:org_with_dept_id.json" \
        "scheming.presets = ckanext.scheming:presets.json ckanext.ecarto:schemas/presets.json" \
        "ckanext.dcat.rdf.profiles = euro_dcat_ap_3 ecarto" \
        "licenses_group_url = file://$ROOT/ckanext/ecarto/schemas/licenses.json" \
        "ckan.harvest.mq.type = redis" \
        "ckan.harvest.timeout = 240" \
        "ckan.views.default_views = datatables_view" \
        "ckanext.ecarto.search_backend = ${ECARTO_SEARCH_BACKEND:-postgres}" \
        "ckanext.ecarto.sample_data_dir = $ROOT/data/sample" >/dev/null
    # Quiet logs: warnings and errors only (the CLI prints what it does).
    for section in logger_root logger_ckan logger_ckanext; do
        "$VENV/bin/ckan" config-tool "$CKAN_INI" -s "$section" "level = WARNING" >/dev/null 2>&1 || true
    done
}

# --------------------------------------------------------------------------- init
ckan() { "$VENV/bin/ckan" -c "$CKAN_INI" "$@"; }

cmd_init() {
    ckan db init >/dev/null 2>&1 || ckan db init
    ckan db upgrade -p harvest >/dev/null
    ckan db upgrade -p ecarto >/dev/null
    if [ -z "${ECARTO_DATABASE_URL:-}" ]; then
        ckan datastore set-permissions 2>/dev/null | PGDB=datastore_default pg_admin >/dev/null
    fi
    local user="${ECARTO_ADMIN_USER:-admin}"
    local email="${ECARTO_ADMIN_EMAIL:-admin@ecarto.localhost}"
    local password="${ECARTO_ADMIN_PASSWORD:-$(secret admin_password)}"
    if ! ckan user show "$user" 2>/dev/null | grep -q "name=$user"; then
        ckan user add "$user" email="$email" password="$password" >/dev/null
        ckan sysadmin add "$user" >/dev/null
        echo "$user" > "$STATE/admin_created"
        say "administrateur créé"
    elif [ -n "${ECARTO_ADMIN_PASSWORD:-}" ]; then
        printf '%s\n%s\n' "$password" "$password" | ckan user setpass "$user" >/dev/null 2>&1
        say "mot de passe de l'administrateur $user remplacé par ECARTO_ADMIN_PASSWORD"
    elif [ "$(cat "$STATE/admin_created" 2>/dev/null)" != "$user" ]; then
        # The database already had this account (created from another checkout): its password is
        # not this checkout's secret, and is never changed behind its owner's back.
        say "administrateur : $user (compte existant, mot de passe inchangé ; ECARTO_ADMIN_PASSWORD=… make run le remplace)"
        return 0
    fi
    local origin="conservé dans .ecarto/admin_password"
    [ -z "${ECARTO_ADMIN_PASSWORD:-}" ] || origin="fourni par ECARTO_ADMIN_PASSWORD"
    say "administrateur : $user / mot de passe : $password ($origin)"
}

cmd_sample() {
    ckan ecarto load-sample
    # a portal loaded before the table previews existed: its unchanged files get their views
    ckan ecarto vues creer
}

# Each background process of the portal runs under a small supervisor that restarts it when it
# dies (after PAUSE seconds); the supervisors and their processes are stopped with the portal.
# Each process runs in its own process group: what it leaves behind when it is killed (the
# scheduler process of the jobs worker) is stopped with it before it is started again.
ECARTO_CHILDREN=()
supervise() {  # NAME PAUSE COMMAND... (output appended to .ecarto/NAME.log)
    local name="$1" pause="$2"; shift 2
    (
        child="" group=""
        stop_group() { [ -z "$group" ] || kill -TERM -- "-$group" 2>/dev/null || true; }
        trap 'stop_group; [ -z "$child" ] || kill "$child" 2>/dev/null; wait 2>/dev/null; exit 0' TERM INT HUP
        while :; do
            setsid "$@" >>"$LOGS/$name.log" 2>&1 &
            child=$! group=$!
            wait "$child" && rc=0 || rc=$?
            stop_group; group=""
            [ "$rc" = 0 ] || echo "[ecarto] $(date -u +%FT%TZ) $name arrêté (code $rc), relancé dans $pause s" \
                >>"$LOGS/$name.log"
            sleep "$pause" &
            child=$!
            wait "$child" || true
        done
    ) &
    ECARTO_CHILDREN+=($!)
}

stop_children() {
    trap - EXIT INT TERM HUP
    local pid
    for pid in "${ECARTO_CHILDREN[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}

cmd_serve() {
    local port="${ECARTO_PORT:-5000}" workers="${ECARTO_WORKERS:-5}"
    local every="${ECARTO_HARVEST_RUN_EVERY:-60}" watch="${ECARTO_WATCH_EVERY:-30}"
    local access="${ECARTO_ACCESS_LOG:-$LOGS/access.log}"
    mkdir -p "$STATE" "$LOGS"
    trap stop_children EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    # The JavaScript strings (/api/i18n/<lang>) built once here; every process started below
    # finds them up to date instead of writing the same files at the same time.
    "$VENV/bin/ckan" -c "$CKAN_INI" translation js > /dev/null
    # Background jobs (ingestion of large uploads and linked files, refresh of the aggregates) run
    # in CKAN's worker; a job of the extension that fails (or is killed) is retried with backoff.
    supervise jobs-worker 5 "$VENV/bin/ckan" -c "$CKAN_INI" ecarto taches worker
    # The periodic check: stale territory aggregates recomputed here, not by a visitor.
    supervise veille "$watch" "$VENV/bin/ckan" -c "$CKAN_INI" ecarto veille
    # ckanext-harvest: the gather and fetch consumers read the Redis queues (a harvest started
    # with the web "Reharvest" button goes through them); `harvester run` every $every s starts
    # the jobs of the sources due on their frequency and marks finished jobs as such.
    # redis-py 8 gives every connection a 5 s socket timeout: the consumers' endless BLPOP would
    # die every 5 s while the queues are empty. Their connection waits a day instead.
    local redis_url; redis_url="$(sed -n 's/^ckan\.redis\.url *= *//p' "$CKAN_INI" | tail -1)"
    redis_url="${redis_url:-$REDIS_URL}"
    case "$redis_url" in *\?*) redis_url="$redis_url&socket_timeout=86400" ;; *) redis_url="$redis_url?socket_timeout=86400" ;; esac
    supervise harvest-gather 5 env CKAN_REDIS_URL="$redis_url" "$VENV/bin/ckan" -c "$CKAN_INI" harvester gather-consumer
    supervise harvest-fetch 5 env CKAN_REDIS_URL="$redis_url" "$VENV/bin/ckan" -c "$CKAN_INI" harvester fetch-consumer
    supervise harvest-run "$every" "$VENV/bin/ckan" -c "$CKAN_INI" harvester run
    say "portail servi sur http://127.0.0.1:$port ($workers processus gunicorn, 1 worker de tâches, vérification des agrégats toutes les $watch s, moissonnage : collecte, téléchargement, planificateur toutes les $every s) — Ctrl+C pour arrêter"
    say "journaux : $LOGS/{jobs-worker,veille,harvest-gather,harvest-fetch,harvest-run}.log, accès : $access ; tâches : ckan -c $CKAN_INI ecarto taches"
    "$VENV/bin/gunicorn" --worker-class sync --workers "$workers" --bind "127.0.0.1:$port" --timeout 120 \
        --access-logfile "$access" --env "CKAN_INI=$CKAN_INI" ckanext.ecarto.wsgi:application &
    ECARTO_CHILDREN+=($!)
    # gunicorn's end (or Ctrl+C) ends the portal; the EXIT trap stops every other process
    wait "$!" || exit $?
}

case "${1:-}" in
    deps) cmd_deps ;;
    browser) cmd_browser ;;
    cluster-tools) cmd_cluster_tools ;;
    services) cmd_services ;;
    databases) cmd_databases ;;
    test-databases) cmd_test_databases ;;
    bench-database) cmd_bench_database "${2:-}" ;;
    config) cmd_config ;;
    init) cmd_init ;;
    sample) cmd_sample ;;
    serve) cmd_serve ;;
    pg-target) echo "$PG_HOST $PG_PORT" ;;   # where the databases are created and ckan.ini points
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
