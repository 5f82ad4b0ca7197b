#!/usr/bin/env bash
# make smoke: a newcomer's first minutes, automated. Clones the committed
# repository into a temporary directory, starts the stack with the README's
# command (make local), calls it as the docs do, and stops it with SIGINT
# to its process group, checking that it shuts down by itself. This is not
# a terminal's Ctrl-C (in a script, make starts with SIGINT ignored):
# TestMakeLocalExitsZeroOnCtrlCFromATerminal in cmd/local types Ctrl-C into
# make local under a pseudo-terminal and checks its exit status 0.
#
# COLD=1 starts from empty Go caches (GOCACHE and GOMODCACHE in the
# temporary directory; modules come from GOPROXY as set), as on a fresh
# machine, and reports how long the first `make local` took to answer:
# docs/benchmarks.md quotes that figure.
set -euo pipefail

repo=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
pgid=""
cleanup() {
  if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

for port in 9000 3000 8080; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "smoke: port $port is in use (is make local already running?)" >&2
    exit 1
  fi
done

echo "smoke: cloning $repo"
git clone -q "$repo" "$work/repo"
cd "$work/repo"
echo "smoke: at $(git log --oneline -1 | cut -c1-72)"

if [ "${COLD:-}" = 1 ]; then
  export GOCACHE="$work/gocache" GOMODCACHE="$work/gomodcache" GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
  echo "smoke: empty Go caches ($GOCACHE, $GOMODCACHE), GOPROXY=$(go env GOPROXY)"
fi

echo "smoke: make local"
started=$(date +%s)
setsid make --no-print-directory local >"$work/local.log" 2>&1 &  # (no "Entering directory" line under make smoke)
pgid=$!

fail() {
  echo "smoke: FAIL: $*" >&2
  echo "--- make local's output:" >&2
  tail -40 "$work/local.log" >&2
  exit 1
}

# The first build compiles a few hundred packages: on a fresh 2-core
# machine that takes minutes. Wait as long as make local runs, up to 30
# minutes, saying so every minute.
for i in $(seq 1 3600); do
  curl -fsS -o /dev/null http://localhost:3000/ 2>/dev/null && break
  kill -0 "$pgid" 2>/dev/null || fail "make local exited"
  [ $((i % 120)) -eq 0 ] && echo "smoke: still waiting for make local ($((i / 2)) s; $(tail -1 "$work/local.log"))"
  sleep 0.5
done
curl -fsS -o /dev/null http://localhost:3000/ || fail "the gateway never answered on :3000"
echo "smoke: the gateway answered $(($(date +%s) - started)) s after make local started"
head -1 "$work/local.log" | grep -q "^make local: compiling" || fail "make local did not say it is compiling first"
grep -q "alice" "$work/local.log" || fail "the banner does not list the demo users"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect() {
  local want=$1 what=$2; shift 2
  local got
  got=$(status "$@")
  [ "$got" = "$want" ] || fail "$what: got $got, want $want"
  echo "smoke: ok  $want  $what"
}

TOKEN=$(go run ./cmd/local token) || fail "go run ./cmd/local token"
READ=$(go run ./cmd/local token -scope pets:read) || fail "go run ./cmd/local token -scope pets:read"

expect 200 "GET / (public)" http://localhost:3000/
expect 401 "GET /pets without a token" http://localhost:3000/pets
expect 200 "GET /pets with a token" -H "Authorization: Bearer $TOKEN" http://localhost:3000/pets
expect 200 "GET /Prod/pets (the stage prefix)" -H "Authorization: Bearer $TOKEN" http://localhost:3000/Prod/pets
expect 201 "POST /pets with pets:write" -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"type":"dog","price":249.99}' http://localhost:3000/pets
expect 403 "POST /pets with a read-only token" -X POST -H "Authorization: Bearer $READ" -H 'Content-Type: application/json' \
  -d '{"type":"cat","price":9.99}' http://localhost:3000/pets
expect 200 "GET /me" -H "Authorization: Bearer $READ" http://localhost:3000/me
expect 200 "the IdP's discovery" http://localhost:9000/.well-known/openid-configuration
expect 200 "the web client's home page" http://localhost:8080/
curl -fsS http://localhost:8080/ | grep -qi "sign in" || fail "the web client's home page has no sign-in"
echo "smoke: ok  the web client offers to sign in"

go run ./cmd/local event >/dev/null || fail "go run ./cmd/local event"
grep -q '"type": "TOKEN"' build/event.json || fail "the event for sam local invoke is not a TOKEN event"
echo "smoke: ok  go run ./cmd/local event"
[ -z "$(git status --porcelain)" ] || fail "following the docs changed the clone: $(git status --porcelain)"
echo "smoke: ok  the clone is unchanged (git status)"

echo "smoke: SIGINT to make local's process group"
kill -INT -- "-$pgid"
for _ in $(seq 1 40); do
  kill -0 -- "-$pgid" 2>/dev/null || break
  sleep 0.25
done
if kill -0 -- "-$pgid" 2>/dev/null; then
  fail "make local did not stop within 10 s of SIGINT"
fi
pgid=""
grep -q "stopping" "$work/local.log" || fail "make local did not shut down cleanly"
if grep -q '^make: \*\*\*' "$work/local.log"; then
  fail "make reported an error after SIGINT (the stack did not exit 0)"
fi
echo "smoke: PASS"
