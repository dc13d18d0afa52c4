# Makefile: the two entry points of the README, over CMake.
#   make demo   install dependencies, build, run the main job on samples/
#   make test   install dependencies, build, run every test
BUILD ?= build
JOBS ?= $(shell nproc)
# Shared test data beside the project, when present (CI sets it explicitly).
CUSTODIA_TESTDATA ?= $(wildcard $(abspath ../shared/testdata))
export CUSTODIA_TESTDATA

# libFuzzer runs (scripts/fuzz.sh): 10 minutes per target unless told.
FUZZ_SECONDS ?= 600

.PHONY: all deps test-deps build test demo asan fuzz clean
all: build

deps:
	scripts/install_deps.sh

# The tests also run samples/generate.py (the classifier's noisy-set test).
test-deps:
	scripts/install_deps.sh --samples

build: deps
	cmake -S . -B $(BUILD) -DCU_WERROR=ON
	cmake --build $(BUILD) -j$(JOBS)

test: test-deps build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	scripts/demo.sh $(BUILD)

# AddressSanitizer + UndefinedBehaviorSanitizer build and test run.
asan: test-deps
	cmake -S . -B $(BUILD)-asan -DCU_WERROR=ON -DCU_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(BUILD)-asan -j$(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --output-on-failure -j$(JOBS)

# Every fuzz target, built with clang, ASan and UBSan, for FUZZ_SECONDS each.
fuzz:
	scripts/install_deps.sh --fuzz
	scripts/fuzz.sh $(FUZZ_SECONDS) $(BUILD)-fuzz

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
