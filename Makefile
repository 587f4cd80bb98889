# Vigil: `make run` runs the main job on embedded defaults; `make test` passes the tests.
# Both install what they need (Debian packages, a Python virtual environment) idempotently.

SHELL := /bin/bash
APT_PACKAGES := libopenblas-dev libpng-dev libtiff-dev libdcmtk-dev libjpeg-dev dcmtk libtiff-tools time
VENV := .venv
PYTHON := $(VENV)/bin/python
VIGIL := .build/debug/vigil
VIGIL_RELEASE := .build/release/vigil
SAMPLES := ScannerProfiles/samples

.PHONY: run test deps venv build swift-test python-test fuzz clean

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

# Analyses the sample scans shipped in the repository with their scanner profiles: decode, then
# preprocessing into the tensors a model sees. (Once the service exists this starts `vigil serve`.)
run: deps
	swift build -c release
	@mkdir -p vigil-data/preprocessed
	@for f in $(SAMPLES)/*.tiff $(SAMPLES)/*.dcm; do \
		profile=$$(basename $$f | sed 's/\.[a-z]*$$//'); \
		echo "== $$f (profile $$profile)"; \
		$(VIGIL_RELEASE) image info $$f || exit 1; \
		$(VIGIL_RELEASE) image preprocess $$f --profile $$profile vigil-data/preprocessed/$$profile.npy || exit 1; \
	done

swift-test: deps
	swift build --build-tests
	swift test --skip-build

python-test: build venv
	VIGIL_BIN=$(CURDIR)/$(VIGIL) $(PYTHON) -m pytest -q Tests/python

# libFuzzer + AddressSanitizer on each C decoder (PNG, JPEG, TIFF, DICOM) for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 15
fuzz: build
	Tests/Fuzz/run.sh $(FUZZ_SECONDS)

test: swift-test python-test fuzz

clean:
	rm -rf .build $(VENV)
