import Foundation

/// Errors a person can act on: each message says what went wrong and what to do.
public enum DoerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidLimit(String)
    case invalidArgument(String)
    case fileNotFound(String)
    case unknownLanguage(file: String, known: [String])
    /// A language's toolchain is not installed: what is missing and the Debian packages that provide it.
    case toolchainMissing(language: String, missing: [String], packages: [String])
    case backendUnavailable(backend: String, reason: String, remedy: String)
    case unsafeBackendRefused
    case sandboxFailure(String)
    case workspace(String)
    case configuration(String)
    case cancelled

    public var description: String {
        switch self {
        case .invalidLimit(let m): return "invalid limit: \(m)"
        case .invalidArgument(let m): return m
        case .fileNotFound(let path): return "no such file: \(path)"
        case .unknownLanguage(let file, let known):
            return "cannot tell the language of \(file); known extensions: \(known.joined(separator: ", "))"
        case .toolchainMissing(let language, let missing, let packages):
            let install = packages.isEmpty ? "; Debian does not package it, see `doer languages` for where to get it"
                : "; install it with `doer languages install \(language)` (apt-get install \(packages.joined(separator: " ")))"
            return "the \(language) toolchain is not installed (missing \(missing.joined(separator: ", ")))\(install)"
        case .backendUnavailable(let backend, let reason, let remedy):
            return "sandbox backend '\(backend)' is unavailable: \(reason). \(remedy)"
        case .unsafeBackendRefused:
            return "the 'process' backend runs code without any isolation; pass --unsafe-no-sandbox to allow it"
        case .sandboxFailure(let m): return "sandbox failure: \(m)"
        case .workspace(let m): return "workspace: \(m)"
        case .configuration(let m): return "configuration: \(m)"
        case .cancelled: return "cancelled"
        }
    }
}
