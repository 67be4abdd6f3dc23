#!/usr/bin/env bash
# A practice's first import: a new PostgreSQL database (never analyzed), migrated, one provider
# and organization, then `carebook import patients FILE` timed (docs/performance.md, "A new
# PostgreSQL database's first import").
# Usage: bench/fresh_import.sh bench_NAME FILE   (TIMEOUT=seconds, default 900; the server at
# 127.0.0.1:5432 as user postgres). The database bench_NAME is dropped first: the name must
# start with bench_, so that no other database can be dropped by a typo.
set -euo pipefail
name=${1:?usage: bench/fresh_import.sh bench_NAME FILE}
file=${2:?usage: bench/fresh_import.sh bench_NAME FILE}
if [[ ! $name =~ ^bench_[a-z0-9_]+$ ]]; then
  echo "the database's name must match bench_[a-z0-9_]+" >&2
  exit 2
fi
psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -qAt \
  -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
export CAREBOOK_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$name"
carebook db upgrade >/dev/null
created=$(carebook provider create --organization Imp --create-organization \
  --email doc@example.com --first-name Doc --last-name Who --json)
org=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["organization_id"])' "$created")
status=0
/usr/bin/time -f "wall %e s, user %U s" timeout "${TIMEOUT:-900}" \
  carebook import patients "$file" --organization-id "$org" || status=$?
echo "patients: $(psql -h 127.0.0.1 -U postgres -d "$name" -Atc \
  "SELECT count(*) FROM users WHERE role = 'patient'")"
if [ "$status" -eq 124 ]; then
  echo "stopped by the timeout (${TIMEOUT:-900} s)"
elif [ "$status" -ne 0 ]; then
  echo "the import failed (status $status)" >&2
  exit "$status"
fi
