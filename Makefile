# sharebench: the Python targets set up .venv/ from requirements.lock first; `rust`, `wrk` and
# `chromium` install system packages with apt-get when missing (root, as CI has).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

STRATEGY ?= global-lock
PORT     ?= 8000
NAME     ?=
PROFILE  ?= default
MASTER   ?= 127.0.0.1
RUN       ?= results/latest
THRESHOLD ?= 0.10

# `make bench` overrides: each, when set, replaces that field of the profile.
RUN_FLAGS = --profile $(PROFILE) \
	$(if $(STRATEGIES),--strategies $(STRATEGIES)) $(if $(WORKLOADS),--workloads $(WORKLOADS)) \
	$(if $(CORES),--cores $(CORES)) $(if $(USERS),--users $(USERS)) \
	$(if $(REPEATS),--repeats $(REPEATS)) $(if $(DURATION),--duration $(DURATION)) \
	$(if $(WARMUP),--warmup $(WARMUP)) $(if $(LOADGEN_CPUS),--loadgen-cpus $(LOADGEN_CPUS)) \
	$(if $(ENGINE),--engine $(ENGINE)) $(if $(RATES),--rates $(RATES)) $(if $(BUDGET),--budget $(BUDGET)) \
	$(if $(LIVE_OBJECTS),--live-objects $(LIVE_OBJECTS)) $(if $(NO_ADAPT),--no-adapt) \
	$(if $(TARGET),--target $(TARGET)) $(if $(LOADGEN_WORKERS),--loadgen-workers $(LOADGEN_WORKERS)) \
	$(if $(RESUME),--run $(RESUME)) $(if $(PYTHONS),--pythons $(PYTHONS)) \
	$(if $(SERVER_HOST),--server-host $(SERVER_HOST)) $(if $(SERVER_DIR),--server-dir $(SERVER_DIR)) \
	$(if $(LOAD_HOST),--load-host $(LOAD_HOST)) \
	$(if $(SSH_OPTIONS),--ssh-options "$(SSH_OPTIONS)")

.PHONY: setup test test-fast microbench plan bench calibrate wrk loadgen-worker serve list new-strategy verify clean
.PHONY: report compare chromium soak rust redis c lint docs sshd

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sharebench needs Python 3.11+, $(PYTHON) is " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

test: $(STAMP) chromium wrk rust redis c sshd
	$(BIN)/python -m pytest

# The edit-test loop: the unit-level tests, none that runs load, starts a server or
# repeats a statistical check over many seeds (pytest markers, pyproject.toml).
# `make test` stays the whole suite, and what CI runs (in one process: its load tests
# measure, and must not share the cores with each other); these spread over every core.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "not load and not servers and not slow"

# ruff (pyflakes, pycodestyle errors, bugbear, pyupgrade) and mypy, configured in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The Rust strategies (servers/rust-*/strategy.toml), built offline from Debian's packaged
# crates (servers/rust/.cargo/config.toml): Debian's cargo and rustc and the crates are
# installed when missing (needs root, as CI has); cargo then builds incrementally.
RUST_CRATES := librust-libc-dev librust-tokio-dev
rust:
	@command -v cargo >/dev/null || { apt-get update -qq && apt-get install -y -qq cargo rustc >/dev/null; }
	@test "$$(dpkg-query -W -f='$${Status}\n' $(RUST_CRATES) 2>/dev/null | grep -c 'ok installed')" = 2 \
		|| { apt-get update -qq && apt-get install -y -qq $(RUST_CRATES) >/dev/null; }
	cd servers/rust && cargo build --release --locked --quiet

# The OpenSSH server tests/test_hosts.py runs as a fixture (its own config, keys and port):
# Debian's openssh-server, installed when missing; no daemon is started here.
sshd:
	@test -x /usr/sbin/sshd || { apt-get update -qq && apt-get install -y -qq openssh-server >/dev/null; }

# A C compiler for strategies in C (`sharebench new NAME --language c`; each builds itself
# with its own Makefile into build/c/): Debian's gcc, installed when missing (needs root).
c:
	@command -v cc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc libc6-dev make >/dev/null; }

