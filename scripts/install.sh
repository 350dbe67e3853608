#!/usr/bin/env bash
# `make install` and `make uninstall`.
#
#   scripts/install.sh install   PREFIX [BUILD]   copies BUILD's (.build/release's) doer and doer-sandbox-init into
#                                         PREFIX/bin (doer finds the helper beside itself),
#                                         bash, zsh and fish completions and the man page,
#                                         and writes what it installed to the manifest
#   scripts/install.sh uninstall PREFIX   removes exactly what the manifest lists: the files,
#                                         then the folders it created if they are empty
#
# The manifest, PREFIX/share/doer/install-manifest, lists one path a line: "file PATH" for
# each file, "dir PATH" for each folder install created. A file it lists that has changed
# since (its checksum differs) is left in place and named, not deleted.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}; prefix=${2:-}; release=${3:-.build/release}
[ -n "$action" ] && [ -n "$prefix" ] || { echo "usage: $0 install|uninstall PREFIX" >&2; exit 64; }
case "$prefix" in /*) ;; *) prefix="$PWD/$prefix" ;; esac
manifest="$prefix/share/doer/install-manifest"

uninstall() {
  [ -f "$manifest" ] || { echo "uninstall: no manifest at $manifest: nothing was installed there by make install" >&2; return 1; }
  local kind path sum dirs=() kept=0
  while read -r kind sum path; do
    case "$kind" in
      file)
        [ -e "$path" ] || [ -L "$path" ] || continue
        if [ "$(sha256sum "$path" | cut -d' ' -f1)" != "$sum" ]; then
          echo "uninstall: kept $path: it changed since it was installed" >&2; kept=1; continue
        fi
        rm -f "$path" && echo "removed $path" ;;
      dir) dirs+=("$path") ;;
    esac
  done < "$manifest"
  rm -f "$manifest" && echo "removed $manifest"
  # Deepest first, and only when empty: a folder someone else filled stays.
  local i
  for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
    rmdir "${dirs[$i]}" 2>/dev/null && echo "removed ${dirs[$i]}/" || true
  done
  return $kept
}

install_all() {
  for binary in doer doer-sandbox-init doer-mcp; do
    [ -x "$release/$binary" ] || { echo "install: $release/$binary is missing; run: make release" >&2; exit 1; }
  done
  # A second install replaces the first: its files come off (by its manifest) before the new ones go in.
  if [ -f "$manifest" ]; then uninstall >/dev/null || true; fi

  local staging; staging=$(mktemp -d)
  trap 'rm -rf "$staging"' RETURN
  local dirs_made=() files=()
  # `mkdir -p` that remembers the folders it made, shallowest first.
  make_dir() {
    local dir=$1 missing=()
    while [ ! -d "$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
    for dir in "${missing[@]}"; do mkdir -m 0755 "$dir"; dirs_made+=("$dir"); done
  }
  put() { # put SOURCE DEST MODE
    make_dir "$(dirname "$2")"
    install -m "$3" "$1" "$2"
    files+=("$2")
    echo "installed $2"
  }

  put "$release/doer" "$prefix/bin/doer" 0755
  put "$release/doer-sandbox-init" "$prefix/bin/doer-sandbox-init" 0755
  put "$release/doer-mcp" "$prefix/bin/doer-mcp" 0755
  for shell in bash zsh fish; do
    "$release/doer" --generate-completion-script "$shell" > "$staging/completion.$shell"
  done
  put "$staging/completion.bash" "$prefix/share/bash-completion/completions/doer" 0644
  put "$staging/completion.zsh" "$prefix/share/zsh/site-functions/_doer" 0644
  put "$staging/completion.fish" "$prefix/share/fish/vendor_completions.d/doer.fish" 0644
  if [ -f "$release/doer.1" ]; then
    put "$release/doer.1" "$prefix/share/man/man1/doer.1" 0644
  fi

  make_dir "$(dirname "$manifest")"
  {
    for dir in "${dirs_made[@]}"; do echo "dir - $dir"; done
    for file in "${files[@]}"; do echo "file $(sha256sum "$file" | cut -d' ' -f1) $file"; done
  } > "$manifest"
  echo "installed $manifest"
}

case "$action" in
  install) install_all ;;
  uninstall) uninstall ;;
  *) echo "usage: $0 install|uninstall PREFIX" >&2; exit 64 ;;
esac
