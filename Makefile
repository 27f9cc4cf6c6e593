# Wraps the CMake presets. `make run` and `make test` are the README's quick start.
JOBS ?= $(shell nproc)
export CATENA_TEST_CACHE ?= $(HOME)/.cache/catena-test-data

.PHONY: all run test setup release debug fuzz fuzz-smoke bench format clean

all: release

setup:
	@scripts/setup.sh

release: setup
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# Exit code 1 means "findings at or above --fail-on": the audit ran and reported; only 2 fails.
run: release
	./build/release/catena audit || [ $$? -eq 1 ]

debug: setup
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

test: debug
	scripts/fetch-test-data.sh >/dev/null
	ctest --preset debug -j $(JOBS)
	$(MAKE) --no-print-directory fuzz-smoke

fuzz: setup
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# Each fuzzer runs briefly over its seed corpus; long campaigns are run by hand with `make fuzz`.
fuzz-smoke: fuzz
	scripts/fuzz-smoke.sh build/fuzz/fuzz 20

bench: release
	cmake --preset bench >/dev/null
	cmake --build --preset bench -j $(JOBS)
	bench/scan_bench.sh
	bench/packages_bench.sh
	bench/baseline_bench.sh
	bench/sig_bench.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
