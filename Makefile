# Set-up and checks for a fresh machine. `make demo` runs the main job on the embedded
# default, `make test` runs everything CI runs. Both install what they need first.

VENV    ?= .venv
PY      := $(VENV)/bin/python
UV      := $(VENV)/bin/uv
SYSPY   ?= python3
RUST_SRC := $(shell find reward_rs/src -name '*.rs' 2>/dev/null) Cargo.toml reward_rs/Cargo.toml
# Debian packages the project needs at run or test time (installed only when missing).
DEBS    :=

.PHONY: demo test install debs lint rust-test py-test fmt clean

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

# Python dependencies (torch is large: uv keeps it in ~/.cache/uv, so later venvs link it).
$(VENV)/.deps: pyproject.toml
	test -x $(PY) || $(SYSPY) -m venv $(VENV)
	test -x $(UV) || $(VENV)/bin/pip install -q uv
	$(UV) pip install --python $(PY) -q -e '.[train,eval,dev]'
	touch $@

# The Rust extension, rebuilt whenever a Rust source changes.
$(VENV)/.ext: $(VENV)/.deps $(RUST_SRC)
	$(UV) pip install --python $(PY) -q --no-deps --reinstall-package rlaif-tui -e .
	touch $@

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
