#!/bin/sh
# api_wrk.sh: requests per second and p99 latency of the RESTCONF API with wrk on loopback, for
# GET /restconf/data/scpd:scp-state (the resource a dashboard polls), first idle, then while four
# `scp -O` downloads run without pause. The client authenticates with a bearer token (one Basic
# login before the run), as the dashboard does: a Basic login costs one scrypt verification.
#
#   bench/api_wrk.sh [SECONDS] [CONNECTIONS]      (defaults 10 s, 16 connections, 2 wrk threads)
#   SCPD_BIN=build/scpd (default) selects the binary.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${SCPD_BIN:-$ROOT/build/scpd}
SECS=${1:-10}
CONNS=${2:-16}
TMP=$(mktemp -d /tmp/scpd-wrk-XXXXXX)
PID=""

cleanup() {
    touch "$TMP/stop"
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

for tool in wrk curl scp; do
    command -v $tool >/dev/null || { echo "api_wrk.sh: $tool is missing (make deps)" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "api_wrk.sh: build $BIN first (make)" >&2; exit 2; }

cat > "$TMP/startup.cfg" <<'EOF'
aaa new-model
aaa authentication login default local
aaa authorization exec default local
username tiger privilege 15 password 0 lab
ip scp server enable
EOF

"$BIN" --data-dir "$TMP/data" --startup-config "$TMP/startup.cfg" --log-level notice \
    --ssh-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 > "$TMP/out" 2> "$TMP/err" &
PID=$!
i=0
while ! grep -q '^http listening' "$TMP/out" || ! grep -q '^ssh listening' "$TMP/out"; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "scpd did not start:" >&2; cat "$TMP/err" >&2; exit 1; }
    sleep 0.1
done
HP=$(sed -n 's/^http listening on .*:\([0-9]*\)$/\1/p' "$TMP/out" | head -1)
SP=$(sed -n 's/^ssh listening on .*:\([0-9]*\)$/\1/p' "$TMP/out" | head -1)
BASE="http://127.0.0.1:$HP"

TOKEN=$(curl -sf -u tiger:lab -X POST "$BASE/restconf/operations/scpd:login" |
        sed -n 's/.*"token": *"\([0-9a-f]*\)".*/\1/p')
[ -n "$TOKEN" ] || { echo "api_wrk.sh: login failed" >&2; exit 1; }
AUTH="Authorization: Bearer $TOKEN"

URL="$BASE/restconf/data/scpd:scp-state"
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "$URL")" != 200 ]; then
    URL="$BASE/restconf/data/Cisco-IOS-XE-native:native/ip/scp"
    echo "note: scpd:scp-state not available; measuring GET of native/ip/scp instead"
fi

run_wrk() {
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "$AUTH" "$URL" > "$TMP/wrk.$1"
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$TMP/wrk.$1")
    p50=$(awk '$1 == "50%" {print $2}' "$TMP/wrk.$1")
    p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.$1")
    errs=$(awk '/Non-2xx|Socket errors/ {print}' "$TMP/wrk.$1")
    printf '%-28s %10s req/s   p50 %8s   p99 %8s  %s\n' "$2" "$rps" "$p50" "$p99" "$errs"
}

echo "GET ${URL#$BASE}, wrk -t2 -c$CONNS -d${SECS}s, bearer token, $(nproc) cores"
run_wrk idle "idle"

# Four downloads of a 1 GiB file to /dev/null, restarted as soon as one ends, for the whole run.
truncate -s 1G "$TMP/data/fs/bootflash/big.bin"
printf '#!/bin/sh\necho lab\n' > "$TMP/askpass"
chmod 700 "$TMP/askpass"
for n in 1 2 3 4; do
    (
        while [ ! -f "$TMP/stop" ]; do
            SSH_ASKPASS="$TMP/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
                scp -O -q -P "$SP" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                -o PubkeyAuthentication=no tiger@127.0.0.1:bootflash:big.bin /dev/null \
                < /dev/null > /dev/null 2>&1 || sleep 0.2
        done
    ) &
done
# wait until the four transfers show up as active
i=0
while :; do
    active=$(curl -s -H "$AUTH" "$BASE/restconf/data/scpd:scp-state" | grep -c '"direction"' || true)
    [ "$active" -ge 4 ] && break
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "note: only $active transfers active" >&2; break; }
    sleep 0.1
done
run_wrk busy "during 4 scp transfers"
active=$(curl -s -H "$AUTH" "$BASE/restconf/data/scpd:scp-state" | grep -c '"direction"' || true)
echo "active transfers at the end of the busy run: $active"
touch "$TMP/stop"
wait_loops=0
while [ "$(jobs -p | wc -l)" -gt 1 ] && [ $wait_loops -lt 100 ]; do
    wait_loops=$((wait_loops + 1)); sleep 0.1
done
