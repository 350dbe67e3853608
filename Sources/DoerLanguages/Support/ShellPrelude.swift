import Foundation

/// Shell functions every step script can use.
enum ShellPrelude {
    static let text = #"""
    # Files under the workspace, relative and sorted, skipping dependency and build folders.
    doer_files() {
        find . \( -name node_modules -o -name .git -o -name target -o -name .build -o -name vendor \
                  -o -name __pycache__ -o -name .doer-home \) -prune -o -type f "$@" -print | sed 's|^\./||' | LC_ALL=C sort
    }
    # Runs one test program between markers, so its report and its exit status stay together.
    doer_program() {
        doer_name="$1"; shift
        echo "##doer-begin $doer_name"
        "$@"
        doer_status=$?
        printf "\n##doer-end %s %s\n" "$doer_name" "$doer_status"
    }

    """#
}
