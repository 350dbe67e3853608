import Foundation
import PackagePlugin

/// Writes `BuildCommit.swift` (`let buildCommit = "…"`) before every build of the target
/// that uses it: the checkout's commit, "-dirty" when tracked files differ from it, or
/// "unknown" outside a git checkout. The file is rewritten only when the text changes, so
/// an unchanged commit recompiles nothing.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("Generated", isDirectory: true)
        // GIT_OPTIONAL_LOCKS=0: reading the status must never take the index lock from a
        // commit running in the same checkout.
        let script = #"""
            mkdir -p "$1"
            commit=$(git -C "$2" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$2" status --porcelain --untracked-files=no 2>/dev/null | head -c 1)" ]; then
              commit="$commit-dirty"
            fi
            printf '// Written by the BuildCommit plugin at build time.\nlet buildCommit = "%s"\n' "$commit" > "$1/BuildCommit.swift.new"
            if cmp -s "$1/BuildCommit.swift.new" "$1/BuildCommit.swift"; then rm -f "$1/BuildCommit.swift.new"
            else mv "$1/BuildCommit.swift.new" "$1/BuildCommit.swift"; fi
            """#
        return [.prebuildCommand(displayName: "Recording the build's commit",
                                 executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script, "build-commit", output.path, context.package.directoryURL.path],
                                 outputFilesDirectory: output)]
    }
}
