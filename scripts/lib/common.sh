# Shared by scripts/run and scripts/test: system packages and a private PostgreSQL cluster.
# Sourced, not run. Works as root (CI) and as a normal user (sudo for the one install step).

PROJECT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PACKAGES=(libpq-dev libqrencode-dev postgresql pkg-config)

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root to run: $* (install sudo or run as root)"; fi
}

# Installs whatever of PACKAGES is missing; does nothing (and needs no root) when all are there.
ensure_packages() {
    local missing=()
    for package in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    command -v swift >/dev/null || die "swift is not on PATH; install the Swift toolchain (6.2 or later)"
}

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql"
    echo "$dir"
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the 'postgres' user.
pg_owner() { if [ "$(id -u)" = 0 ]; then echo postgres; fi; }

as_pg_owner() {
    local owner; owner=$(pg_owner)
    if [ -n "$owner" ]; then runuser -u "$owner" -- "$@"; else "$@"; fi
}

# start_cluster BASE PORT: initdb BASE/data when new, start it socket-only in BASE (reused when
# already running). BASE must be reachable by the cluster's owner.
start_cluster() {
    local base=$1 port=$2 bin; bin=$(pg_bindir)
    local owner; owner=$(pg_owner)
    mkdir -p "$base"
    chmod 700 "$base"
    [ -n "$owner" ] && chown "$owner" "$base"
    if [ ! -f "$base/data/PG_VERSION" ]; then
        as_pg_owner "$bin/initdb" -D "$base/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$base/initdb.log" 2>&1 \
            || { cat "$base/initdb.log" >&2; die "initdb failed"; }
    fi
    if as_pg_owner "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
        log "PostgreSQL already running in $base"
        return 0
    fi
    as_pg_owner "$bin/pg_ctl" -D "$base/data" -w -t 60 -l "$base/server.log" \
        -o "-k $base -p $port -c listen_addresses='' ${PG_EXTRA_OPTIONS:-}" start >/dev/null \
        || { tail -n 20 "$base/server.log" >&2; die "PostgreSQL did not start"; }
}

stop_cluster() {
    local base=$1 bin; bin=$(pg_bindir)
    as_pg_owner "$bin/pg_ctl" -D "$base/data" -m "${2:-fast}" -w stop >/dev/null 2>&1 || true
}

cluster_url() { echo "postgresql:///${3:-postgres}?host=$1&port=$2&user=${4:-postgres}"; }
