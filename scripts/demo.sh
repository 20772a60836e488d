#!/usr/bin/env bash
# One command: install into .venv, create the SQLite database, seed the demo city, serve.
# Extra arguments go to `hotline demo` (e.g. --port 8080, --host 0.0.0.0).
source "$(dirname "$0")/_venv.sh"
exec .venv/bin/hotline demo "$@"
