# The two commands a newcomer needs: `make demo` and `make test`.
DOER := .build/debug/doer
DEMO := .build/demo

.PHONY: setup demo test browser-test bench release clean

setup:
	./scripts/setup.sh

# Doer's main job on its defaults: the bundled local model writes code for a task,
# tests it in the bubblewrap sandbox, repairs it, and applies the result.
demo: setup
	@echo "== doer sandbox check"
	$(DOER) sandbox check
	@echo "== doer exec: a task in a scratch copy of examples/agent-demo"
	rm -rf $(DEMO) && cp -r examples/agent-demo $(DEMO)
	$(DOER) exec --workspace $(DEMO) --approval never "$$(cat $(DEMO)/TASK.md)"
	@echo "== what Doer wrote ($(DEMO)/fizzbuzz.py):" && cat $(DEMO)/fizzbuzz.py

test: setup
	swift build --build-tests
	swift test --skip-build
	$(MAKE) browser-test

# The web app in headless Chromium against `doer serve` with a scripted model;
# screenshots in artifacts/.
browser-test:
	swift build --product doer
	python3 -m pytest -q -p no:cacheprovider Tests/browser

release:
	swift build -c release --product doer
	swift build -c release --product doer-sandbox-init

bench: setup release
	.build/release/doer bench sandbox
	.build/release/doer bench model
	.build/release/doer bench agent

clean:
	rm -rf .build
