# The two commands a newcomer needs: `make demo` and `make test`.
# `make install` puts doer on the PATH (PREFIX=/usr/local); `make uninstall` takes it off.
DOER := .build/release/doer
DEMO := .build/demo
PREFIX ?= /usr/local
# What `make install` builds and installs; install-check uses the debug build `make test` has.
CONFIGURATION ?= release

.PHONY: setup setup-demo demo test browser-test deploy-test bench release man install uninstall install-check clean

# What `make test` needs: every language's toolchain, gVisor, Chromium… (scripts/setup.sh).
setup:
	./scripts/setup.sh all

# Only what the demo needs: bubblewrap, Python and pytest, llama-server, the model, a release build.
setup-demo:
	./scripts/setup.sh demo

# Doer's main job on its defaults: the bundled local model writes code for a task,
# tests it in the bubblewrap sandbox, repairs it, and applies the result. It runs the
# release build, the one `make install` installs.
demo: setup-demo
	@echo "== doer version" && $(DOER) version
	@echo "== doer sandbox check"
	$(DOER) sandbox check
	@echo "== doer exec: a task in a scratch copy of examples/agent-demo"
	rm -rf $(DEMO) && cp -r examples/agent-demo $(DEMO)
	$(DOER) exec --workspace $(DEMO) --approval never "$$(cat $(DEMO)/TASK.md)"
	@echo "== what Doer wrote ($(DEMO)/fizzbuzz.py):" && cat $(DEMO)/fizzbuzz.py

test: setup
	swift build --build-tests
	./scripts/swift-test.sh
	$(MAKE) browser-test
	$(MAKE) deploy-test
	$(MAKE) install-check CONFIGURATION=debug

# The web app in headless Chromium against `doer serve` with a scripted model;
# screenshots in artifacts/.
browser-test:
	swift build --product doer
	python3 -m pytest -q -p no:cacheprovider Tests/browser

# deploy/kubernetes validated offline against a pinned Kubernetes schema (kubernetes-validate).
deploy-test:
	python3 -m pytest -q -p no:cacheprovider Tests/deploy

# The release build links the Swift runtime and Foundation statically: `doer --version`
# starts in about 60% of the time (doer bench cli; README, Performance). It exports no
# symbols: nothing loads into doer, and a table of 66,000 exported names made every start
# slower (the runtime's dladdr lookups scan it: 6.3 → 4.3 ms of CPU for `doer --version`).
STATIC_release := --static-swift-stdlib -Xlinker --no-export-dynamic
BUILD_FLAGS = $(STATIC_$(CONFIGURATION))

release:
	swift build -c release $(STATIC_release) --product doer
	swift build -c release $(STATIC_release) --product doer-sandbox-init
	swift build -c release $(STATIC_release) --product doer-mcp

# doer.1 from argument-parser's generate-manual plugin. The plugin builds the products
# first, without the release build's flags, so it works on the debug build (the page is
# the same): building release products here would undo the static release build.
man:
	swift package generate-manual --configuration debug
	mkdir -p .build/$(CONFIGURATION)
	cp "$$(find .build/plugins -path '*GenerateManual*' -name doer.1 | head -n 1)" .build/$(CONFIGURATION)/doer.1

install: man
	swift build -c $(CONFIGURATION) $(BUILD_FLAGS) --product doer
	swift build -c $(CONFIGURATION) $(BUILD_FLAGS) --product doer-sandbox-init
	swift build -c $(CONFIGURATION) $(BUILD_FLAGS) --product doer-mcp
	./scripts/install.sh install "$(DESTDIR)$(PREFIX)" .build/$(CONFIGURATION)

uninstall:
	./scripts/install.sh uninstall "$(DESTDIR)$(PREFIX)"

# Installs into a temporary PREFIX, checks every file and that the installed doer finds its
# sandbox helper, uninstalls, and checks that nothing is left. The debug build stands in
# for the release one: the files and the way they are found are the same.
install-check:
	./scripts/install-check.sh $(CONFIGURATION)

bench: setup release
	.build/release/doer bench sandbox
	.build/release/doer bench model
	.build/release/doer bench agent

clean:
	rm -rf .build
