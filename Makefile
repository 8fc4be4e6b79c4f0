# Ferry's entry points. `make test` and `make demo` do all set-up themselves on a
# fresh Debian 12 machine (packages, build, local cluster).

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE_FLAGS ?=
CTEST_FLAGS ?=
JOBS ?= $(shell nproc)
IMAGE ?= ferry:dev

SOURCES := $(shell git ls-files --cached --others --exclude-standard '*.cc' '*.h' '*.h.in')

.PHONY: all bootstrap configure build test test-unit test-integration test-e2e demo \
        cluster-up cluster-down format format-check image clean

all: build

bootstrap:
	scripts/bootstrap

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFERRY_WERROR=ON $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every label: unit, then integration and e2e, which bring the local cluster up
# and down themselves through CTest fixtures (see tests/CMakeLists.txt).
# Independent tests run in parallel; those marked SERIAL (they restart the
# shared cluster's API server or own its cluster-wide ModelNodes) run alone.
test: bootstrap build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

test-unit: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L unit -j $(JOBS) $(CTEST_FLAGS)

test-integration: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L integration $(CTEST_FLAGS)

test-e2e: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -L e2e $(CTEST_FLAGS)

demo: bootstrap build
	scripts/demo

cluster-up:
	e2e/cluster/up

cluster-down:
	e2e/cluster/down

# Ferry's image, on a Debian base built locally (no registry needed).
image:
	scripts/base-image
	docker build -t $(IMAGE) .

format:
	clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES) && echo "format-check: $(words $(SOURCES)) files clean"

clean:
	rm -rf $(BUILD_DIR)
