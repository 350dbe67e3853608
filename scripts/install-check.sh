#!/usr/bin/env bash
# `make install-check`: install into a temporary PREFIX, check what is there and that it
# works from there, uninstall, check that nothing is left. Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

configuration=${1:-release}
prefix="$(mktemp -d)/prefix with space"
passed=0; failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok: $what"
  else failed=$((failed + 1)); echo "FAILED: $what"; fi
}

make --no-print-directory install CONFIGURATION="$configuration" PREFIX="$prefix" >/dev/null || { echo "FAILED: make install PREFIX=$prefix"; echo "0 passed, 1 failed"; exit 1; }
for file in bin/doer bin/doer-sandbox-init bin/doer-mcp share/bash-completion/completions/doer share/zsh/site-functions/_doer \
            share/fish/vendor_completions.d/doer.fish share/man/man1/doer.1 share/doer/install-manifest; do
  check "installed $file" test -s "$prefix/$file"
done
check "doer and its helpers are executable" test -x "$prefix/bin/doer" -a -x "$prefix/bin/doer-sandbox-init" -a -x "$prefix/bin/doer-mcp"
check "doer --version names a version and a commit" bash -c "'$prefix/bin/doer' --version | grep -Eq '^doer [0-9]+\.[0-9]+\.[0-9]+ \(([0-9a-f]{7,}(-dirty)?|unknown)\)$'"
check "bash completion completes subcommands" grep -q "sandbox" "$prefix/share/bash-completion/completions/doer"
check "zsh completion is a compdef" grep -q "#compdef doer" "$prefix/share/zsh/site-functions/_doer"
check "fish completion names doer" grep -Eq "^complete -c '?doer'?( |$)" "$prefix/share/fish/vendor_completions.d/doer.fish"
check "the man page is troff for doer" grep -q '^\.Dt DOER 1' "$prefix/share/man/man1/doer.1"
# The installed doer finds doer-sandbox-init beside itself, also through a symbolic link
# elsewhere, with nothing in the environment pointing at it.
link_dir=$(mktemp -d)
ln -s "$prefix/bin/doer" "$link_dir/doer"
if command -v bwrap >/dev/null 2>&1; then
  check "the installed doer runs a command in the sandbox" env -u DOER_SANDBOX_INIT "$prefix/bin/doer" sandbox -- /bin/true
  check "a link to the installed doer finds the helper too" env -u DOER_SANDBOX_INIT "$link_dir/doer" sandbox -- /bin/true
fi
# `doer mcp` hands over to the doer-mcp beside it: a client's initialize is answered. The
# client keeps its end open a moment, as a client waiting for an answer does.
mcp_hello='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"install-check","version":"1"}}}'
check "a link to the installed doer serves MCP through doer-mcp" bash -c "(printf '%s\\n' '$mcp_hello'; sleep 3) | env -u DOER_MCP timeout 20 '$link_dir/doer' mcp | grep -q '\"serverInfo\"'"
rm -rf "$link_dir"

# A file changed after the install is kept by uninstall, and said so.
echo "# local change" >> "$prefix/share/zsh/site-functions/_doer"
echo "keep" > "$prefix/bin/someone-elses-tool"
make --no-print-directory uninstall PREFIX="$prefix" >/dev/null 2>&1
check "uninstall keeps a file changed since the install" test -f "$prefix/share/zsh/site-functions/_doer"
check "uninstall keeps files it did not install" test -f "$prefix/bin/someone-elses-tool"
# The folders that held those two files stayed, as they should; the next check starts from an
# empty prefix again.
rm -rf "$prefix" && mkdir -p "$prefix"

# A clean install and uninstall leaves nothing at all.
make --no-print-directory install CONFIGURATION="$configuration" PREFIX="$prefix" >/dev/null && make --no-print-directory uninstall PREFIX="$prefix" >/dev/null
left=$(find "$prefix" -mindepth 1 2>/dev/null)
check "uninstall leaves nothing behind" test -z "$left"
[ -z "$left" ] || echo "left behind: $left"
check "a second uninstall says there is nothing to remove" bash -c "! make --no-print-directory uninstall PREFIX='$prefix'"
rm -rf "$(dirname "$prefix")"

echo "install-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
