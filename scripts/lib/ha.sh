# The high-availability rig of scripts/ha (and scripts/ha-failover-test): etcd, three PostgreSQL 15
# nodes under Patroni with synchronous replication, two `spse-accounts serve` and nginx, all on
# loopback ports chosen free at start, all under one mktemp directory in /tmp. Sourced after
# lib/common.sh, not run.
#
# Every process started is recorded in $HA_DIR/pids (name pid), and every setting in
# $HA_DIR/ha.env (sourceable), so `scripts/ha stop DIR` stops exactly what `start` started.

HA_PACKAGES=(patroni etcd-server etcd-client nginx-light)
HA_SCOPE=spse

# Installs patroni, etcd and nginx when missing (Debian 12: patroni 3.0.2, etcd 3.4, nginx 1.22).
# Returns 1, saying so loudly, when they cannot be had.
ensure_ha_packages() {
    local missing=()
    for package in "${HA_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
            log "!!! could not install ${missing[*]}: no Patroni/etcd/nginx on this machine !!!"
            return 1
        fi
    fi
    local tool
    for tool in patroni patronictl etcd etcdctl nginx setpriv; do
        command -v "$tool" >/dev/null || { log "!!! $tool is not on PATH after installing ${HA_PACKAGES[*]} !!!"; return 1; }
    done
    # Debian starts the packaged services where an init system runs; this rig starts its own.
    return 0
}

# N free loopback TCP ports, none of the fixed ones other scripts use.
free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[1]):
    s = socket.socket(); s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    held.append(s)
    if port not in (2379, 2380, 5432, 5434, 5439, 5440, 8080):
        ports.append(port)
print(" ".join(map(str, ports)))
EOF
}

ha_record_pid() { echo "$1 $2" >>"$HA_DIR/pids"; }

# Runs a command as the cluster's owner, exec'd (the pid of the background job is the command's own).
as_pg_owner_exec() {
    local owner; owner=$(pg_owner)
    if [ -n "$owner" ]; then
        # From a directory the owner may enter: Patroni's worker processes go back to the
        # starting directory, and a checkout under a 0700 directory (mktemp -d) is not one.
        cd "$HA_DIR" || cd /
        exec env HOME="$HA_DIR" setpriv --reuid "$owner" --regid "$owner" --init-groups "$@"
    else
        exec "$@"
    fi
}

ha_write_env() {
    cat >"$HA_DIR/ha.env" <<EOF
HA_DIR=$HA_DIR
HA_SCOPE=$HA_SCOPE
HA_BIN=$HA_BIN
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
PG_PORTS="${PG_PORTS[*]}"
API_PORTS="${API_PORTS[*]}"
SERVE_PORTS="${SERVE_PORTS[*]}"
NGINX_PORT=$NGINX_PORT
HA_URL=http://127.0.0.1:$NGINX_PORT
OWNER_URL='$OWNER_URL'
SERVE_URL='$SERVE_URL'
SPSE_SECRETS_KEY_FILE=$HA_DIR/secrets.key
SPSE_AUDIT_KEY_FILE=$HA_DIR/audit.key
SPSE_MIGRATIONS_DIR=$HA_DIR/sql
EOF
}

