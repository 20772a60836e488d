#!/usr/bin/env bash
# The test command: install with test extras, lint, then pytest (arguments go to pytest).
# PostgreSQL tests run too when HOTLINE_TEST_DATABASE_URL is set.
HOTLINE_EXTRAS="[test]"
source "$(dirname "$0")/_venv.sh"
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet .
exec .venv/bin/python -m pytest "$@"
