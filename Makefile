# Two commands set everything up: `make lab` (start the lessons) and `make test` (check everything).
# Both create .venv on first use and reinstall only when a requirements file or pyproject.toml changed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check --quiet -c requirements/constraints.txt
LAB_STAMP := $(VENV)/.installed-lab
TEST_STAMP := $(VENV)/.installed-test
# The classroom (classroom/): JupyterHub and nbgitpuller in .venv, the hub's proxy from npm (versions pinned by
# classroom/package-lock.json) in .classroom/, which also holds a one-machine hub's data by default.
CLASSROOM_STAMP := $(VENV)/.installed-classroom
PROXY := .classroom/node_modules/.bin/configurable-http-proxy
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
# Each lesson's source is its jupytext script, notebooks/NN-name.py; the .ipynb beside it holds the outputs.
SCRIPTS := $(sort $(wildcard notebooks/[0-9]*.py))
# pytest's workers: 2 by default (this project's machines have 2 cores); `make test JOBS=0` runs in one process.
JOBS ?= 2
XDIST := $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist loadscope)
# The tests keep several Python processes busy at once (pytest's workers, their kernels, JupyterLab's kernels), each
# with torch: one OpenMP thread each. With torch's default (a thread per core) their threads wait for each other on
# every small operation: lesson 02's 1,620 output-size checks against torch took 5.4 s instead of 0.05 s on two
# busy cores.
TEST_ENV := OMP_NUM_THREADS=1

.PHONY: lab test test-elsewhere test-classroom classroom lint notebooks screenshots freeze clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --upgrade pip

$(LAB_STAMP): requirements/lab.txt requirements/constraints.txt pyproject.toml | $(BIN)/python
	$(PIP) -r requirements/lab.txt
	$(PIP) --no-deps -e .
	touch $@

$(TEST_STAMP): requirements/test.txt requirements/grading.txt $(LAB_STAMP)
	$(PIP) -r requirements/test.txt
	touch $@

$(CLASSROOM_STAMP): requirements/classroom.txt $(LAB_STAMP)
	$(PIP) -r requirements/classroom.txt
	touch $@

$(PROXY): classroom/package.json classroom/package-lock.json
	@command -v npm >/dev/null || { echo "the hub's proxy comes from npm: install Node.js 20 or newer (apt-get install nodejs npm)"; exit 1; }
	mkdir -p .classroom
	cp classroom/package.json classroom/package-lock.json .classroom/
	npm ci --prefix .classroom --no-audit --no-fund --loglevel=error
	touch $@

## classroom: install JupyterHub, nbgitpuller and the hub's proxy (a hub on one machine: classroom/jupyterhub_config.py)
classroom: $(CLASSROOM_STAMP) $(PROXY)

## lab: start JupyterLab on the lessons (127.0.0.1, token authentication on)
lab: $(LAB_STAMP)
	$(BIN)/cnn-lessons lab

## test: lint, then every test: unit, property, widget, notebook (nbval strict) and browser tests
test: $(TEST_STAMP) lint
	$(TEST_ENV) $(BIN)/python -m pytest $(XDIST) --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --ignore=tests/test_notebooks_elsewhere.py --ignore=tests/test_grading_course.py \
		--ignore=tests/classroom/test_classroom.py --ignore=tests/classroom/test_full_class.py \
		--ignore=tests/classroom/test_rerun_memory.py tests $(NOTEBOOKS)

## test-elsewhere: every lesson once more under nbval, rounded like an older processor (CI runs it after make test)
test-elsewhere: $(TEST_STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(XDIST) tests/test_notebooks_elsewhere.py

.PHONY: test-sweeps
## test-sweeps: the explorers' sweeps over every combination of their controls (make test drives every 7th; CI)
test-sweeps: $(TEST_STAMP)
	$(TEST_ENV) CNN_LESSONS_SWEEPS=all $(BIN)/python -m pytest $(XDIST) -p no:cacheprovider tests/test_explorers_arithmetic.py

.PHONY: mutation
## mutation: mutmut on arithmetic, ops, exercises and the explorers' pictures, each against its own tests (slow)
mutation: $(TEST_STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python tests/mutation.py $(MUTATION)

.PHONY: test-grading
## test-grading: every lesson as an nbgrader assignment: released, three submissions autograded, feedback (CI, after test-elsewhere)
test-grading: $(TEST_STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist load) -rP tests/test_grading_course.py

## test-classroom: a real JupyterHub on loopback: one student's quick tour, then several students running every lesson at once (CI runs it last)
test-classroom: $(TEST_STAMP) classroom
	$(TEST_ENV) CNN_LESSONS_CLASSROOM=required $(BIN)/python -m pytest -p no:cacheprovider tests/classroom/test_classroom.py \
		tests/classroom/test_full_class.py tests/classroom/test_rerun_memory.py

lint: $(TEST_STAMP)
	$(BIN)/ruff check cnn_lessons tests benchmarks notebooks
	$(BIN)/ruff format --check cnn_lessons tests benchmarks

## notebooks: build each lesson from its script and execute it, so the stored outputs are what a fresh run gives
notebooks: $(LAB_STAMP)
	for script in $(SCRIPTS); do $(BIN)/jupytext --quiet --to ipynb --update "$$script" || exit 1; done
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=600 \
		--ExecutePreprocessor.record_timing=False --ExecutePreprocessor.store_widget_state=False \
		$(SCRIPTS:.py=.ipynb)

## screenshots: refresh the README's pictures (assets/screenshots) from the browser tests; tests alone write none
screenshots: $(TEST_STAMP)
	CNN_LESSONS_SCREENSHOTS=assets/screenshots CNN_LESSONS_BROWSER=required $(BIN)/python -m pytest $(XDIST) tests/browser

## freeze: rewrite requirements/constraints.txt from what .venv has now
freeze: $(TEST_STAMP)
	{ sed -n '1,2p' requirements/constraints.txt; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements/constraints.new
	mv requirements/constraints.new requirements/constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# Slides: each lesson as a reveal.js deck in build/slides (git-ignored, as all of build/ is). A deck's scripts,
# the versions nbconvert's template names, come from npm into build/slides/lib, each tarball checked against its
# SHA-256 here, so that the decks open without the internet (only their formulas' MathJax comes from a CDN).
SLIDES_DIR := build/slides
SLIDE_LIBS := reveal.js@4.0.2=0c234d5bfe539606c1af4bcc031f0d21ed99e264d90b7859abad34f7e3a0c587 \
	requirejs@2.1.10=4f951a198b4ea218c75bafe88056056947fb0b72daefcd5f3a022281c5600c60 \
	jquery@2.1.4=7864fddbfbb945d5a0c4abaef7a427ee79e2796d544f2609e5b8b90907b87dff
SLIDE_LIBS_STAMP := $(SLIDES_DIR)/lib/.fetched
.PHONY: slides test-class

$(SLIDE_LIBS_STAMP):
	@command -v npm >/dev/null || { echo "the decks' scripts come from npm: install Node.js (apt-get install nodejs npm)"; exit 1; }
	rm -rf $(SLIDES_DIR)/lib && mkdir -p $(SLIDES_DIR)/lib
	cd $(SLIDES_DIR)/lib && for entry in $(SLIDE_LIBS); do \
		spec=$${entry%%=*}; tarball=$$(npm pack --silent "$$spec") && \
		echo "$${entry#*=}  $$tarball" | sha256sum --check --quiet && \
		mkdir "$${spec%@*}" && tar -xzf "$$tarball" --strip-components=1 -C "$${spec%@*}" && rm "$$tarball" || exit 1; \
	done
	touch $@

## slides: each lesson as a reveal.js deck, build/slides/NN-name.slides.html (not committed; opens offline)
slides: $(LAB_STAMP) $(SLIDE_LIBS_STAMP)
	$(BIN)/cnn-lessons slides $(SLIDES_DIR)

## test-class: what a teacher presents, in full: every animation byte for byte, every lesson's deck in Chromium
test-class: $(TEST_STAMP) $(SLIDE_LIBS_STAMP)
	$(BIN)/cnn-lessons animations --check
	$(TEST_ENV) CNN_LESSONS_DECKS=all $(BIN)/python -m pytest -p no:cacheprovider tests/browser/test_slides.py
