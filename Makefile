# Vigil: `make run` runs the main job on embedded defaults; `make test` passes the tests.
# Both install what they need (Debian packages, a Python virtual environment) idempotently.

SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libpng-dev libtiff-dev libdcmtk-dev libjpeg-dev libsqlite3-dev dcmtk libtiff-tools time curl chromium openssl
VENV := .venv
PYTHON := $(VENV)/bin/python
VIGIL := .build/debug/vigil
VIGIL_RELEASE := .build/release/vigil
SAMPLES := ScannerProfiles/samples

.PHONY: run test deps venv build swift-test python-test fuzz models clean

# Installs only the Debian packages that are missing; quiet when all are present.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The virtual environment is rebuilt only when its requirements change.
$(VENV)/.installed: Tests/python/requirements.txt
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	@$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/python/requirements.txt
	@touch $@

venv: $(VENV)/.installed

build: deps
	swift build

# The main job on embedded defaults: `vigil serve` (native ingest 7300, HTTP 8080, data in
# ./vigil-data, the bundled models and profiles). Once it listens, simulated cargo, parcel,
# vehicle and CT scans are pushed to it with `vigil push` and their results printed. It then
# keeps serving until Ctrl-C (or for RUN_SECONDS, when set), and stops gracefully.
DEMO := vigil-data/demo
RUN_SECONDS ?=
run: deps
	swift build -c release
	@mkdir -p vigil-data/preprocessed
	@for f in $(SAMPLES)/*.tiff $(SAMPLES)/*.dcm; do \
		profile=$$(basename $$f | sed 's/\.[a-z]*$$//'); \
		$(VIGIL_RELEASE) image preprocess $$f --profile $$profile vigil-data/preprocessed/$$profile.npy >/dev/null || exit 1; \
	done
	@echo "== vigil synth: simulated scans with ground truth in $(DEMO)/*/labels.json"
	@$(VIGIL_RELEASE) synth --kind cargo --count 4 --seed 77 --out $(DEMO)/cargo >/dev/null
	@$(VIGIL_RELEASE) synth --kind parcel --count 4 --seed 77 --out $(DEMO)/parcel >/dev/null
	@$(VIGIL_RELEASE) synth --kind vehicle --count 2 --seed 77 --out $(DEMO)/vehicle >/dev/null
	@$(VIGIL_RELEASE) synth --kind parcel-ct --count 1 --seed 77 --out $(DEMO)/parcel-ct >/dev/null
	@echo "== vigil serve (Ctrl-C stops it after finishing the scans in flight)"
	@$(VIGIL_RELEASE) serve --data vigil-data & pid=$$!; \
	trap 'kill -TERM $$pid 2>/dev/null; wait $$pid; exit 0' INT TERM; \
	for i in $$(seq 100); do curl -sf http://127.0.0.1:8080/healthz >/dev/null && break; \
		kill -0 $$pid 2>/dev/null || { wait $$pid; exit 1; }; sleep 0.2; done; \
	echo "== vigil push: each scan's result"; \
	$(VIGIL_RELEASE) push $(DEMO)/cargo/*.tiff --profile cargo-de-linac --site demo --station demo-gate && \
	$(VIGIL_RELEASE) push $(DEMO)/parcel/*.tiff --profile parcel-de-160kv --site demo --station demo-gate && \
	$(VIGIL_RELEASE) push $(DEMO)/vehicle/*.tiff --profile vehicle-top --site demo --station demo-gate && \
	$(VIGIL_RELEASE) push $(DEMO)/parcel-ct/*.tiff --profile parcel-ct --site demo --station demo-gate \
		|| { kill -TERM $$pid; wait $$pid; exit 1; }; \
	echo "== serving: review page at http://127.0.0.1:8080/review (sign in as admin with the password printed at the first start, or add accounts with vigil users add), API at /api/scans, metrics at /metrics; stations push to 127.0.0.1:7300, DICOM to VIGIL@127.0.0.1:11112"; \
	if [ -n "$(RUN_SECONDS)" ]; then sleep $(RUN_SECONDS); kill -TERM $$pid; fi; \
	wait $$pid

swift-test: deps
	swift build --build-tests
	swift test --skip-build

python-test: build venv
	VIGIL_BIN=$(CURDIR)/$(VIGIL) $(PYTHON) -m pytest -q Tests/python

# libFuzzer + AddressSanitizer on each C decoder (PNG, JPEG, TIFF, DICOM) and each Swift parser
# (native protocol frames) for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 15
fuzz: build
	Tests/Fuzz/run.sh $(FUZZ_SECONDS)
	Tests/Fuzz/run_swift.sh $(FUZZ_SECONDS)

test: swift-test python-test fuzz

# Regenerates Models/<name>/<version>/ from the simulator (not part of `make test`: it installs
# PyTorch, ~3 GB, and trains for about an hour on two cores). See Models/training/README.md.
TRAIN_VENV := Models/training/.venv
$(TRAIN_VENV)/.installed: Models/training/requirements.txt
	@test -x $(TRAIN_VENV)/bin/python || python3 -m venv $(TRAIN_VENV)
	@$(TRAIN_VENV)/bin/python -m pip install -q --disable-pip-version-check -r Models/training/requirements.txt
	@touch $@

models: deps $(TRAIN_VENV)/.installed
	swift build -c release
	cd Models/training && for m in cargo-threat cargo-empty parcel-threat vehicle-threat; do \
		.venv/bin/python train.py $$m && .venv/bin/python evaluate.py $$m && .venv/bin/python card.py $$m || exit 1; \
	done

clean:
	rm -rf .build $(VENV)