# --- etcd ---------------------------------------------------------------------------------------
ha_start_etcd() {
    mkdir -p "$HA_DIR/etcd"
    (exec etcd --name ha --data-dir "$HA_DIR/etcd/data" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "ha=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new \
        --enable-v2=true --logger zap --log-level warn) >"$HA_DIR/etcd/etcd.log" 2>&1 </dev/null &
    ha_record_pid etcd $!
    local i
    for i in $(seq 1 100); do
        ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$ETCD_PORT" endpoint health >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    tail -n 20 "$HA_DIR/etcd/etcd.log" >&2
    die "etcd did not start"
}

# --- Patroni ------------------------------------------------------------------------------------
# ttl 10 / loop_wait 2 / retry_timeout 4: a leader that stops renewing loses the key within 10 s.
# primary_start_timeout 0: a crashed primary is failed over at once (to the synchronous standby)
# instead of being restarted in place; it then rejoins as a standby (pg_rewind when it diverged).
ha_patroni_config() {
    local n=$1 pg_port=$2 api_port=$3 dir="$HA_DIR/n$1"
    cat >"$dir/patroni.yml" <<EOF
scope: $HA_SCOPE
namespace: /spse-ha/
name: n$n
log:
  level: INFO
  dir: $dir
  file_num: 2
restapi:
  listen: 127.0.0.1:$api_port
  connect_address: 127.0.0.1:$api_port
etcd3:
  hosts: 127.0.0.1:$ETCD_PORT
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    primary_start_timeout: 0
    synchronous_mode: true
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 128MB
        max_connections: 100
        synchronous_commit: "on"
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
    - username: postgres
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg_port
  connect_address: 127.0.0.1:$pg_port
  data_dir: $dir/data
  bin_dir: $(pg_bindir)
  pgpass: $dir/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: replicator
    rewind:
      username: postgres
      password: postgres
  parameters:
    unix_socket_directories: $dir
    logging_collector: "off"
  pg_ctl_timeout: 60
tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

ha_start_patroni_node() {
    local n=$1 dir="$HA_DIR/n$1"
    (as_pg_owner_exec patroni "$dir/patroni.yml") >>"$dir/patroni.out" 2>&1 </dev/null &
    ha_record_pid "patroni-n$n" $!
}

ha_start_patroni() {
    local owner; owner=$(pg_owner)
    local i
    for i in 1 2 3; do
        mkdir -p "$HA_DIR/n$i"
        chmod 700 "$HA_DIR/n$i"
        ha_patroni_config "$i" "${PG_PORTS[$((i - 1))]}" "${API_PORTS[$((i - 1))]}"
        [ -n "$owner" ] && chown -R "$owner" "$HA_DIR/n$i"
    done
    # The first node bootstraps the cluster; the others clone it with pg_basebackup.
    ha_start_patroni_node 1
    ha_wait_leader 90 >/dev/null || { ha_dump_logs; die "no Patroni leader within 90 s"; }
    ha_start_patroni_node 2
    ha_start_patroni_node 3
    ha_wait_members 3 120 || { ha_dump_logs; die "the standbys did not start streaming within 120 s"; }
}

ha_dump_logs() {
    local f
    for f in "$HA_DIR"/n*/patroni.out "$HA_DIR"/n*/patroni.log; do
        [ -f "$f" ] && { log "--- $f"; tail -n 25 "$f" >&2; }
    done
}

# The members as JSON (Patroni's REST /cluster of any node that answers).
ha_cluster_json() {
    local port
    for port in "${API_PORTS[@]}"; do
        curl -sf --max-time 2 "http://127.0.0.1:$port/cluster" && return 0
    done
    return 1
}

# Prints the leader's name once there is one that runs.
ha_wait_leader() {
    local timeout=$1 deadline=$((SECONDS + $1)) leader
    while [ $SECONDS -lt $deadline ]; do
        leader=$(ha_cluster_json 2>/dev/null | python3 -c '
import json, sys
for m in json.load(sys.stdin).get("members", []):
    if m.get("role") in ("leader", "master", "primary") and m.get("state") == "running":
        print(m["name"])' 2>/dev/null) || true
        [ -n "$leader" ] && { echo "$leader"; return 0; }
        sleep 0.5
    done
    return 1
}

# Waits until COUNT members run, one leader, one synchronous standby, the rest streaming replicas.
ha_wait_members() {
    local count=$1 deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        if ha_cluster_json 2>/dev/null | python3 -c '
import json, sys
members = json.load(sys.stdin).get("members", [])
running = [m for m in members if m.get("state") in ("running", "streaming")]
roles = sorted(m.get("role") for m in running)
ok = len(running) == int(sys.argv[1]) and roles.count("sync_standby") == 1 and \
     sum(r in ("leader", "master", "primary") for r in roles) == 1 and \
     all(m.get("role") in ("leader", "master", "primary") or m.get("lag") in (0, "0") for m in running)
sys.exit(0 if ok else 1)' "$count" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

# --- The database, once ---------------------------------------------------------------------------
ha_multi_host_url() {  # ha_multi_host_url USER
    local hosts ports
    hosts=$(printf '127.0.0.1,%.0s' 1 2 3); hosts=${hosts%,}
    ports=$(IFS=,; echo "${PG_PORTS[*]}")
    echo "host=$hosts port=$ports dbname=spse user=$1 target_session_attrs=read-write connect_timeout=2"
}

ha_prepare_database() {
    local leader_port=$1 psql_leader=(psql -X -q -h 127.0.0.1 -p "$1" -U postgres)
    "${psql_leader[@]}" -d postgres -c "CREATE DATABASE spse" >/dev/null
    # The migrations as they are now, for every command of the rig (a work tree may change under it).
    cp -r "$PROJECT_DIR/sql" "$HA_DIR/sql"
    export SPSE_MIGRATIONS_DIR="$HA_DIR/sql"
    OWNER_URL=$(ha_multi_host_url postgres)
    SERVE_URL=$(ha_multi_host_url spse_app)
    DATABASE_URL=$OWNER_URL "$HA_BIN" migrate --migrations-dir "$HA_DIR/sql" >"$HA_DIR/migrate.log" 2>&1 \
        || { cat "$HA_DIR/migrate.log" >&2; die "migrate failed"; }
    # Served as spse_app, a member of spse_service (sql/005), like scripts/run.
    "${psql_leader[@]}" -d spse -c "CREATE ROLE spse_app LOGIN IN ROLE spse_service" >/dev/null
    # One secrets key and one audit signing key for every instance (and the CLI): files all of
    # them read; the first instance records the secrets key's check value, the others must match.
    export SPSE_SECRETS_KEY_FILE="$HA_DIR/secrets.key"
    DATABASE_URL=$OWNER_URL "$HA_BIN" bootstrap-admin --user-id admin.ppe --name "Budi Santoso" \
        --email budi@purbalinggakab.go.id --agency "LPSE Kabupaten Purbalingga" --json \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["temporary_password"])' >"$HA_DIR/admin-temp" \
        || die "bootstrap-admin failed"
    chmod 600 "$HA_DIR/admin-temp"
    DATABASE_URL=$SERVE_URL "$HA_BIN" audit checkpoint --new-key "$HA_DIR/audit.key" --out "$HA_DIR/checkpoints-cli.jsonl" \
        >"$HA_DIR/checkpoint.log" 2>&1 || { cat "$HA_DIR/checkpoint.log" >&2; die "audit checkpoint --new-key failed"; }
}

# --- serve ×2 -----------------------------------------------------------------------------------
ha_start_serve() {
    local name=$1 port=$2 dir="$HA_DIR/serve-$1"
    mkdir -p "$dir"
    (
        export DATABASE_URL=$SERVE_URL
        export SPSE_SECRETS_KEY_FILE="$HA_DIR/secrets.key"
        export SPSE_AUDIT_KEY_FILE="$HA_DIR/audit.key" SPSE_AUDIT_CHECKPOINT_FILE="$dir/checkpoints.jsonl"
        export SPSE_NOTICE_FILE="$dir/notices.jsonl"
        export SPSE_TRUSTED_PROXIES=127.0.0.1
        exec "$HA_BIN" serve --migrations-dir "$HA_DIR/sql" --host 127.0.0.1 --port "$port"
    ) >"$dir/server.log" 2>&1 </dev/null &
    ha_record_pid "serve-$name" $!
}

ha_wait_ready() {  # ha_wait_ready PORT SECONDS
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        curl -sf --max-time 2 "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}

# --- nginx --------------------------------------------------------------------------------------
ha_start_nginx() {
    local dir="$HA_DIR/nginx"
    mkdir -p "$dir/tmp"
    [ "$(id -u)" = 0 ] && chown nobody "$dir/tmp"
    cat >"$dir/nginx.conf" <<EOF
# The one address clients use: both serve instances behind it. A 503 from one instance is passed
# on as it is (with its Retry-After); only a connection error moves an idempotent request on.
$([ "$(id -u)" = 0 ] && echo "user nobody nogroup;")
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/access.log combined;
    log_format ha '\$msec \$status \$request_method \$request_uri \$upstream_addr \$upstream_status \$request_time';
    access_log $dir/upstream.log ha;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    client_max_body_size 20m;
    upstream spse {
        server 127.0.0.1:${SERVE_PORTS[0]} max_fails=0;
        server 127.0.0.1:${SERVE_PORTS[1]} max_fails=0;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://spse;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_read_timeout 60s;
            proxy_next_upstream error timeout;
        }
    }
}
EOF
    nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" -t >"$dir/test.log" 2>&1 || { cat "$dir/test.log" >&2; die "nginx -t failed"; }
    nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" || die "nginx did not start"
    local i
    for i in $(seq 1 50); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
    ha_record_pid nginx "$(cat "$dir/nginx.pid")"
}

# --- Stop ---------------------------------------------------------------------------------------
# Stops what $HA_DIR/pids lists, newest first: nginx, the serves, Patroni (which stops its
# PostgreSQL), etcd; then any postmaster still running in a node's data directory.
ha_stop_all() {
    local dir=$1 group name pid pids
    [ -f "$dir/pids" ] || return 0
    # One group at a time, all of a group at once: nginx, the serves, Patroni (which stops its
    # PostgreSQL), etcd.
    for group in nginx serve- patroni- etcd; do
        pids=()
        while read -r name pid; do
            case $name in "$group"*) ;; *) continue ;; esac
            kill -0 "$pid" 2>/dev/null || continue
            if [ "$name" = nginx ]; then kill -QUIT "$pid" 2>/dev/null; else kill -TERM "$pid" 2>/dev/null; fi
            pids+=("$pid")
        done <"$dir/pids"
        local i alive
        for i in $(seq 1 150); do
            alive=0
            for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
            [ "$alive" = 0 ] && break
            sleep 0.1
        done
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
    done
    local data
    for data in "$dir"/n*/data; do
        [ -f "$data/postmaster.pid" ] || continue
        as_pg_owner "$(pg_bindir)/pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
    done
    return 0
}
