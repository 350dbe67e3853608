/// Follows a symbolic link the way the kernel would — inner links first, `..` taken from
/// where the links actually lead — but over a snapshot of one tree instead of the disk,
/// so it can tell whether a link will lead outside the tree once the tree is in place.
/// Checking a link's target as text misses chains: `self -> .` then `up -> self/..`.
struct TreeLinkResolver {
    /// The kernel gives up after 40 links (ELOOP); so does this, and calls it unsafe.
    static let hopLimit = 40

    enum Verdict: Equatable {
        case inside
        /// Leads or passes outside the tree, or into a protected folder; `reason` says how.
        case refused(String)
    }

    struct Resolution {
        var verdict: Verdict
        /// Every link the resolution went through, the starting one first.
        var links: [String]
    }

    let entries: [String: FileTree.Entry]

    /// Resolves the link at `path` (relative to the tree's root).
    func resolve(link path: String) -> Resolution {
        guard case .symlink(let target) = entries[path]?.kind else { return Resolution(verdict: .inside, links: []) }
        var location = path.split(separator: "/").map(String.init).dropLast().map { $0 }
        var links = [path]
        guard !target.hasPrefix("/") else {
            return Resolution(verdict: .refused("points to the absolute path \(target)"), links: links)
        }
        var pending = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var hops = 1
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." {
                guard !location.isEmpty else {
                    return Resolution(verdict: .refused("leads outside the workspace (\(path) -> \(target))"), links: links)
                }
                location.removeLast()
                continue
            }
            location.append(component)
            let here = location.joined(separator: "/")
            if ProtectedPaths.contains(here) {
                return Resolution(verdict: .refused("leads into \(ProtectedPaths.protectedComponent(of: here)!)"), links: links)
            }
            guard case .symlink(let inner) = entries[here]?.kind else { continue }
            hops += 1
            links.append(here)
            guard hops <= Self.hopLimit else {
                return Resolution(verdict: .refused("goes through more than \(Self.hopLimit) links"), links: links)
            }
            guard !inner.hasPrefix("/") else {
                return Resolution(verdict: .refused("goes through \(here), which points to the absolute path \(inner)"), links: links)
            }
            location.removeLast()
            pending = inner.split(separator: "/", omittingEmptySubsequences: true).map(String.init) + pending
        }
        return Resolution(verdict: .inside, links: links)
    }
}
