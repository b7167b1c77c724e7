# Prompt Manager — the Docker-less local Supabase stack. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
SUPABASE := node_modules/.bin/supabase
DEPS := devstack/install-deps.sh

.PHONY: help deps dev start test status stop reset advisors token types bench

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

deps:  ## Install PostgreSQL 15 + pgTAP + pg_cron (apt, when root), the Supabase CLI (npm) and Python deps (.venv)
	@bash $(DEPS)

dev: deps  ## Start the local stack and serve the API + functions in the foreground (Ctrl-C stops the API)
	@$(PY) -m devstack serve

start: deps  ## Start the local database (create, migrate and seed it on first run) and return
	@$(PY) -m devstack start

test: deps  ## Run pgTAP (pg_prove) and pytest against a throwaway stack
	@$(PY) -m devstack.testrun $(PYTEST_ARGS)

status:  ## Print API_URL, DB_URL, keys and secrets like `supabase status -o env`
	@$(PY) -m devstack status

stop:  ## Stop the local API (`make dev`) and database
	@$(PY) -m devstack stop

reset: deps  ## Destroy and recreate the local database (migrations + seed)
	@$(PY) -m devstack reset

advisors: deps  ## Run the real `supabase db advisors` (security + performance) on the dev DB if it runs, else a throwaway one; fail on WARN/ERROR
	@$(PY) -m devstack.advisors

token: deps  ## Print an access token: make token EMAIL=learner@example.com [ADMIN=1] [WORKSPACE=slug ROLE=viewer]
	@test -n "$(EMAIL)" || { echo "usage: make token EMAIL=you@example.com [ADMIN=1] [WORKSPACE=slug ROLE=role]" >&2; exit 2; }
	@$(PY) -m devstack token --email "$(EMAIL)" $(if $(ADMIN),--admin,) $(if $(WORKSPACE),--workspace "$(WORKSPACE)" --role "$(or $(ROLE),viewer)",)

types: deps  ## Regenerate functions/database_types.py and functions/database.types.ts (`supabase gen types`)
	@$(PY) -m devstack.types --write

bench: deps  ## Run the benchmarks against a throwaway stack; writes bench/results/latest.json
	@$(PY) -m bench $(BENCH_ARGS)

.PHONY: rollback
rollback: deps  ## Roll back the newest N migrations on the dev DB: make rollback STEPS=1
	@$(PY) -m devstack.rollback --steps $(or $(STEPS),1)
