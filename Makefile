# Two commands do everything on a fresh clone (README.md): `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ADDR ?= 127.0.0.1:8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo test migrate check clean bench load

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo
	@echo ""
	@echo "打开 http://$(ADDR)/ （Ctrl-C 停止）"
	$(PY) manage.py runserver $(ADDR)

# The suite in parallel: pytest-xdist with one worker per core, each worker on its own test database
# (pytest-django names them test_<db>_gw0, _gw1…), each cloned from a template migrated once a run
# (tests/db_template.py). In one process: make test TEST_WORKERS=0.
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Benchmarks at provincial scale (bench/README.md): 100,000 projects on SQLite, and on PostgreSQL when
# DATABASE_URL is set; fails when a target is missed. Smaller: make bench BENCH_ARGS="--projects 1000"; CI's
# smoke run (one pair per measure, proves the harness runs): BENCH_ARGS="--projects 1000 --smoke".
bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

# The load harness (bench/load.py, bench/README.md): gunicorn with 4 workers on the PostgreSQL bench databases
# of 1,000 and 100,000 projects, 1 and 8 users per page; fails when a target is missed. Needs DATABASE_URL
# (the PostgreSQL server). CI's run: make load LOAD_ARGS=--ci.
load: install
	$(PY) -m bench.load $(LOAD_ARGS)

check: install
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles media/site-photos
