#!/bin/sh
# Roster generation, county aggregation and Excel export on a database of its own.
# Usage: benchmarks/bench_disbursement.sh 100000   (then 1000000)
set -e
N=${1:-100000}
DB=${BENCH_DB:-dk_bench}
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$DB
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py bench_disbursement --beneficiaries "$N" -v2
