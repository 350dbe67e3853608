public import DoerCore
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks a person to approve a deploy. Only people answer: nothing the model produces
/// reaches an approver.
public protocol DeployApprover: Sendable {
    func approve(_ summary: String) async -> ApprovalDecision
}

/// A y/N prompt on the terminal. Without a terminal the answer is no unless the person
/// passed `--yes` themselves; no answer within the timeout is no.
public struct TerminalDeployApprover: DeployApprover {
    public var user: String
    public var timeoutSeconds: Double
    public var assumeYes: Bool

    public init(user: String, timeoutSeconds: Double, assumeYes: Bool) {
        self.user = user
        self.timeoutSeconds = timeoutSeconds
        self.assumeYes = assumeYes
    }

    public func approve(_ summary: String) async -> ApprovalDecision {
        if assumeYes {
            FileHandle.standardError.write(Data("\(summary)\napproved with --yes by \(user)\n".utf8))
            return ApprovalDecision(approved: true, by: user, method: "--yes")
        }
        guard isatty(0) == 1, isatty(2) == 1 else {
            return ApprovalDecision(approved: false, by: user, method: "no-terminal",
                                    reason: "there is no terminal to ask on; pass --yes to approve it yourself")
        }
        FileHandle.standardError.write(Data("\(summary)\nDeploy? [y/N] (\(Int(timeoutSeconds)) s) ".utf8))
        let timeout = timeoutSeconds
        let answer: String?? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: Self.readLine(timeoutSeconds: timeout)) }
        }
        switch answer {
        case .none:
            FileHandle.standardError.write(Data("\n".utf8))
            return ApprovalDecision(approved: false, by: user, method: "timeout",
                                    reason: "no answer within \(Int(timeoutSeconds)) s")
        case .some(let line):
            let text = line?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            let approved = text == "y" || text == "yes"
            return ApprovalDecision(approved: approved, by: user, method: "terminal",
                                    reason: approved ? nil : "answered '\(text)'")
        }
    }

    /// nil when the time ran out; .some(nil) at end of input.
    private static func readLine(timeoutSeconds: Double) -> String?? {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return .none }
            let ready = poll(&descriptor, 1, Int32(min(remaining, 3600) * 1000))
            if ready > 0 { return .some(Swift.readLine()) }
            if ready == 0 { return .none }
            if errno != EINTR { return .some(nil) }
        }
    }
}