# docs/reference.md from the code (strategies, profiles, workloads, commands); a test
# fails when it is out of date.
docs: $(STAMP)
	$(BIN)/sharebench docs

# Saved under results/, and attached to the latest run (as microbench.json) for its report.
microbench: $(STAMP) wrk
	@mkdir -p results
	f=results/microbench-$$(date +%Y%m%d-%H%M%S).json; \
	$(BIN)/python -m pytest benchmarks -q --benchmark-json=$$f && \
	if [ -d results/latest ]; then cp $$f results/latest/microbench.json && echo "attached to results/latest"; fi

# The plan of `make bench` with the same overrides: every cell, its CPUs, the estimated
# time; starts nothing. TOPOLOGY_ROOT=<fake sysfs> or MACHINE_CORES=N plan for another machine.
plan: $(STAMP)
	$(BIN)/sharebench run --dry-run $(RUN_FLAGS) \
		$(if $(TOPOLOGY_ROOT),--topology-root $(TOPOLOGY_ROOT)) $(if $(MACHINE_CORES),--machine-cores $(MACHINE_CORES))

# Measures, then writes the run's report (`sharebench run` does both; --no-report skips it).
bench: $(STAMP) wrk
	$(BIN)/sharebench run $(RUN_FLAGS)

# Rebuild a run's report from its stored records alone.
report: $(STAMP)
	$(BIN)/sharebench report --run $(RUN)

compare: $(STAMP)
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make compare A=results/<id1> B=results/<id2> [THRESHOLD=0.10]"; exit 2; }
	$(BIN)/sharebench compare $(A) $(B) --threshold $(THRESHOLD)

# Debian's chromium for the report's browser test; installed only when missing (needs root, as CI has).
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; }

# wrk is the reference load generator: how far below the servers' peak does Locust stay?
calibrate: $(STAMP) wrk
	$(BIN)/sharebench calibrate $(if $(STRATEGIES),--strategies $(STRATEGIES)) $(if $(DURATION),--duration $(DURATION))

# Memory soak, not in CI: every safe strategy at once at a steady rate, RSS sampled
# (results/soak-<stamp>/). DURATION defaults to 10m here; RATE is requests/s per strategy.
soak: $(STAMP)
	$(BIN)/sharebench soak --duration $(or $(DURATION),10m) $(if $(STRATEGIES),--strategies $(STRATEGIES)) $(if $(RATE),--rate $(RATE))

wrk:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

# Debian's redis-server for the Redis strategies (redis-mp, redis-racy): each server
# starts its own (docs/redis.md); installed only when missing (needs root, as CI has).
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }

# A Locust worker for a run on another host (`make bench TARGET=... LOADGEN_WORKERS=n`).
# Locust workers exit when their master does, and every cell has its own master:
# this loop brings the worker back for the next cell until you press Ctrl-C.
loadgen-worker: $(STAMP)
	while true; do $(BIN)/python -m locust -f loadtests/engines/locustfile.py --worker \
		--master-host $(MASTER) $(if $(MASTER_PORT),--master-port $(MASTER_PORT)) \
		--loglevel WARNING || exit 1; sleep 0.5; done

# Every strategy, or STRATEGIES=a,b.
verify: $(STAMP)
	$(BIN)/sharebench verify $(if $(STRATEGIES),--strategies $(STRATEGIES))

serve: $(STAMP)
	$(BIN)/sharebench serve $(STRATEGY) --port $(PORT) $(if $(HOST),--host $(HOST)) $(if $(WORKERS),--workers $(WORKERS))

list: $(STAMP)
	$(BIN)/sharebench list

new-strategy: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make new-strategy NAME=my-strategy [MODEL=threads|async|processes] [LANGUAGE=rust|c]"; exit 2; }
	$(BIN)/sharebench new $(NAME) $(if $(MODEL),--model $(MODEL)) $(if $(LANGUAGE),--language $(LANGUAGE))

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks *.egg-info
