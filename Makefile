# The course pack's commands. `make grade` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
# Debian's Python where there is one: a venv made from it is usable by other system users (hub).
PYTHON ?= $(shell command -v /usr/bin/python3 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready-$(shell cat requirements.txt | md5sum | cut -c1-12)
# npm packages (package-lock.json): axe-core for the accessibility tests, the hub's proxy. The stamp
# holds the lock file's hash, as hub/course_hub.py writes it, so neither reinstalls for the other.
NODE_READY := node_modules/.lab21-stamp
CHROMIUM := /usr/bin/chromium

.PHONY: setup system-packages release grade benchmark test lint clean hub test-hub postgres
.PHONY: load-test test-fast

setup: system-packages $(READY) postgres $(NODE_READY) $(CHROMIUM)

# Debian packages the course needs, pinned: bubblewrap is the sandbox that student code runs in
# while it is graded (coursepack/sandbox.py). Installed when missing (as root), else explained.
DEBIAN_PACKAGES := bubblewrap=0.8.0-2+deb12u1
system-packages:
	@command -v bwrap >/dev/null && command -v setpriv >/dev/null && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "The grading sandbox needs Debian packages: sudo apt-get install $(DEBIAN_PACKAGES)"; \
	  exit 1; fi; \
	echo "Installing $(DEBIAN_PACKAGES) (the grading sandbox)..."; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) util-linux

$(READY): requirements.txt
	@echo "Setting up $(VENV) with the pinned packages (about a minute the first time)..."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# A complete pinned list, so --no-deps: it keeps out what the list leaves out on purpose (see
	# its header; an older venv still has them); `pip check` proves nothing is missing.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
	$(BIN)/pip uninstall --quiet --yes rfc3987-syntax lark 2>/dev/null || true
	$(BIN)/pip check --disable-pip-version-check
	# Make the repo's coursepack package importable in the venv and its kernels.
	echo "$(CURDIR)" > "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/coursepack.pth"
	touch $@

$(NODE_READY): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	sha256sum package-lock.json | cut -c1-16 | tr -d '\n' > $@

# The accessibility tests drive Debian's Chromium with Playwright (which cannot download its own
# browsers here). Installed when missing (as root), else explained.
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "The accessibility tests need Debian's Chromium: sudo apt-get install chromium"; \
	  exit 1; fi; \
	echo "Installing chromium (Debian) for the accessibility tests..."; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium > /dev/null

# Debian's PostgreSQL server binaries: the tests also run the gradebook on a private server
# (coursepack/postgres.py). Installed as root where missing; no system cluster is created or
# started (createcluster.d), the tests start and stop their own.
POSTGRES_PACKAGE := postgresql-15
postgres:
	@test -x /usr/lib/postgresql/15/bin/initdb || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing $(POSTGRES_PACKAGE) (Debian) for the PostgreSQL gradebook tests..."; \
	    mkdir -p /etc/postgresql-common/createcluster.d && \
	    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/lab21.conf && \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $(POSTGRES_PACKAGE) > /dev/null; \
	  else \
	    echo "note: $(POSTGRES_PACKAGE) is missing; as root, 'make setup' installs it" \
	      "(until then the PostgreSQL gradebook tests are skipped)"; \
	  fi; }

# Regenerate release/lab21 from the master notebook with nbgrader (commit the result).
release: setup
	$(BIN)/python -m coursepack.build

# Build the release, autograde the bundled sample class with nbgrader (in parallel), print the
# grades and write the class report (class_report/index.html).
grade: setup
	$(BIN)/python -m coursepack.build
	$(BIN)/python -m coursepack.grade

# Figures for the lab (notebook run time, firstNN), then a class of 48 graded every way side by
# side: serial nbgrader, parallel with cold and warm kernels, with and without the sandbox.
benchmark: setup
	$(BIN)/python -m coursepack.benchmark_lab
	$(BIN)/python -m coursepack.benchmark_class --students 48

lint: setup
	$(BIN)/ruff check .
	$(BIN)/python -m coursepack.notebook_lint

# pytest's own folder (not the shared /tmp/pytest-of-<user>, where runs prune each other's).
# Three pytest-xdist workers: while one grades a class on both cores, the others' tests mostly
# wait (a hub, a browser, a time limit). Tests sharing a class or the hub stay on one worker
# (tests/conftest.py).
# As root, the hub's venvs (for the hub tests) are built beside the course's, not later inside
# the hub tests' lane (hub/course_hub.py waits for this build rather than starting its own).
TEST_WORKERS ?= 3
test:
	mkdir -p build
	@if [ "$$(id -u)" = 0 ] && [ -x /usr/bin/python3 ]; then \
	  /usr/bin/python3 hub/course_hub.py venvs > build/hub-venvs.log 2>&1 & fi; \
	$(MAKE) --no-print-directory setup lint
	$(BIN)/pytest --basetemp=build/pytest --durations=15 -n $(TEST_WORKERS) --dist loadgroup

# The inner loop: everything but what grades classes, starts kernels, browsers or hubs.
test-fast: setup lint
	mkdir -p build
	$(BIN)/pytest --basetemp=build/pytest-fast -m "not slow"

clean:
	rm -rf submitted autograded/*/ autograded/grading_record.json feedback gradebook.db build class_report

# --- The course hub (hub/README.md). Both run as root: the hub's users are system users.
# Start the course hub on 127.0.0.1 with lab21 loaded; prints where to log in and as whom.
# `make hub EXCHANGE=ngshare` uses ngshare (a hub service) instead of a shared folder.
EXCHANGE ?= filesystem
hub:
	/usr/bin/python3 hub/course_hub.py serve --exchange $(EXCHANGE)

# The end-to-end tests on a real hub, with each exchange, and a class of 10 under load (make test
# runs them too: pytest collects tests/test_hub*.py).
# The hub's installs run beside the course venv's (the test's fixture reruns setup: a no-op).
test-hub:
	mkdir -p build
	/usr/bin/python3 hub/course_hub.py setup > build/hub-setup.log 2>&1 & \
	  $(MAKE) --no-print-directory setup && wait $$! || { cat build/hub-setup.log; exit 1; }
	$(BIN)/pytest tests/test_hub.py tests/test_hub_ngshare.py tests/test_hub_load.py

# A class of 50 under load on the real hub, with each exchange (hub/load_class.py; about 15
# minutes each on 2 cores). Prints the figures; build/load-class-*/figures.json keeps them.
# `make test` runs a class of 10 (tests/test_hub_load.py).
LOAD_STUDENTS ?= 50
load-test:
	/usr/bin/python3 hub/course_hub.py setup --load-students $(LOAD_STUDENTS)
	for exchange in filesystem ngshare; do \
	  /srv/lab21-hub/venv/bin/python hub/load_class.py --students $(LOAD_STUDENTS) \
	    --exchange $$exchange --output build/load-class-$$exchange \
	    --json build/load-class-$$exchange/figures.json || exit 1; \
	done
