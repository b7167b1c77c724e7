#!/usr/bin/env bash
# Install what the local stack needs, idempotently: Debian packages (PostgreSQL 15, pgTAP,
# pg_prove, pg_cron, plpgsql_check), the pinned Supabase CLI (npm install) and the Python deps (.venv).
# As root it installs Debian packages itself; otherwise it prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(postgresql-15 postgresql-client-15 postgresql-15-pgtap postgresql-15-cron
              postgresql-15-plpgsql-check libtap-parser-sourcehandler-pgtap-perl)
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_packages+=(python3-venv)

missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        echo "devstack: installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        # Debian starts a system cluster on 5432 when it installs postgresql; we never use it.
    else
        echo "devstack: missing packages: ${missing[*]}" >&2
        echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if [[ ! -x node_modules/.bin/supabase || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "devstack: installing the Supabase CLI (npm install, pinned by package-lock.json)"
    # Not `npm ci`: the lock records only this platform's optional CLI binary package, which
    # `npm ci` rejects as out of sync; `npm install` honours the lock and leaves it unchanged.
    npm install --no-audit --no-fund --loglevel=error
fi

if [[ ! -x .venv/bin/python || pyproject.toml -nt .venv/.installed ]]; then
    echo "devstack: installing Python dependencies into .venv"
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    touch .venv/.installed
fi
