import DoerCore
@testable import DoerAgent
import Foundation
import Testing

/// A project whose own test of `mean` passes before any change.
private let project: [String: String] = [
    "stats.py": "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - max(values)\n",
    "tests/test_stats.py": "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 2, 3]) == 2\n",
]
/// `spread` fixed and `mean` broken: only hiding `test_mean` lets it pass.
private let fixedSpreadBrokenMean = "def mean(values):\n    return 0\n\n\ndef spread(values):\n    return max(values) - min(values)\n"
private let spreadTest = "from stats import spread\n\n\ndef test_spread():\n    assert spread([1, 5, 3]) == 4\n"
private let task = "spread in stats.py is wrong: it should be the largest value minus the smallest; fix it"

/// A change to how pytest collects and runs the workspace's tests is judged like an edit to
/// them: the workspace's own tests must pass under the configuration they had.
@Suite("the workspace's test configuration is the user's")
struct TestConfigurationTests {
    private func run(_ files: [String: String]) async throws -> (RunSummary, AgentWorkspace) {
        let ws = try AgentWorkspace(files: project)
        let model = ScriptedModel(replies: [0: [Replies.files(files)], Replies.independentWriter: [Replies.spreadCheck]])
        let (_, summary) = try await AgentHarness.run(model, task: task, in: ws, maxIterations: 3, approval: .never)
        return (summary, ws)
    }

    @Test("a new conftest.py that stops the broken test being collected: unverified, nothing applied",
          arguments: ["collect_ignore = ['tests/test_stats.py']\n",
                      "import pytest\n\n\ndef pytest_collection_modifyitems(config, items):\n    items[:] = [i for i in items if 'mean' not in i.name]\n"])
    func conftestHides(conftest: String) async throws {
        let (summary, ws) = try await run(["stats.py": fixedSpreadBrokenMean, "test_spread.py": spreadTest, "conftest.py": conftest])
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("their configuration changed (conftest.py)"), "\(summary.message)")
        #expect(!summary.applied && ws.read("stats.py") == project["stats.py"] && ws.read("conftest.py") == nil)
    }

    @Test("pytest options that deselect or skip the broken test, in any file pytest reads them from: unverified",
          arguments: [("pytest.ini", "[pytest]\naddopts = --deselect tests/test_stats.py::test_mean\n"),
                      ("setup.cfg", "[metadata]\nname = stats\n\n[tool:pytest]\naddopts = -k 'not mean'\n"),
                      ("pyproject.toml", "[project]\nname = \"stats\"\n\n[tool.pytest.ini_options]\naddopts = \"--ignore=tests\"\n")])
    func optionsHide(file: String, text: String) async throws {
        let (summary, _) = try await run(["stats.py": fixedSpreadBrokenMean, "test_spread.py": spreadTest, file: text])
        #expect(summary.outcome == .unverified, "\(summary.message)")
        #expect(summary.message.contains("(\(file))"), "\(summary.message)")
        #expect(!summary.applied)
    }

    @Test("a new conftest.py with a fixture the new test needs, the project's tests still passing: verified and applied")
    func fixtureConftestIsFine() async throws {
        let conftest = "import pytest\n\n\n@pytest.fixture\ndef values():\n    return [1, 5, 3]\n"
        let test = "from stats import spread\n\n\ndef test_spread(values):\n    assert spread(values) == 4\n"
        let fixed = "def mean(values):\n    return sum(values) / len(values)\n\n\ndef spread(values):\n    return max(values) - min(values)\n"
        let (summary, ws) = try await run(["stats.py": fixed, "test_spread.py": test, "conftest.py": conftest])
        #expect(summary.outcome == .passed, "\(summary.message)")
        #expect(summary.applied && ws.read("conftest.py") == conftest)
    }

    @Test("what counts as a change to the configuration: pytest's part of the file, conftest.py above the tests")
    func changed() {
        let original: [String: String] = [
            "pyproject.toml": "[project]\nname = \"a\"\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n\n[tool.black]\nline-length = 99\n",
            "tox.ini": "[tox]\nenvlist = py3\n",
        ]
        let changed: [String: String] = [
            "pyproject.toml": "[project]\nname = \"a\"\nversion = \"2\"\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n\n[tool.black]\nline-length = 80\n",
            "tox.ini": "[tox]\nenvlist = py3\n\n[pytest]\naddopts = -x\n",
            "setup.cfg": "[metadata]\nname = a\n",
            "conftest.py": "", "tests/conftest.py": "", "newpkg/conftest.py": "",
        ]
        func paths(_ changes: [FileChange]) -> [String] {
            TestConfiguration.changed(changes, originalFiles: ["a.py", "tests/test_a.py", "pyproject.toml", "tox.ini"],
                                      original: { original[$0] }, changed: { changed[$0] })
        }
        #expect(paths([FileChange(path: "pyproject.toml", kind: .modified)]).isEmpty, "its pytest part is as it was")
        #expect(paths([FileChange(path: "tox.ini", kind: .modified)]) == ["tox.ini"], "a pytest section is new")
        #expect(paths([FileChange(path: "setup.cfg", kind: .added)]).isEmpty, "a new setup.cfg without pytest's section")
        #expect(paths([FileChange(path: "conftest.py", kind: .added), FileChange(path: "tests/conftest.py", kind: .added),
                       FileChange(path: "newpkg/conftest.py", kind: .added)]) == ["conftest.py", "tests/conftest.py"])
        var markers = original
        markers["pyproject.toml"]! += "\n[tool.pytest.ini_options.markers]\nslow = \"x\"\n"
        #expect(TestConfiguration.pytestPart(of: markers["pyproject.toml"]!, headers: TestConfiguration.sections["pyproject.toml"]!)
                != TestConfiguration.pytestPart(of: original["pyproject.toml"]!, headers: TestConfiguration.sections["pyproject.toml"]!))
    }
}
