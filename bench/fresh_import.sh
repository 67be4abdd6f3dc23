#!/usr/bin/env bash
# A practice's first import: a new PostgreSQL database (never analyzed), migrated, one provider
# and organization, then `carebook import patients FILE` timed (docs/performance.md, "A new
# PostgreSQL database's first import").
# Usage: bench/fresh_import.sh DATABASE_NAME FILE   (TIMEOUT=seconds, default 900; the server
# at 127.0.0.1:5432 as user postgres; DATABASE_NAME is dropped first)
set -euo pipefail
name=$1
file=$2
psql -h 127.0.0.1 -U postgres -qAtc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
export CAREBOOK_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:5432/$name"
carebook db upgrade >/dev/null
carebook provider create --organization Imp --create-organization --email doc@example.com \
  --first-name Doc --last-name Who --json >/dev/null
org=$(psql -h 127.0.0.1 -U postgres -d "$name" -Atc "SELECT id FROM organizations LIMIT 1")
/usr/bin/time -f "wall %e s, user %U s" timeout "${TIMEOUT:-900}" \
  carebook import patients "$file" --organization-id "$org" || true
psql -h 127.0.0.1 -U postgres -d "$name" -Atc "SELECT count(*) AS users FROM users"
