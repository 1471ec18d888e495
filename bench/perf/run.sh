#!/usr/bin/env bash
# run.sh - libchatbotkit vs libcurl against a local nginx; see README.md here.
#
# Started by `make -C bench/perf run` (which builds the programs and installs
# nginx / libcurl headers when missing). Talks only to 127.0.0.1. Every
# client process is bounded by timeout(1); nginx is always stopped at exit.
#
# Environment: N (calls per row, 20000), CG_N (callgrind run, 2000),
# EXTEND_N (100000), COLD_RUNS (20), INFLIGHT (1: also run ../inflight.c),
# RUN_TIMEOUT (seconds per process, 120), REPEAT (runs per row, the best
# kept; 1), LIBDIR, BUILDDIR.
set -u

here=$(cd "$(dirname "$0")" && pwd)
N=${N:-20000}
CG_N=${CG_N:-2000}
EXTEND_N=${EXTEND_N:-100000}
COLD_RUNS=${COLD_RUNS:-20}
INFLIGHT=${INFLIGHT:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
REPEAT=${REPEAT:-1}
LIBDIR=${LIBDIR:-$here/../../target/release}
BUILDDIR=${BUILDDIR:-$here/build}
CBK=$BUILDDIR/cbk_bench
CURL=$BUILDDIR/curl_bench
COLDRUN=$BUILDDIR/coldrun
RESULTS=$here/results.txt
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

for f in "$CBK" "$CURL" "$COLDRUN" "$NGINX"; do
    [ -x "$f" ] || { echo "run.sh: $f missing (run: make -C bench/perf run)" >&2; exit 1; }
done

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
ncpu=$(nproc 2>/dev/null || echo 1)
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null && taskset -c 1 true 2>/dev/null; then
    SERVER_PIN=(taskset -c 0)
    CLIENT_PIN=(taskset -c 1)
    SAME_PIN=(taskset -c 0)
    pin_note="nginx on CPU 0, clients on CPU 1"
else
    SERVER_PIN=()
    CLIENT_PIN=()
    SAME_PIN=()
    pin_note="only $ncpu CPU (or no taskset): nothing pinned, numbers are noisier"
fi

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
    local user_line=
    [ "$(id -u)" = 0 ] && user_line="user root;"
    mkdir -p "$work/nginx/tmp"
    cat > "$work/nginx/nginx.conf" <<EOF
$user_line
worker_processes 1;
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
        listen 127.0.0.1:$1 backlog=16384;
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

run() { # key cmd...
    local key=$1
    shift
    local out=$work/out.$key i line best= best_cps=-1
    printf '  %-24s' "$key" >&2
    for i in $(seq 1 "$REPEAT"); do
        if timeout -k 5 "$RUN_TIMEOUT" "${CUR_PIN[@]}" "$@" >"$out" 2>"$out.err"; then :; else
            echo "FAILED (status $?): $*" >&2
            tail -5 "$out.err" >&2
        fi
        line=$(grep '^RESULT ' "$out" | tail -1)
        [ -n "$line" ] || continue
        # the best of REPEAT runs (by calls/s; for cold start the lowest time)
        if awk -v a="$(get "$line" cps)" -v b="$best_cps" 'BEGIN { exit !(a > b) }'; then
            best=$line
            best_cps=$(get "$line" cps)
        fi
    done
    R[$key]=$best
    if [ -n "${R[$key]}" ]; then
        echo "$(get "${R[$key]}" cps) calls/s, rss $(get "${R[$key]}" rss_kb) KiB, fail $(get "${R[$key]}" fail)" >&2
    fi
}

echo "# libchatbotkit vs libcurl, nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') on $BASE; $pin_note" >&2
CUR_PIN=("${CLIENT_PIN[@]}")
export BENCH_STATUS_URL=$STATUS # seq rows count the connections they open
echo "# warm-up runs (discarded)" >&2
run warm.curl "$CURL" seq "$BASE" 2000
run warm.cbk "$CBK" seq "$BASE" 2000

echo "# rows (N=$N)" >&2
run seq.curl "$CURL" seq "$BASE" "$N"
run seq.cbk "$CBK" seq "$BASE" "$N"
# The same on nginx's CPU: no cross-CPU wake-ups, so the time is the CPU
# cost of client and server together (in a VM a cross-CPU wake-up of an
# idle vCPU can cost more than the whole request).
CUR_PIN=("${SAME_PIN[@]}")
run seqsame.curl "$CURL" seq "$BASE" "$N"
run seqsame.cbk "$CBK" seq "$BASE" "$N"
CUR_PIN=("${CLIENT_PIN[@]}")
for t in 1 4 8; do
    run "threads$t.curl" "$CURL" threads "$BASE" "$t" "$N"
    run "threads$t.cbk" "$CBK" threads "$BASE" "$t" "$N"
done
for c in 1 32 1024; do
    run "async$c.curl" "$CURL" async "$BASE" "$c" "$N"
    run "async$c.cbk" "$CBK" async "$BASE" "$c" "$N"
    run "asyncdrv$c.cbk" "$CBK" async-drv "$BASE" "$c" "$N"
done
run extend.curl "$CURL" extend "$BASE" "$EXTEND_N" "$STATUS" 1000
run extend.cbk "$CBK" extend "$BASE" "$EXTEND_N" "$STATUS" 1000
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

# ---- size ----------------------------------------------------------------------------
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

# ---- inflight (../inflight.c) ----------------------------------------------------------
inflight_rss= inflight_line=
if [ "$INFLIGHT" = 1 ]; then
    printf '  %-24s' "inflight (10,000)" >&2
    # bench/Makefile's own defaults, not this suite's settings
    if timeout -k 5 400 env -u BUILDDIR -u N -u CFLAGS -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
        make --no-print-directory -C "$here/.." inflight N=10000 TIMEOUT=300 \
        LIBDIR="$LIBDIR" >"$work/inflight.out" 2>&1; then :; else
        echo "FAILED:" >&2
        tail -15 "$work/inflight.out" >&2
    fi
    inflight_rss=$(sed -n 's/^peak RSS: *\([0-9]*\) KiB.*/\1/p' "$work/inflight.out")
    inflight_line=$(grep -E '^(tasks|all callbacks|peak threads):' "$work/inflight.out" | tr -s ' ' | paste -sd ';' -)
    echo "peak rss ${inflight_rss:-?} KiB; $inflight_line" >&2
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
echo "# callgrind (N=$CG_N sequential, after warm-up)" >&2
cg_ok=1
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null || cg_ok=0
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
MB=1024
fmt_rate() { [ -n "$1" ] && printf '%.0f' "$1" || printf -- '-'; }
ratio() { # cbk curl
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
pass() { awk -v c="$1" 'BEGIN { print (c ? "PASS" : "MISS") }'; }
rss_mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || printf -- '-'; }

row() { # label curl_line cbk_line target_kind(min ratio) note
    local label=$1 cl=$2 bl=$3 minr=$4 note=${5:-}
    local ccps bcps cus bus crss brss r t rt
    ccps=$(get "$cl" cps); bcps=$(get "$bl" cps)
    cus=$(get "$cl" us); bus=$(get "$bl" us)
    crss=$(get "$cl" rss_kb); brss=$(get "$bl" rss_kb)
    r=$(ratio "$bcps" "$ccps")
    if [ "$r" = - ] || [ "$(get "$bl" fail)" != 0 ] || [ "$(get "$cl" fail)" != 0 ]; then t="MISS(failed)"; else
        t="$(pass "$(awk -v r="$r" -v m="$minr" 'BEGIN { print (r >= m) }')") >=${minr}x"
    fi
    if [ -n "$crss" ] && [ -n "$brss" ]; then
        rt=$(pass "$(awk -v a="$brss" -v b="$crss" 'BEGIN { print (a - b <= 5 * 1024) }')")
    else rt=-; fi
    printf '%-20s %10s %10s %7s %9s %9s %8s %8s  %-14s %-5s %s\n' "$label" "$(fmt_rate "$ccps")" "$(fmt_rate "$bcps")" \
        "$r" "${cus:--}" "${bus:--}" "$(rss_mb "$crss")" "$(rss_mb "$brss")" "$t" "$rt" "$note"
}

{
    echo "libchatbotkit $(sed -n 's/^#define CHATBOTKIT_VERSION "\(.*\)"/\1/p' "$here/../../include/chatbotkit.h") vs libcurl $(curl-config --version 2>/dev/null | cut -d' ' -f2), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)); $pin_note"
    echo "N=$N calls per row (after an in-process warm-up; best of $REPEAT run(s)); ratio = libchatbotkit/libcurl calls/s; RSS = peak RSS of the process (ru_maxrss)"
    echo
    printf '%-20s %10s %10s %7s %9s %9s %8s %8s  %-14s %-5s %s\n' row "curl/s" "cbk/s" ratio "curl us" "cbk us" "curl MB" "cbk MB" "speed target" "RSS" note
    printf '%s\n' "$(printf '%.0s-' $(seq 1 130))"
    row "sequential" "${R[seq.curl]}" "${R[seq.cbk]}" 0.9 \
        "new TCP conns during the run: curl $(get "${R[seq.curl]}" new_conns), cbk $(get "${R[seq.cbk]}" new_conns)"
    row "sequential same-CPU" "${R[seqsame.curl]}" "${R[seqsame.cbk]}" 0.9 \
        "client on nginx's CPU 0: no cross-CPU wake-ups (info; new conns: curl $(get "${R[seqsame.curl]}" new_conns), cbk $(get "${R[seqsame.cbk]}" new_conns))"
    for t in 1 4 8; do
        row "threads T=$t" "${R[threads$t.curl]}" "${R[threads$t.cbk]}" 1.0 \
            "cbk: one shared client; curl: a handle per thread; new conns: curl $(get "${R[threads$t.curl]}" new_conns), cbk $(get "${R[threads$t.cbk]}" new_conns)"
    done
    for c in 1 32 1024; do
        row "async C=$c" "${R[async$c.curl]}" "${R[async$c.cbk]}" 1.0 \
            "cbk: callback starts the next; curl: multi; new conns: curl $(get "${R[async$c.curl]}" new_conns), cbk $(get "${R[async$c.cbk]}" new_conns)"
        row "async-drv C=$c" "${R[async$c.curl]}" "${R[asyncdrv$c.cbk]}" 1.0 \
            "cbk: driver thread + semaphore; new conns: cbk $(get "${R[asyncdrv$c.cbk]}" new_conns)"
    done

    # extend
    ce=${R[extend.curl]}; be=${R[extend.cbk]}
    bns=$(get "$be" ns_per); cns=$(get "$ce" ns_per)
    bpn=$(get "$be" parent_new_conns); bdn=$(get "$be" derived_new_conns)
    cdn=$(get "$ce" derived_new_conns)
    et=$(pass "$(awk -v n="${bns:-1e12}" -v d="${bdn:-1}" 'BEGIN { print (n < 2000 && d == "0") }')")
    printf '%-20s %10s %10s %7s %9s %9s %8s %8s  %-14s %-5s %s\n' "extend+free" "$(fmt_rate "$(get "$ce" cps)")" \
        "$(fmt_rate "$(get "$be" cps)")" "$(ratio "$(get "$be" cps)" "$(get "$ce" cps)")" \
        "$(awk -v n="$cns" 'BEGIN { printf "%.3f", n / 1000 }')" "$(awk -v n="$bns" 'BEGIN { printf "%.3f", n / 1000 }')" \
        "$(rss_mb "$(get "$ce" rss_kb)")" "$(rss_mb "$(get "$be" rss_kb)")" "$et <2us,0conn" "-" \
        "$EXTEND_N pairs; new TCP conns: cbk parent ${bpn:-?}, 1000 derived ${bdn:-?}; curl duphandle+CURLSH ${cdn:-?}"

    # cold start
    cc=${R[cold.curl]}; bc=${R[cold.cbk]}
    bex=$(get "$bc" exec_ms)
    ct=$(pass "$(awk -v e="${bex:-1e9}" 'BEGIN { print (e + 0 < 20 && e != "") }')")
    hf=
    [ -n "${R[hf.cbk]:-}" ] && hf="; hyperfine median wall: curl ${R[hf.curl]:-?} ms, cbk ${R[hf.cbk]} ms"
    printf '%-20s %10s %10s %7s %9s %9s %8s %8s  %-14s %-5s %s\n' "cold start" - - \
        "$(ratio "$(get "$bc" exec_ms)" "$(get "$cc" exec_ms)")" \
        "$(awk -v m="$(get "$cc" exec_ms)" 'BEGIN { printf "%.0f", m * 1000 }')" \
        "$(awk -v m="$bex" 'BEGIN { printf "%.0f", m * 1000 }')" \
        "$(rss_mb "$(get "$cc" rss_kb)")" "$(rss_mb "$(get "$bc" rss_kb)")" "$ct <20ms" \
        "$(pass "$(awk -v a="$(get "$bc" rss_kb)" -v b="$(get "$cc" rss_kb)" 'BEGIN { print (a != "" && b != "" && a - b <= 5120) }')")" \
        "us = exec->first session (median of $COLD_RUNS; ratio is time cbk/curl); main->first: curl $(get "$cc" main_ms) ms, cbk $(get "$bc" main_ms) ms; whole process wall: curl $(get "$cc" wall_ms) ms, cbk $(get "$bc" wall_ms) ms$hf"

    # size
    printf '%-20s %10s %10s %7s %9s %9s %8s %8s  %-14s %-5s %s\n' "size (stripped)" - - \
        "$(ratio "$cbk_size" "$curl_size")" - - "$(rss_mb $((curl_size / 1024)))" "$(rss_mb $((cbk_size / 1024)))" "-" "-" \
        "MB columns = file size: libchatbotkit.so $cbk_size B; $(basename "$curl_so") $curl_size B (+ $curl_deps_size B of libraries it pulls in beyond libc)"

    # inflight
    if [ "$INFLIGHT" = 1 ]; then
        it=$(pass "$(awk -v k="${inflight_rss:-1e12}" 'BEGIN { print (k < 64 * 1024) }')")
        printf '%-20s %10s %10s %7s %9s %9s %8s %8s  %-14s %-5s %s\n' "10,000 in flight" - - - - - - \
            "$(rss_mb "$inflight_rss")" "$it <64MB" "-" "bench/inflight.c vs hold_server.py (1 s hold, not pinned): ${inflight_line:-failed}"
    fi

    # callgrind
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
