#!/usr/bin/env bash
# Fails when the entities describe a schema that the committed migrations do not build:
# applies every migration to a fresh database, then asks TypeORM for the difference.
set -euo pipefail
admin=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
db="berth_migration_check_$$"
psql "$admin" -qc "CREATE DATABASE $db" >/dev/null
trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null' EXIT
url="${admin%/*}/$db"
DATABASE_URL="$url" npm run -s typeorm -- migration:run >/dev/null
if ! DATABASE_URL="$url" npm run -s typeorm -- migration:generate --check --dryrun migrations/Drift; then
  echo "check-migrations: the entities and migrations/ disagree; run 'npm run migration:generate -- migrations/<Name>' and add it to migrations/index.ts" >&2
  exit 1
fi
# Down migrations must work too: revert everything, then apply again.
for _ in $(seq 1 "$(ls migrations/*-*.ts 2>/dev/null | wc -l)"); do DATABASE_URL="$url" npm run -s typeorm -- migration:revert >/dev/null; done
DATABASE_URL="$url" npm run -s typeorm -- migration:run >/dev/null
echo "check-migrations: entities and migrations agree"
