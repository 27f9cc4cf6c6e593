# Wraps the CMake presets. `make run` and `make test` are the README's quick start.
JOBS ?= $(shell nproc)
export CATENA_TEST_CACHE ?= $(HOME)/.cache/catena-test-data

.PHONY: all run test demo setup release debug fuzz fuzz-build fuzz-smoke bench format clean

all: release

setup:
	@scripts/setup.sh

release: setup
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# The audit matches every file against the shipped 3CX indicators and YARA rules. Exit code 1
# means "findings at or above --fail-on": the audit ran and reported; only 2 fails.
run: release
	./build/release/catena intel import intel/3cx-2023.stix.json --feed 3cx-2023
	./build/release/catena audit --yara intel/rules || [ $$? -eq 1 ]

# The 3CX chain end to end in a store of its own (docs/graph.md); DEMO_DIR keeps its answers.
demo: release
	scripts/demo-3cx.sh $(DEMO_DIR)

debug: setup
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

# Ends by listing every skipped test with its reason; under CI a skip for anything but the
# environment fails the run (scripts/test-skips.py).
test: debug
	scripts/fetch-test-data.sh >/dev/null
	ctest --preset debug -j $(JOBS) --output-junit $(CURDIR)/build/debug/junit.xml; \
	  rc=$$?; scripts/test-skips.py build/debug/junit.xml || rc=1; exit $$rc
	$(MAKE) --no-print-directory fuzz-smoke

fuzz-build: setup
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# A campaign: every fuzzer for FUZZ_SECONDS each; the grown corpora stay in build/fuzz/corpus
# (copy new finds worth keeping to fuzz/corpus/), crashes go to tests/data/regress/.
FUZZ_SECONDS ?= 600
fuzz: fuzz-build
	scripts/fuzz-smoke.sh build/fuzz/fuzz $(FUZZ_SECONDS) build/fuzz/corpus

# Each fuzzer runs briefly over its seed corpus (what `make test` and CI run).
fuzz-smoke: fuzz-build
	scripts/fuzz-smoke.sh build/fuzz/fuzz 20

bench: release
	cmake --preset bench >/dev/null
	cmake --build --preset bench -j $(JOBS)
	bench/scan_bench.sh
	bench/packages_bench.sh
	bench/baseline_bench.sh
	bench/sig_bench.sh
	bench/analysis_bench.sh
	bench/yara_bench.sh
	bench/intel_bench.sh
	bench/attest_bench.sh
	bench/access_bench.sh
	bench/incremental_bench.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
