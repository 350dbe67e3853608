#!/usr/bin/env bash
# `swift test --skip-build` that cannot hang once the test bundle has ended.
#
# swift test reads the bundle's output until every writer has closed it. A bundle that
# crashes cannot stop the servers its tests started, and one of them that inherited the
# bundle's stdout or stderr keeps swift test waiting for ever. So the pipes the bundle
# writes to are noted while it runs; once no bundle has run for a minute while swift test
# still waits, whoever else holds one of them is named and killed, and swift test ends
# with the bundle's own verdict.
set -uo pipefail

# Variables some tests look for in the test process's own environment. They are set here,
# before any thread runs: a test calling setenv while others start processes can crash the
# bundle (adding a variable may move the environment an exec is copying at that moment).
export DOER_TEST_HOST_SECRET=hunter2 DOER_PROCESS_TEST_INHERITED=yes \
    DOER_ESCAPE_SECRET_TOKEN=doer-escape-envsecret-$$

swift test --skip-build "$@" &
runner=$!

pipes_of() { # pid fd-pattern: the pipes among those descriptors, one per line
    find /proc/"$1"/fd -maxdepth 1 -regex ".*/fd/$2" -lname 'pipe:*' -printf '%l\n' 2>/dev/null
}

# Our own stdout and stderr lead to whoever runs this script: never a bundle's own pipe.
ours=$(pipes_of $$ '[012]' | sort -u)
bundle_pipes=""

note_bundle_pipes() { # true while a test bundle runs
    local pids pid
    pids=$(pgrep -f 'PackageTests\.xctest') || return 1
    for pid in $pids; do
        bundle_pipes=$(printf '%s\n%s\n' "$bundle_pipes" "$(pipes_of "$pid" '[12]')" | sort -u | grep -vxF "${ours:-none}" | grep .)
    done
    return 0
}

holders() {
    local pid
    [ -n "$bundle_pipes" ] || return 0
    for fds in /proc/[0-9]*/fd; do
        pid=${fds#/proc/}; pid=${pid%/fd}
        [ "$pid" = "$runner" ] || [ "$pid" = "$$" ] && continue
        if pipes_of "$pid" '[0-9]+' | grep -qxF "$bundle_pipes"; then echo "$pid"; fi
    done
}

idle=0
seen=false
while kill -0 "$runner" 2>/dev/null; do
    sleep 5
    if note_bundle_pipes; then seen=true; idle=0; continue; fi
    # Before the first bundle swift test may wait for the build folder's lock.
    $seen || continue
    idle=$((idle + 5))
    if [ "$idle" -ge 60 ]; then
        for pid in $(holders); do
            echo "swift-test.sh: the test bundle ended, but process $pid still holds its output:" \
                "$(tr '\0' ' ' < /proc/"$pid"/cmdline 2>/dev/null)— killing it" >&2
            kill -9 "$pid" 2>/dev/null
        done
    fi
    if [ "$idle" -ge 120 ]; then
        echo "swift-test.sh: swift test still waits two minutes after the test bundle ended; stopping it" >&2
        kill -9 "$runner" 2>/dev/null
        break
    fi
done
wait "$runner"
