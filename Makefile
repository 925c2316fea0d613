# sharebench: every target sets up .venv/ from requirements.lock first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

STRATEGY ?= global-lock
PORT     ?= 8000
NAME     ?=

.PHONY: setup test microbench bench serve list new-strategy verify clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sharebench needs Python 3.11+, $(PYTHON) is " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

microbench: $(STAMP)
	@mkdir -p results
	$(BIN)/python -m pytest benchmarks -q --benchmark-json=results/microbench-$$(date +%Y%m%d-%H%M%S).json

bench: $(STAMP)
	@echo "make bench: the load-generation stage is not built yet (issue 3); 'make microbench' and 'sharebench verify' work."

verify: $(STAMP)
	$(BIN)/sharebench verify

serve: $(STAMP)
	$(BIN)/sharebench serve $(STRATEGY) --port $(PORT)

list: $(STAMP)
	$(BIN)/sharebench list

new-strategy: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-strategy NAME=my-strategy"; exit 2; }
	$(BIN)/sharebench new $(NAME)

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks *.egg-info
