import Foundation

/// Where a remote URL leads, read the way git reads it: a repository on this machine (a
/// path, `file://`), or something git reaches over a transport (ssh, git, http, a remote
/// helper). For a repository on this machine git runs `receive-pack`/`upload-pack` — and
/// the remote's hooks — here.
enum GitRemoteURL {
    /// The folder of a remote on this machine, or nil for one reached over a transport.
    /// A relative path is relative to `directory`, where git runs.
    static func localPath(_ url: String, relativeTo directory: String) -> String? {
        if let scheme = scheme(of: url) {
            guard scheme.lowercased() == "file", let range = url.range(of: "://") else { return nil }
            let rest = String(url[range.upperBound...])
            // git decodes the URL before using the path.
            let path = rest.removingPercentEncoding ?? rest
            return path.hasPrefix("/") ? path : directory + "/" + path
        }
        // <helper>::<address> runs git-remote-<helper>.
        if helperName(url) != nil { return nil }
        // scp-like host:path, unless a slash comes before the colon (git's rule).
        if let colon = url.firstIndex(of: ":") {
            let slash = url.firstIndex(of: "/")
            if slash == nil || slash! > colon { return nil }
        }
        return url.hasPrefix("/") ? url : directory + "/" + url
    }

    /// The scheme of `scheme://…`, with git's rule for scheme characters.
    static func scheme(of url: String) -> String? {
        guard let range = url.range(of: "://") else { return nil }
        let scheme = url[..<range.lowerBound]
        guard !scheme.isEmpty, scheme.first!.isASCII, scheme.first!.isLetter,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }) else { return nil }
        return String(scheme)
    }

    static func helperName(_ url: String) -> String? {
        guard let range = url.range(of: "::") else { return nil }
        let name = url[..<range.lowerBound]
        guard !name.isEmpty, name.first!.isASCII, name.first!.isLetter,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-".contains($0)) }) else { return nil }
        return String(name)
    }

    /// The URL git pushes to for `url`, after `url.<base>.pushInsteadOf` and
    /// `url.<base>.insteadOf` (the longest matching prefix wins; pushInsteadOf first).
    static func pushURL(_ url: String, configuration entries: [GitConfigEntry]) -> String {
        rewrite(url, entries, variable: "pushinsteadof") ?? rewrite(url, entries, variable: "insteadof") ?? url
    }

    private static func rewrite(_ url: String, _ entries: [GitConfigEntry], variable: String) -> String? {
        var best: (base: String, prefix: String)?
        for entry in entries where entry.section == "url" && entry.variable == variable {
            guard let base = entry.subsection, let prefix = entry.value, url.hasPrefix(prefix) else { continue }
            if best == nil || best!.prefix.count < prefix.count { best = (base, prefix) }
        }
        return best.map { $0.base + url.dropFirst($0.prefix.count) }
    }
}
