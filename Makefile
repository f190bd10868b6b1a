# infopack: `make demo` builds and verifies the demo bundle; `make test` runs the tests.
# Both set up everything first: system programs (apt, where missing) and .venv.

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
DEMO    := build/demo
KEYS    := build/demo-keys
export INFOPACK_PASSPHRASE ?= demo-passphrase-not-for-real-use

.PHONY: demo test setup-demo setup-test clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,cluster]'    # cluster: Dask, for the scale-out tests
	touch $(STAMP)

setup-demo:
	@bash scripts/system-deps.sh demo

setup-test:
	@bash scripts/system-deps.sh test

demo: setup-demo $(STAMP)
	$(BIN)/python samples/generate.py samples
	@mkdir -p $(KEYS)
	@[ -f $(KEYS)/curator.key ] || $(BIN)/infopack keygen --role curator --out $(KEYS)/curator
	$(BIN)/infopack build manifests/demo.toml --out $(DEMO) --key $(KEYS)/curator.key
	$(BIN)/infopack verify $(DEMO) --pubkey $(KEYS)/curator.pub
	minisign -Vm $(DEMO)/card-01.manifest.json -p $(KEYS)/curator.pub
	cd $(DEMO)/card-01 && sha256sum -c ../card-01.SHA256SUMS
	$(BIN)/infopack scan $(DEMO)/card-01

test: setup-test $(STAMP)
	$(BIN)/pytest

clean:
	rm -rf build samples/media
