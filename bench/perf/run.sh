#!/usr/bin/env bash
# run.sh - libchatbotkit vs libcurl against a local nginx; see README.md here.
#
# Started by `make -C bench/perf run` (which builds the programs and installs
# nginx / libcurl headers when missing), or by `device.sh run` from a packed
# folder. Talks only to 127.0.0.1. Every client process is bounded by
# timeout(1); nginx is always stopped at exit.
#
# Environment: N (calls per row, 20000), CG_N (callgrind run, 2000),
# EXTEND_N (100000), COLD_RUNS (20), INFLIGHT (1: also run ../inflight.c and
# ../inflight_curl.c; skipped without python3), RUN_TIMEOUT (seconds per
# process, 120), REPEAT (runs per row, curl and cbk alternating, the best
# kept; 1), MANY_CORES (auto: 1 when there are 8 CPUs or more; 1 adds the rows
# that need more than 2 cores), ROWS (the groups to run, default "seq threads
# async extend cold size inflight callgrind"), THREADS_UNPINNED,
# THREADS_PINNED, ASYNC_C (lists overriding the defaults), NGINX_WORKERS
# (default: one per nginx CPU), NGINX, LIBDIR, BUILDDIR, RESULTS (the table's
# file, default results.txt here).
set -u

here=$(cd "$(dirname "$0")" && pwd)
N=${N:-20000}
CG_N=${CG_N:-2000}
EXTEND_N=${EXTEND_N:-100000}
COLD_RUNS=${COLD_RUNS:-20}
INFLIGHT=${INFLIGHT:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
REPEAT=${REPEAT:-1}
MANY_CORES=${MANY_CORES:-auto}
ROWS=" ${ROWS:-seq threads async extend cold size inflight callgrind} "
LIBDIR=${LIBDIR:-$here/../../target/release}
BUILDDIR=${BUILDDIR:-$here/build}
CBK=$BUILDDIR/cbk_bench
CURL=$BUILDDIR/curl_bench
COLDRUN=$BUILDDIR/coldrun
RESULTS=${RESULTS:-$here/results.txt}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

for f in "$CBK" "$CURL" "$COLDRUN" "$NGINX"; do
    [ -x "$f" ] || { echo "run.sh: $f missing (run: make -C bench/perf run)" >&2; exit 1; }
done
want() { [[ $ROWS == *" $1 "* ]]; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cbk-perf.XXXXXX")
nginx_pid=
stop_nginx() {
    [ -n "$nginx_pid" ] || return 0
    kill -TERM "$nginx_pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nginx_pid" 2>/dev/null
    wait "$nginx_pid" 2>/dev/null
    nginx_pid=
}
cleanup() { stop_nginx; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- CPU placement ---------------------------------------------------------
# The CPUs this process may use (a container's cpuset need not start at 0),
# one per line.
allowed_cpus() {
    local list r
    list=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status 2>/dev/null)
    [ -n "$list" ] || list="0-$(($(nproc 2>/dev/null || echo 1) - 1))"
    for r in ${list//,/ }; do
        if [[ $r == *-* ]]; then seq "${r%-*}" "${r#*-}"; else echo "$r"; fi
    done
}
mapfile -t cpus < <(allowed_cpus)
ncpu=${#cpus[@]}
if [ "$MANY_CORES" = auto ]; then
    MANY_CORES=0
    [ "$ncpu" -ge 8 ] && MANY_CORES=1
fi
join_cpus() { local IFS=,; echo "$*"; }
# nginx on the upper half of the CPUs, pinned clients on the lower half:
# with 2 CPUs, one each; with more, nginx gets several workers.
half=$((ncpu / 2))
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null && taskset -c "${cpus[0]}" true 2>/dev/null; then
    client_cpus=$(join_cpus "${cpus[@]:0:half}")
    server_cpus=$(join_cpus "${cpus[@]:half}")
    SERVER_PIN=(taskset -c "$server_cpus")
    CLIENT_PIN=(taskset -c "$client_cpus")
    SAME_PIN=(taskset -c "$server_cpus")
    pinned=1
    nginx_cpus=$((ncpu - half))
    pin_note="nginx on CPU $server_cpus, pinned clients on CPU $client_cpus"
else
    SERVER_PIN=()
    CLIENT_PIN=()
    SAME_PIN=()
    pinned=0
    nginx_cpus=1
    pin_note="only $ncpu CPU (or no taskset): nothing pinned, numbers are noisier"
fi
NGINX_WORKERS=${NGINX_WORKERS:-$nginx_cpus}
pin_note="$pin_note; $NGINX_WORKERS nginx worker(s)"

if [ "$MANY_CORES" = 1 ]; then
    THREADS_UNPINNED=${THREADS_UNPINNED:-1 2 4 8 16}
    THREADS_PINNED=${THREADS_PINNED:-1 2 4 8 16}
else
    THREADS_UNPINNED=${THREADS_UNPINNED:-1 2 4}
    THREADS_PINNED=${THREADS_PINNED:-1 4 8}
fi
ASYNC_C=${ASYNC_C:-32 256 1024}

# ---- nginx -------------------------------------------------------------------
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

SESSION_CONV='{"id":"cs_bench","token":"cbk_ct_bench_token_0123456789","expiresAt":4102444800000}'
SESSION_BOT='{"id":"cs_bench","token":"cbk_ct_bench_token_0123456789","expiresAt":4102444800000,"conversationId":"cv_bench"}'

write_conf() { # port
    local user_line= reuseport=
    [ "$(id -u)" = 0 ] && user_line="user root;"
    # Several workers each accept from a listening socket of their own, so
    # that connections spread over them instead of waking them all.
    [ "$NGINX_WORKERS" -gt 1 ] && reuseport=" reuseport"
    mkdir -p "$work/nginx/tmp"
    cat > "$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes $NGINX_WORKERS;
worker_rlimit_nofile 65536;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events {
    worker_connections 16384;
    multi_accept on;
}
http {
    access_log off;
    server_tokens off;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$1 backlog=16384$reuseport;
        default_type application/json;
        location ~ ^(/api)?/v1/conversation/[^/]+/session/create\$ {
            return 200 '$SESSION_CONV';
        }
        location ~ ^(/api)?/v1/bot/[^/]+/session/create\$ {
            return 200 '$SESSION_BOT';
        }
        location = /nginx_status {
            stub_status;
        }
        location / {
            return 404 '{"message":"not found","code":"NOT_FOUND"}';
        }
    }
}
EOF
}

start_nginx() {
    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        write_conf "$port"
        "${SERVER_PIN[@]}" "$NGINX" -p "$work/nginx/" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" \
            >"$work/nginx/stdout.log" 2>&1 &
        nginx_pid=$!
        for _ in $(seq 1 50); do
            if "$CURL" status "http://127.0.0.1:$port/nginx_status" >/dev/null 2>&1; then
                BASE="http://127.0.0.1:$port"
                STATUS="$BASE/nginx_status"
                return 0
            fi
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "nginx did not start on port $port (attempt $attempt):" >&2
        cat "$work/nginx/error.log" "$work/nginx/stdout.log" >&2 2>/dev/null
        stop_nginx
    done
    return 1
}

start_nginx || { echo "run.sh: could not start nginx" >&2; exit 1; }

# ---- running rows ---------------------------------------------------------------
declare -A R # key -> RESULT line ("" when the run failed)
get() { # line key
    sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"
}

# One run of one program; R[key] keeps the best of the runs so far (by
# calls/s). Rows loop over REPEAT themselves, so that libcurl and
# libchatbotkit alternate and share the machine's slow and fast moments.
run() { # key cmd...
    local key=$1
    shift
    local out=$work/out.$key line
    printf '  %-24s' "$key" >&2
    if timeout -k 5 "$RUN_TIMEOUT" "${CUR_PIN[@]}" "$@" >"$out" 2>"$out.err"; then :; else
        echo "FAILED (status $?): ${CUR_PIN[*]} $*" >&2
        tail -5 "$out.err" >&2
    fi
    line=$(grep '^RESULT ' "$out" | tail -1)
    if [ -z "$line" ]; then
        echo "no RESULT line" >&2
        R[$key]=${R[$key]:-}
        return 0
    fi
    if [ -z "${R[$key]:-}" ] ||
        awk -v a="$(get "$line" cps)" -v b="$(get "${R[$key]}" cps)" 'BEGIN { exit !(a > b) }'; then
        R[$key]=$line
    fi
    echo "$(get "$line" cps) calls/s, cpu $(get "$line" cpu_us) us/call, $(get "$line" csw) context switches/call, rss $(get "$line" rss_kb) KiB, fail $(get "$line" fail)" >&2
}
repeat() { # cmd... : REPEAT times
    local i
    for i in $(seq 1 "$REPEAT"); do "$@"; done
}

cbk_version=$("$CBK" version 2>/dev/null)
curl_version=$("$CURL" version 2>/dev/null)
echo "# libchatbotkit $cbk_version vs libcurl $curl_version, nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') on $BASE; $pin_note; MANY_CORES=$MANY_CORES" >&2
CUR_PIN=("${CLIENT_PIN[@]}")
export BENCH_STATUS_URL=$STATUS # seq rows count the connections they open
echo "# warm-up runs (discarded)" >&2
run warm.curl "$CURL" seq "$BASE" 2000
run warm.cbk "$CBK" seq "$BASE" 2000

echo "# rows (N=$N)" >&2
seq_rows() {
    CUR_PIN=("${CLIENT_PIN[@]}")
    run seq.curl "$CURL" seq "$BASE" "$N"
    run seq.cbk "$CBK" seq "$BASE" "$N"
    # The same on nginx's CPU: no cross-CPU wake-ups, so the time is the CPU
    # cost of client and server together (in a VM a cross-CPU wake-up of an
    # idle vCPU can cost more than the whole request).
    CUR_PIN=("${SAME_PIN[@]}")
    run seqsame.curl "$CURL" seq "$BASE" "$N"
    run seqsame.cbk "$CBK" seq "$BASE" "$N"
}
threads_rows() { # t pin(U|P)
    if [ "$2" = U ]; then CUR_PIN=(); else CUR_PIN=("${CLIENT_PIN[@]}"); fi
    run "threads$2$1.curl" "$CURL" threads "$BASE" "$1" "$N"
    run "threads$2$1.cbk" "$CBK" threads "$BASE" "$1" "$N"
}
# One libcurl multi run is the baseline of all three libchatbotkit
# patterns: a multi loop already is one host thread that waits and restarts.
async_rows() { # c
    CUR_PIN=("${CLIENT_PIN[@]}")
    run "async$1.curl" "$CURL" async "$BASE" "$1" "$N"
    run "asyncwait$1.cbk" "$CBK" async-wait "$BASE" "$1" "$N"
    run "asyncdrv$1.cbk" "$CBK" async-drv "$BASE" "$1" "$N"
    run "asyncchain$1.cbk" "$CBK" async-chain "$BASE" "$1" "$N"
}
if want seq; then repeat seq_rows; fi
if want threads; then
    for t in $THREADS_UNPINNED; do repeat threads_rows "$t" U; done
    for t in $THREADS_PINNED; do repeat threads_rows "$t" P; done
fi
if want async; then
    for c in $ASYNC_C; do repeat async_rows "$c"; done
fi
CUR_PIN=("${CLIENT_PIN[@]}")
if want extend; then
    run extend.curl "$CURL" extend "$BASE" "$EXTEND_N" "$STATUS" 1000
    run extend.cbk "$CBK" extend "$BASE" "$EXTEND_N" "$STATUS" 1000
fi
if want cold; then
    run cold.curl "$COLDRUN" curl "$COLD_RUNS" "$CURL" cold "$BASE"
    run cold.cbk "$COLDRUN" cbk "$COLD_RUNS" "$CBK" cold "$BASE"
    if command -v hyperfine >/dev/null; then
        for p in curl cbk; do
            bin=$CURL; [ $p = cbk ] && bin=$CBK
            timeout "$RUN_TIMEOUT" "${CLIENT_PIN[@]}" hyperfine -N -w 3 -r "$COLD_RUNS" --export-json "$work/hf.$p.json" \
                "$bin cold $BASE" >/dev/null 2>&1 &&
                R[hf.$p]=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f" % (r["median"]*1e3))' "$work/hf.$p.json" 2>/dev/null)
        done
    fi
fi

# ---- size ----------------------------------------------------------------------------
size_ok=0
if want size && command -v strip >/dev/null; then
    so=$LIBDIR/libchatbotkit.so
    strip -o "$work/libchatbotkit.stripped.so" "$so"
    cbk_size=$(stat -c %s "$work/libchatbotkit.stripped.so")
    curl_so=$(ldd "$CURL" | awk '/libcurl/ {print $3; exit}')
    curl_so=$(readlink -f "$curl_so")
    strip -o "$work/libcurl.stripped.so" "$curl_so"
    curl_size=$(stat -c %s "$work/libcurl.stripped.so")
    # libcurl's own dependencies beyond what every program has (libc, libm, the loader...)
    curl_deps_size=0
    for lib in $(ldd "$curl_so" | awk '$3 ~ /^\// {print $3}'); do
        case $(basename "$lib") in libc.so*|libm.so*|ld-linux*|libpthread*|libdl.so*|libgcc_s*|librt.so*) continue;; esac
        curl_deps_size=$((curl_deps_size + $(stat -c %s "$(readlink -f "$lib")")))
    done
    size_ok=1
fi

# ---- in flight (../inflight.c, ../inflight_curl.c) -----------------------------------
inflight_ok=0
declare -A IF # prog -> INFLIGHT line
if want inflight && [ "$INFLIGHT" = 1 ]; then
    if ! command -v python3 >/dev/null || [ ! -f "$here/../hold_server.py" ]; then
        echo "  inflight (10,000)         skipped: needs python3 and ../hold_server.py" >&2
    else
        inflight_ok=1
        printf '  %-24s' "inflight (10,000)" >&2
        # bench/Makefile's own defaults, not this suite's settings; cbk, then
        # curl, against one hold_server.
        if timeout -k 5 700 env -u BUILDDIR -u N -u CFLAGS -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
            make --no-print-directory -C "$here/.." inflight-pair N=10000 TIMEOUT=300 \
            LIBDIR="$LIBDIR" >"$work/inflight.out" 2>&1; then :; else
            echo "FAILED:" >&2
            tail -15 "$work/inflight.out" >&2
        fi
        for p in cbk curl; do
            IF[$p]=$(grep "^INFLIGHT prog=$p " "$work/inflight.out" | tail -1)
        done
        echo "peak rss: cbk $(get "${IF[cbk]}" rss_kb) KiB, curl $(get "${IF[curl]}" rss_kb) KiB" >&2
        # The same over HTTP/2 (TLS): ../h2_hold_server.rs, a cargo example.
        printf '  %-24s' "inflight h2 (10,000)" >&2
        if timeout -k 5 900 env -u BUILDDIR -u N -u CFLAGS -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
            make --no-print-directory -C "$here/.." inflight-h2 N=10000 TIMEOUT=300 \
            LIBDIR="$LIBDIR" >"$work/inflight-h2.out" 2>&1; then :; else
            echo "FAILED:" >&2
            tail -15 "$work/inflight-h2.out" >&2
        fi
        IF[h2]=$(grep "^INFLIGHT prog=cbk " "$work/inflight-h2.out" | tail -1)
        IF[h2fds]=$(sed -n 's/^open fds: *\([0-9]*\) after all callbacks.*/\1/p' "$work/inflight-h2.out" | tail -1)
        echo "peak rss: cbk $(get "${IF[h2]}" rss_kb) KiB, $(get "${IF[h2]}" ok) ok, ${IF[h2fds]:-?} fds" >&2
    fi
fi

# ---- callgrind ---------------------------------------------------------------------------
cg_part() { # file -> total Ir of that dump
    awk '/^(summary|totals):/ {print $2; exit}' "$1"
}
cg_sum() { # prog: Ir of every dump of the run
    local total=0 f v
    for f in "$work"/cg."$1".[0-9]*; do
        case $f in *.clean) continue;; esac
        v=$(cg_part "$f")
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
cg_incl() { # file function -> inclusive Ir
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v fn="$2" '{ for (i = 2; i <= NF; i++) if ($i ~ (":" fn "$") || $i == fn) { gsub(",", "", $1); print $1; exit } }'
}
cg_loop_file() { # prog -> the dump of the timed loop (the second dump), cleaned
    local f
    f=$(ls "$work"/cg."$1".*.2 2>/dev/null | head -1)
    [ -n "$f" ] || return 0
    # A dump taken while calls are still active (main, the runtime's worker
    # loops) records them as `calls=0` entries whose cost callgrind_annotate
    # then counts as the caller's own: drop those entries, so exclusive
    # costs add up to the total again.
    awk '/^calls=0 / { skip = 1; next } skip { skip = 0; next } { print }' "$f" >"$f.clean"
    echo "$f.clean"
}
# Exclusive Ir grouped by shared object, for a dump.
cg_by_object() {
    callgrind_annotate --threshold=100 "$1" 2>/dev/null |
        awk -v n="$2" '/\[.*\]$/ { v = $1; gsub(",", "", v); o = $NF; gsub(/[\[\]]/, "", o); sub(/.*\//, "", o); s[o] += v }
             END { for (o in s) printf "%14.0f  %s\n", s[o] / n, o }' | sort -rn | head -8
}
# callgrind_annotate function lines on stdin -> "Ir-per-call  function [object]"
cg_top() { # count object-regex
    awk -v n="$CG_N" -v max="$1" -v re="$2" '
        /\[.*\]$/ && $0 ~ re && c < max {
            v = $1; gsub(",", "", v); line = $0
            sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
            sub(/^\?\?\?:/, "", line)
            obj = line; sub(/.*\[/, "", obj); sub(/\]$/, "", obj); sub(/.*\//, "", obj)
            sub(/ \[[^]]*\]$/, "", line)
            printf "    %10.0f  %s [%s]\n", v / n, substr(line, 1, 140), obj; c++ }'
}
cg_ok=0
if want callgrind; then
    echo "# callgrind (N=$CG_N sequential, after warm-up)" >&2
    cg_ok=1
    command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || cg_ok=0
fi
if [ $cg_ok = 1 ]; then
    for p in curl cbk; do
        bin=$CURL; [ $p = cbk ] && bin=$CBK
        printf '  %-24s' "callgrind.$p" >&2
        if timeout -k 5 600 "${CLIENT_PIN[@]}" valgrind --tool=callgrind --callgrind-out-file="$work/cg.$p.%p" \
            "$bin" seq "$BASE" "$CG_N" >"$work/cg.$p.out" 2>"$work/cg.$p.err"; then
            echo "done" >&2
        else
            echo "FAILED" >&2
            tail -5 "$work/cg.$p.err" >&2
        fi
    done
fi

stop_nginx

# ---- the table -----------------------------------------------------------------------------
fmt_rate() { [ -n "$1" ] && printf '%.0f' "$1" || printf -- '-'; }
ratio() { # cbk curl
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
pass() { awk -v c="$1" 'BEGIN { print (c ? "PASS" : "MISS") }'; }
rss_mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || printf -- '-'; }
cpu_fmt() { [ -n "$1" ] && printf '%.1f' "$1" || printf -- '-'; }
LINE_FMT='%-24s %10s %10s %6s %9s %9s %8s %8s  %-14s %-5s %s\n'

row() { # label curl_line cbk_line target_kind(min ratio) note
    local label=$1 cl=$2 bl=$3 minr=$4 note=${5:-}
    local ccps bcps crss brss r t rt
    ccps=$(get "$cl" cps); bcps=$(get "$bl" cps)
    crss=$(get "$cl" rss_kb); brss=$(get "$bl" rss_kb)
    r=$(ratio "$bcps" "$ccps")
    if [ "$r" = - ] || [ "$(get "$bl" fail)" != 0 ] || [ "$(get "$cl" fail)" != 0 ]; then t="MISS(failed)"; else
        t="$(pass "$(awk -v r="$r" -v m="$minr" 'BEGIN { print (r >= m) }')") >=${minr}x"
    fi
    if [ -n "$crss" ] && [ -n "$brss" ]; then
        rt=$(pass "$(awk -v a="$brss" -v b="$crss" 'BEGIN { print (a - b <= 5 * 1024) }')")
    else rt=-; fi
    printf "$LINE_FMT" "$label" "$(fmt_rate "$ccps")" "$(fmt_rate "$bcps")" \
        "$r" "$(cpu_fmt "$(get "$cl" cpu_us)")" "$(cpu_fmt "$(get "$bl" cpu_us)")" "$(rss_mb "$crss")" "$(rss_mb "$brss")" \
        "$t" "$rt" "$note"
}
conns() { # curl_line cbk_line
    echo "new conns: curl $(get "$1" new_conns), cbk $(get "$2" new_conns)"
}

{
    echo "libchatbotkit $cbk_version vs libcurl $curl_version, $(date -u '+%Y-%m-%d %H:%M UTC'), $ncpu CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $pin_note; MANY_CORES=$MANY_CORES"
    echo "N=$N calls per row (after an in-process warm-up; best of $REPEAT run(s), libcurl and libchatbotkit alternating); ratio = libchatbotkit/libcurl calls/s;"
    echo "cpu = user+sys time of the client process over the timed phase / calls (us, getrusage); MB = peak RSS of the process (ru_maxrss)"
    echo
    printf "$LINE_FMT" row "curl/s" "cbk/s" ratio "curl cpu" "cbk cpu" "curl MB" "cbk MB" "speed target" "RSS" note
    printf '%s\n' "$(printf '%.0s-' $(seq 1 130))"
    if want seq; then
        row "sequential" "${R[seq.curl]}" "${R[seq.cbk]}" 0.9 \
            "client pinned; $(conns "${R[seq.curl]}" "${R[seq.cbk]}")"
        row "sequential same-CPU" "${R[seqsame.curl]}" "${R[seqsame.cbk]}" 0.9 \
            "client on nginx's CPU ${server_cpus:-any}: no cross-CPU wake-ups (info; $(conns "${R[seqsame.curl]}" "${R[seqsame.cbk]}"))"
    fi
    if want threads; then
        for t in $THREADS_UNPINNED; do
            row "threads T=$t unpinned" "${R[threadsU$t.curl]}" "${R[threadsU$t.cbk]}" 1.0 \
                "client not pinned; cbk: one shared client, curl: a handle per thread; $(conns "${R[threadsU$t.curl]}" "${R[threadsU$t.cbk]}")"
        done
        for t in $THREADS_PINNED; do
            row "threads T=$t pinned" "${R[threadsP$t.curl]}" "${R[threadsP$t.cbk]}" 1.0 \
                "client on CPU ${client_cpus:-any}; $(conns "${R[threadsP$t.curl]}" "${R[threadsP$t.cbk]}")"
        done
    fi
    if want async; then
        for c in $ASYNC_C; do
            row "async wait C=$c" "${R[async$c.curl]}" "${R[asyncwait$c.cbk]}" 1.0 \
                "cbk: host thread, cbk_task_wait on the oldest, starts the next; curl: multi; $(conns "${R[async$c.curl]}" "${R[asyncwait$c.cbk]}")"
            row "async wait-cb C=$c" "${R[async$c.curl]}" "${R[asyncdrv$c.cbk]}" 1.0 \
                "cbk: host thread waits on a semaphore the callbacks post, starts the next; new conns: cbk $(get "${R[asyncdrv$c.cbk]}" new_conns)"
            row "async chain C=$c" "${R[async$c.curl]}" "${R[asyncchain$c.cbk]}" 1.0 \
                "cbk: the callback starts the next; new conns: cbk $(get "${R[asyncchain$c.cbk]}" new_conns)"
        done
    fi

    if want extend; then
        ce=${R[extend.curl]}; be=${R[extend.cbk]}
        bns=$(get "$be" ns_per)
        bpn=$(get "$be" parent_new_conns); bdn=$(get "$be" derived_new_conns)
        cdn=$(get "$ce" derived_new_conns)
        et=$(pass "$(awk -v n="${bns:-1e12}" -v d="${bdn:-1}" 'BEGIN { print (n < 2000 && d == "0") }')")
        printf "$LINE_FMT" "extend+free" "$(fmt_rate "$(get "$ce" cps)")" \
            "$(fmt_rate "$(get "$be" cps)")" "$(ratio "$(get "$be" cps)" "$(get "$ce" cps)")" \
            "$(cpu_fmt "$(get "$ce" cpu_us)")" "$(cpu_fmt "$(get "$be" cpu_us)")" \
            "$(rss_mb "$(get "$ce" rss_kb)")" "$(rss_mb "$(get "$be" rss_kb)")" "$et <2us,0conn" "-" \
            "$EXTEND_N pairs (cpu = per pair; wall: curl $(get "$ce" us) us, cbk $(get "$be" us) us); new TCP conns: cbk parent ${bpn:-?}, 1000 derived ${bdn:-?}; curl duphandle+CURLSH ${cdn:-?}"
    fi

    if want cold; then
        cc=${R[cold.curl]}; bc=${R[cold.cbk]}
        bex=$(get "$bc" exec_ms)
        ct=$(pass "$(awk -v e="${bex:-1e9}" 'BEGIN { print (e + 0 < 20 && e != "") }')")
        hf=
        [ -n "${R[hf.cbk]:-}" ] && hf="; hyperfine median wall: curl ${R[hf.curl]:-?} ms, cbk ${R[hf.cbk]} ms"
        printf "$LINE_FMT" "cold start" - - \
            "$(ratio "$(get "$bc" exec_ms)" "$(get "$cc" exec_ms)")" \
            "$(cpu_fmt "$(get "$cc" cpu_us)")" "$(cpu_fmt "$(get "$bc" cpu_us)")" \
            "$(rss_mb "$(get "$cc" rss_kb)")" "$(rss_mb "$(get "$bc" rss_kb)")" "$ct <20ms" \
            "$(pass "$(awk -v a="$(get "$bc" rss_kb)" -v b="$(get "$cc" rss_kb)" 'BEGIN { print (a != "" && b != "" && a - b <= 5120) }')")" \
            "cpu = the whole process (median of $COLD_RUNS); exec->first session: curl $(get "$cc" exec_ms) ms, cbk $bex ms (ratio: cbk/curl time); main->first: curl $(get "$cc" main_ms) ms, cbk $(get "$bc" main_ms) ms; whole process wall: curl $(get "$cc" wall_ms) ms, cbk $(get "$bc" wall_ms) ms$hf"
    fi

    if [ $size_ok = 1 ]; then
        printf "$LINE_FMT" "size (stripped)" - - \
            "$(ratio "$cbk_size" "$curl_size")" - - "$(rss_mb $((curl_size / 1024)))" "$(rss_mb $((cbk_size / 1024)))" "-" "-" \
            "MB columns = file size: libchatbotkit.so $cbk_size B; $(basename "$curl_so") $curl_size B (+ $curl_deps_size B of libraries it pulls in beyond libc)"
    fi

    if [ $inflight_ok = 1 ]; then
        ic=${IF[curl]}; ib=${IF[cbk]}
        irss=$(get "$ib" rss_kb); crss=$(get "$ic" rss_kb)
        it=$(pass "$(awk -v k="${irss:-1e12}" -v f="$(get "$ib" fail)" 'BEGIN { print (k < 64 * 1024 && f == "0") }')")
        rt=-
        [ -n "$irss" ] && [ -n "$crss" ] && rt=$(pass "$(awk -v a="$irss" -v b="$crss" 'BEGIN { print (a - b <= 5 * 1024) }')")
        printf "$LINE_FMT" "10,000 in flight" - - "$(ratio "$irss" "$crss")" \
            "$(cpu_fmt "$(get "$ic" cpu_us)")" "$(cpu_fmt "$(get "$ib" cpu_us)")" "$(rss_mb "$crss")" "$(rss_mb "$irss")" \
            "$it <64MB" "$rt" \
            "ratio = peak RSS cbk/curl; hold_server.py holds 1 s, not pinned; cbk inflight.c: ok $(get "$ib" ok), last callback $(get "$ib" last_ms) ms, peak threads $(get "$ib" peak_threads); curl inflight_curl.c (multi+epoll): ok $(get "$ic" ok), last $(get "$ic" last_ms) ms, peak threads $(get "$ic" peak_threads)"
    fi

    if [ $inflight_ok = 1 ] && [ -n "${IF[h2]:-}" ]; then
        ih=${IF[h2]}
        hrss=$(get "$ih" rss_kb)
        ht=$(pass "$(awk -v k="${hrss:-1e12}" -v f="$(get "$ih" fail)" 'BEGIN { print (k < 64 * 1024 && f == "0") }')")
        printf "$LINE_FMT" "10,000 in flight, HTTP/2" - - - \
            - "$(cpu_fmt "$(get "$ih" cpu_us)")" - "$(rss_mb "$hrss")" \
            "$ht <64MB" - \
            "TLS + ALPN h2 to h2_hold_server (holds 1 s); ok $(get "$ih" ok), last callback $(get "$ih" last_ms) ms, open fds after: ${IF[h2fds]:-?} (one connection)"
    fi

    if [ $cg_ok = 1 ]; then
        echo
        echo "callgrind: instructions (Ir) per create call, sequential, N=$CG_N after warm-up, all threads"
        printf '  %-44s %14s %14s\n' "" "libcurl" "libchatbotkit"
        cl=$(cg_loop_file curl); bl=$(cg_loop_file cbk)
        printf '  %-44s %14s %14s\n' "whole process (every dump) / N" \
            "$(awk -v t="$(cg_sum curl)" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')" \
            "$(awk -v t="$(cg_sum cbk)" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')"
        if [ -n "$cl" ] && [ -n "$bl" ]; then
            printf '  %-44s %14s %14s\n' "timed loop only / N" \
                "$(awk -v t="$(cg_part "$cl")" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')" \
                "$(awk -v t="$(cg_part "$bl")" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')"
            ci=$(cg_incl "$cl" curl_easy_perform)
            bi=$(cg_incl "$bl" cbk_conversation_session_client_create)
            printf '  %-44s %14s %14s\n' "the call, inclusive, caller's thread / N" \
                "$(awk -v t="${ci:-0}" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')" \
                "$(awk -v t="${bi:-0}" -v n="$CG_N" 'BEGIN { printf "%.0f", t / n }')"
            echo "  (the call = curl_easy_perform / cbk_conversation_session_client_create; with no other thread in the"
            echo "   library, its socket I/O and HTTP parsing run on the caller's thread, inside the call)"
            echo
            echo "  timed loop, Ir per call by shared object (exclusive):"
            echo "    libcurl:";       cg_by_object "$cl" "$CG_N" | sed 's/^/    /'
            echo "    libchatbotkit:"; cg_by_object "$bl" "$CG_N" | sed 's/^/    /'
            echo
            echo "  libchatbotkit, timed loop: top functions by exclusive Ir per call (all objects)"
            callgrind_annotate --threshold=100 "$bl" 2>/dev/null | cg_top 25 .
            echo
            echo "  libchatbotkit, timed loop: top functions of libchatbotkit.so by inclusive Ir per call"
            callgrind_annotate --inclusive=yes --threshold=100 "$bl" 2>/dev/null | cg_top 25 'libchatbotkit\.so\]$'
        else
            echo "  (callgrind dumps missing; see $work)"
        fi
    fi
} >"$RESULTS.tmp"

mv "$RESULTS.tmp" "$RESULTS"
echo >&2
cat "$RESULTS"
echo
echo "(written to $RESULTS)"
