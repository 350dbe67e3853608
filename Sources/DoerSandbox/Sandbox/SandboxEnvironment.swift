import DoerCore

/// The clean environment every sandboxed command starts from; nothing of the host's
/// environment (tokens, keys, paths into home folders) is passed through.
enum SandboxEnvironment {
    static func variables(home: String, extra: [String: String]) -> [String] {
        var base: [String: String] = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "USER": "doer",
            "LOGNAME": "doer",
            "TERM": "dumb",
            "PYTHONDONTWRITEBYTECODE": "1",
        ]
        base.merge(extra) { _, new in new }
        return base.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
