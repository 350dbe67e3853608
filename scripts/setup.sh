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
[ -x /usr/bin/python3 ] || need_apt+=(python3)
# The agent runs Python tests with Debian's pytest inside the sandbox.
/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || need_apt+=(python3-pytest)
[ -f /usr/include/linux/seccomp.h ] || need_apt+=(linux-libc-dev)
[ -f /usr/include/stdio.h ] || need_apt+=(libc6-dev)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

echo "setup: building doer"
swift build --product doer 2>&1 | tail -n 3
swift build --product doer-sandbox-init 2>&1 | tail -n 1
