# Vigil: `make run` runs the main job on embedded defaults; `make test` passes the tests.
# Both install what they need (Debian packages, a Python virtual environment) idempotently.

SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libpng-dev libtiff-dev libdcmtk-dev libjpeg-dev dcmtk libtiff-tools time
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

# The main job on embedded defaults: decode and preprocess the sample scans shipped with each
# profile, then simulate a few cargo and parcel scans and analyse them with the bundled models
# (one result JSON per scan). (Once the service exists this starts `vigil serve`.)
DEMO := vigil-data/demo
run: deps
	swift build -c release
	@mkdir -p vigil-data/preprocessed
	@for f in $(SAMPLES)/*.tiff $(SAMPLES)/*.dcm; do \
		profile=$$(basename $$f | sed 's/\.[a-z]*$$//'); \
		echo "== $$f (profile $$profile)"; \
		$(VIGIL_RELEASE) image info $$f || exit 1; \
		$(VIGIL_RELEASE) image preprocess $$f --profile $$profile vigil-data/preprocessed/$$profile.npy || exit 1; \
	done
	@echo "== vigil synth + vigil analyze: simulated cargo and parcel scans, bundled models"
	@$(VIGIL_RELEASE) synth --kind cargo --count 4 --seed 77 --out $(DEMO)/cargo >/dev/null
	@$(VIGIL_RELEASE) synth --kind parcel --count 4 --seed 77 --out $(DEMO)/parcel >/dev/null
	@$(VIGIL_RELEASE) synth --kind vehicle --count 2 --seed 77 --out $(DEMO)/vehicle >/dev/null
	@$(VIGIL_RELEASE) synth --kind parcel-ct --count 1 --seed 77 --out $(DEMO)/parcel-ct >/dev/null
	@$(VIGIL_RELEASE) analyze $(DEMO)/cargo/*.tiff --profile cargo-de-linac --site demo
	@$(VIGIL_RELEASE) analyze $(DEMO)/parcel/*.tiff --profile parcel-de-160kv --site demo
	@$(VIGIL_RELEASE) analyze $(DEMO)/vehicle/*.tiff --profile vehicle-top --site demo
	@$(VIGIL_RELEASE) analyze $(DEMO)/parcel-ct/*.tiff --profile parcel-ct --site demo
	@echo "ground truth: $(DEMO)/*/labels.json"

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
