# Two commands for a fresh machine: `make run` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1:8000

.PHONY: run test install lint migrate demo worker beat clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_reference_data

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	$(BIN)/python manage.py runserver $(HOST)

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

worker: install
	$(BIN)/celery -A dengkou_aid worker -l info --pool=threads --concurrency=2

beat: install
	$(BIN)/celery -A dengkou_aid beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles
