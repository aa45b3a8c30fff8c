# Set-up and checks for a fresh machine. `make demo` runs the main job on the embedded
# default, `make test` runs everything CI runs. Both install what they need first.

VENV    ?= .venv
PY      := $(VENV)/bin/python
UV      := $(VENV)/bin/uv
SYSPY   ?= python3
RUST_SRC := $(shell find reward_rs/src -name '*.rs' 2>/dev/null) Cargo.toml reward_rs/Cargo.toml
# Debian packages the project needs at run or test time (installed only when missing).
DEBS    :=

.PHONY: demo test install debs lint rust-test py-test fmt clean lock

# The main job: the quickstart daemon (tiny model, GRPO on CPU) and the TUI connected to it.
demo: install
	$(VENV)/bin/rlaif-tui --demo

test: install lint rust-test py-test

install: debs $(VENV)/.deps $(VENV)/.ext

debs:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing; \
	fi

# Python dependencies only (not the project: that is the next step, so the Rust extension is
# built once). torch is large: uv keeps it in ~/.cache/uv, so later venvs link it. Versions are
# the tested ones of constraints.txt (`make lock` refreshes it). uv shows its own progress.
$(VENV)/.deps: pyproject.toml constraints.txt
	@echo "==> [1/2] Python dependencies into $(VENV) (first time: a few minutes; torch is linked from uv's cache)"
	test -x $(PY) || $(SYSPY) -m venv $(VENV)
	test -x $(UV) || $(VENV)/bin/pip install --progress-bar on uv
	$(UV) pip install --python $(PY) -r pyproject.toml --extra train --extra eval --extra dev \
		-c constraints.txt
	touch $@

# The Rust extension and the editable package, built once here (and again only when a Rust
# source changes). maturin prints cargo's "Compiling ..." lines as it goes.
$(VENV)/.ext: $(VENV)/.deps $(RUST_SRC)
	@echo "==> [2/2] Rust extension rlaif_tui._reward (release build: about 2 minutes on 2 cores)"
	cd $(CURDIR) && VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release --uv
	touch $@

# Refresh the tested versions after an upgrade that passed `make test`.
lock:
	{ grep '^#' constraints.txt; $(UV) pip freeze --python $(PY) --exclude-editable \
		| grep -v '^rlaif-tui'; } > constraints.txt.new && mv constraints.txt.new constraints.txt

lint: install
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --workspace --all-targets --no-default-features -- -D warnings
	$(VENV)/bin/ruff check rlaif_tui tests
	$(VENV)/bin/ruff format --check rlaif_tui tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m mypy.stubtest rlaif_tui._reward

rust-test:
	cargo test --workspace --no-default-features

py-test: install
	$(VENV)/bin/pytest -q

fmt:
	cargo fmt --all
	$(VENV)/bin/ruff format rlaif_tui tests
	$(VENV)/bin/ruff check --fix rlaif_tui tests

clean:
	rm -rf $(VENV) target
