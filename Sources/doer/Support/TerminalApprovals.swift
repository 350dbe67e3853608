import DoerAgent
import DoerCore
import Foundation

/// Asks on the terminal; with no terminal (or in JSON mode) the answer is no.
struct TerminalApprovals: ApprovalHandler {
    let enabled: Bool

    func decide(_ request: ApprovalRequest) async -> String? {
        guard enabled, isatty(0) == 1, isatty(2) == 1 else {
            FileHandle.standardError.write(Data("doer: no terminal to ask for approval; changes not applied (pass --approval never to apply without asking)\n".utf8))
            return nil
        }
        FileHandle.standardError.write(Data("\n\(request.summary)? [y/N] ".utf8))
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return nil }
        return answer == "y" || answer == "yes" ? (ProcessInfo.processInfo.environment["USER"] ?? "terminal user") : nil
    }
}
