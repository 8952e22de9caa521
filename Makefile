# The two commands the README promises: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test lint unit system-deps gateway-venv openclaw-bundle openclaw-schema schema \
	golden clean bench bench-hostile

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

# System tools the tests run for real: shellcheck, systemd-analyze, and for the real-host tests
# systemd-nspawn, mmdebstrap (the container root, cached in /var/cache/openclaw-test), ssh and
# ip; BIND and dig for the DNS tests (named is started by the tests, on loopback only). Installed once; a re-run finds them and skips apt entirely.
system-deps:
	@missing=""; \
	command -v shellcheck >/dev/null || missing="$$missing shellcheck"; \
	command -v systemd-analyze >/dev/null || missing="$$missing systemd"; \
	command -v systemd-nspawn >/dev/null || missing="$$missing systemd-container"; \
	command -v mmdebstrap >/dev/null || missing="$$missing mmdebstrap"; \
	command -v ssh >/dev/null || missing="$$missing openssh-client"; \
	command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	[ -x /usr/sbin/named ] || missing="$$missing bind9"; \
	command -v dig >/dev/null || missing="$$missing bind9-dnsutils"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The real LiteLLM proxy for the gateway tests, at the version openclaw pins (the schema's
# default): its wheels (uploaded to the container hosts, which have no package index) and a
# virtualenv made from them (about 750 MB), cached across runs like the container root.
LITELLM_VERSION := 1.108.7
LITELLM_CACHE := /var/cache/openclaw-test
LITELLM_VENV := $(LITELLM_CACHE)/litellm-venv
LITELLM_WHEELS := $(LITELLM_CACHE)/litellm-wheels
# The test hosts run Debian 12's Python 3.11.2, where redis needs async-timeout
# (python_full_version < "3.11.3"); `pip download --python-version` does not evaluate that
# marker, so the wheel is named here.
HOST_ONLY_WHEELS := 'async-timeout>=4.0.3'
gateway-venv:
	@test -f $(LITELLM_WHEELS)/.complete-$(LITELLM_VERSION) || { \
	  echo "downloading litellm[proxy]==$(LITELLM_VERSION) wheels into $(LITELLM_WHEELS)"; \
	  rm -rf $(LITELLM_WHEELS) && mkdir -p $(LITELLM_WHEELS) && \
	  $(PYTHON) -m pip download -q --only-binary=:all: -d $(LITELLM_WHEELS) \
	    'litellm[proxy]==$(LITELLM_VERSION)' $(HOST_ONLY_WHEELS) 2>&1 | \
	    { grep -v "^WARNING: Location" || true; } && \
	  test -n "$$(ls $(LITELLM_WHEELS)/litellm-*.whl)" && \
	  touch $(LITELLM_WHEELS)/.complete-$(LITELLM_VERSION); }
	@test -f $(LITELLM_VENV)/.installed-$(LITELLM_VERSION) || { \
	  echo "installing litellm[proxy]==$(LITELLM_VERSION) into $(LITELLM_VENV)"; \
	  rm -rf $(LITELLM_VENV) && $(PYTHON) -m venv $(LITELLM_VENV) && \
	  $(LITELLM_VENV)/bin/pip install -q --no-index --find-links $(LITELLM_WHEELS) \
	    'litellm[proxy]==$(LITELLM_VERSION)' && \
	  test -x $(LITELLM_VENV)/bin/litellm && \
	  touch $(LITELLM_VENV)/.installed-$(LITELLM_VERSION); }

# The real OpenClaw the tests run, at the version openclaw pins: Node and OpenClaw from the
# npm registry, built once by openclaw's own bundle builder (about 230 MB packed, 650 MB
# unpacked) and cached like the container root.
OPENCLAW_VERSION := $(shell sed -n 's/^OPENCLAW_VERSION = "\(.*\)".*/\1/p' tools/gen_schema.py)
OPENCLAW_RUNTIME := $(LITELLM_CACHE)/openclaw-runtime
openclaw-bundle: $(STAMP)
	@$(BIN)/openclaw bundle -c tests/integration/runtime.yaml >/dev/null

# OpenClaw's own JSON Schema for its openclaw.json, from the pinned version's real CLI; a test
# fails when the committed copy differs.
openclaw-schema: openclaw-bundle
	HOME=$$(mktemp -d) $(OPENCLAW_RUNTIME)/openclaw-$(OPENCLAW_VERSION)-node-*/bin/openclaw \
	  config schema | gzip -9n > schema/openclaw-json/$(OPENCLAW_VERSION).schema.json.gz

# Obviously fake secrets for the demo hosts under .demo/; real ones come from your environment.
DEMO_SECRETS := GATEWAY_AUTH_TOKEN=demo-gateway-token MINIMAX_API_KEY=demo-minimax-key OPENROUTER_API_KEY=demo-openrouter-key \
	TELEGRAM_BOT_TOKEN=000000:demo-telegram-token TELEGRAM_CHAT_ID=demo-chat \
	LITELLM_MASTER_KEY=demo-litellm-master-key DATABASE_URL=postgresql://demo@127.0.0.1/demo \
	QUEUE_REDIS_URL=redis://127.0.0.1:6379/0

demo: $(STAMP)
	$(BIN)/openclaw validate -c openclaw.yaml -i inventory/local.yaml
	$(BIN)/openclaw compile -c openclaw.yaml -i inventory/local.yaml -o .demo/compiled
	@echo "== plan (exit 2: changes pending) =="
	$(DEMO_SECRETS) $(BIN)/openclaw plan -i inventory/local.yaml || [ $$? -eq 2 ]
	@echo "== apply =="
	$(DEMO_SECRETS) $(BIN)/openclaw apply --yes -i inventory/local.yaml
	@echo "== plan again (exit 0: in sync) =="
	$(DEMO_SECRETS) $(BIN)/openclaw plan -i inventory/local.yaml
	@echo "compiled tree: .demo/compiled; demo hosts: .demo/hosts"

lint: $(STAMP)
	$(BIN)/ruff check src tests tools deploys bench
	$(BIN)/mypy

# Two pytest runs side by side: the real hosts (tests/integration, nspawn) spend most of their
# time waiting on systemd and the gateways, the rest mostly on the CPU; together they take
# the time of the longer one. Each has its own fixed --basetemp: removed at the next run's
# start, and no numbered-directory cleanup at session end (a clean-clone run once died there
# with EMFILE after every test had passed). The hosts' output follows the rest's.
unit: $(STAMP)
	@tmp=$${TMPDIR:-/tmp}; \
	$(BIN)/pytest -q --basetemp=$$tmp/openclaw-pytest-hosts tests/integration \
	  >$$tmp/openclaw-pytest-hosts.log 2>&1 & hosts=$$!; \
	$(BIN)/pytest -q --basetemp=$$tmp/openclaw-pytest --ignore=tests/integration; rest=$$?; \
	wait $$hosts; h=$$?; \
	echo "== tests/integration (real hosts) =="; cat $$tmp/openclaw-pytest-hosts.log; \
	test $$rest -eq 0 && test $$h -eq 0

test: $(STAMP) system-deps gateway-venv openclaw-bundle lint unit

# The benchmark against plain pyinfra and Ansible: its own virtualenv (ansible-core and
# matplotlib are for the benchmark only), as root (hosts live in mount namespaces).
BENCH_VENV := .venv-bench
# 1,000 light hosts are 1,000 sshds (about 5 MB each); Ansible runs at 20 hosts only (minutes
# per job beyond), larger sizes estimated from its per-host cost. The tables and the targets'
# verdicts go into README.md between its bench markers.
BENCH_ARGS ?= --sizes 20,100,1000 --runs 3 --big-runs 1 --ansible-runs 1 --ansible-sizes 20 \
	--pyinfra-sizes 20,100 --nspawn 5 --readme

$(BENCH_VENV)/.installed: pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --upgrade pip
	$(BENCH_VENV)/bin/pip install -q -e . 'ansible-core>=2.19,<2.20' 'matplotlib>=3.8,<4' \
	  'pytest>=8'  # the nspawn round reuses the integration tests' container helpers
	touch $@

bench: $(BENCH_VENV)/.installed system-deps
	$(BENCH_VENV)/bin/python bench/run.py $(BENCH_ARGS)

# Worst-case hostile inputs: time and memory of validate/compile (bench/hostile.md).
bench-hostile: $(STAMP)
	$(BIN)/python bench/hostile.py

schema: $(STAMP)
	$(BIN)/python tools/gen_schema.py

clean:
	rm -rf $(VENV) $(BENCH_VENV) build dist .demo out .mypy_cache .ruff_cache .pytest_cache
