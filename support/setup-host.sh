#!/usr/bin/env bash
# Installs (as root, on Debian) everything `npm test` and `npm run demo` need beyond npm packages:
# the vendor build's tools and sources, PostgreSQL, the Python side of the example apps, and the
# database clients of test/e2e/clients.bats (Python, Ruby, Go; node-postgres comes from npm).
# Safe to run again; quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."
if ((EUID != 0)); then
  echo "setup-host: run as root (it installs Debian packages)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
bash builds/setup-build-host.sh
apt-get install -y -qq --no-install-recommends \
  shellcheck postgresql postgresql-client openssl python3 gunicorn python3-django python3-psycopg2 \
  python3-dj-database-url python3-django-q python3-waitress uwsgi uwsgi-plugin-python3 \
  curl procps util-linux file bc wrk strace \
  python3-pytest python3-pytest-xdist python3-pytest-asyncio python3-pytest-timeout python3-psycopg \
  python3-filelock daphne python3-django-channels python3-websockets \
  python3-sqlalchemy python3-asyncpg python3-django-environ ruby-pg ruby-activerecord \
  golang-go golang-github-lib-pq-dev golang-github-jackc-pgx-v4-dev >/dev/null
id dyno >/dev/null 2>&1 || useradd -m -s /bin/bash dyno
