# The two commands a newcomer needs: `make demo` and `make test`.
SWIFT_BUILD_FLAGS ?=
DOER := .build/debug/doer

.PHONY: setup demo test bench build release clean

setup:
	./scripts/setup.sh

build: setup

demo: setup
	@echo "== doer sandbox check"
	$(DOER) sandbox check
	@echo "== doer run examples/hello.py (workspace: a scratch copy of examples/)"
	rm -rf .build/demo-workspace && cp -r examples .build/demo-workspace
	$(DOER) run --workspace .build/demo-workspace .build/demo-workspace/hello.py
	@echo "== the workspace after the run:" && cat .build/demo-workspace/hello.txt

test: setup
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	swift test --skip-build

release:
	swift build -c release --product doer
	swift build -c release --product doer-sandbox-init

bench: setup release
	.build/release/doer bench sandbox

clean:
	rm -rf .build
