# Two commands for a fresh machine: `make run` and `make test`.
# Without DATABASE_URL both start an embedded PostgreSQL in .pgdata/ (dengkou_aid/devdb.py):
# `make run` keeps its data in .pgdata/run, `make test` uses a throw-away one. With
# DATABASE_URL set (as in CI) that server is used instead.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000
PYTEST_ARGS ?= -q
DEVDB := $(BIN)/python -m dengkou_aid.devdb
SUB := $(MAKE) --no-print-directory

.PHONY: run test install lint migrate demo worker beat clean vendor _migrate _seed _serve

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,demo]'

migrate: install
	$(DEVDB) run -- $(SUB) _migrate

demo: install
	$(DEVDB) run -- $(SUB) _migrate _seed

run: install
	$(DEVDB) run -- $(SUB) _migrate _seed _serve

test: install
	$(DEVDB) test -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# The steps above, run with DATABASE_URL set.
_migrate:
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference_data

# HOST=127.0.0.1:8101 make run serves (and prints) that address.
_seed:
	$(BIN)/python manage.py seed_demo --address $(HOST)

_serve:
	@echo "Serving http://$(HOST)/"
	$(BIN)/python manage.py runserver $(HOST)

# Copy the tablet's browser libraries from npm into static/vendor/ (needs node and npm).
vendor:
	vendor/vendor.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

worker: install
	$(BIN)/celery -A dengkou_aid worker -l info --pool=threads --concurrency=2

beat: install
	$(BIN)/celery -A dengkou_aid beat -l info

clean:
	-[ -x $(BIN)/python ] && $(DEVDB) stop
	rm -rf $(VENV) .pgdata media staticfiles
