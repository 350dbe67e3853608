import Foundation

extension Language {
    /// pytest, reporting through its JUnit XML.
    static let python = Language(
        name: "python", displayName: "Python", extensions: ["py"],
        manifests: ["pyproject.toml", "setup.py", "setup.cfg", "requirements.txt"],
        toolchain: Toolchain([.init("/usr/bin/python3", package: "python3")]),
        run: RunRecipe(run: #"exec python3 "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "pytest",
            requirements: [.init("/usr/lib/python3/dist-packages/pytest", package: "python3-pytest")],
            isTestFile: { path in
                let stem = TestFilePattern.stem(path)
                return TestFilePattern.ext(path) == "py" && (stem.hasPrefix("test_") || stem.hasSuffix("_test"))
            },
            test: #"""
            python3 -m pytest -p no:cacheprovider -q --junitxml=/tmp/doer-junit.xml >&2
            status=$?
            cat /tmp/doer-junit.xml 2>/dev/null
            exit $status
            """#,
            format: .junitXML))
}
