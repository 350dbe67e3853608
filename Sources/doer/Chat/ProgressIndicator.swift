import Foundation
import NIOConcurrencyHelpers

/// A spinner with the elapsed time on standard error while a long step runs, so a person
/// can tell waiting from hanging. Silent when standard error is not a terminal.
final class ProgressIndicator: Sendable {
    private struct State {
        var label: String?
        var started = ContinuousClock.now
        var frame = 0
    }

    // A box, not a `Mutex`: the ticker shares it without holding the indicator, whose deinit stops the ticker.
    private let state = NIOLockedValueBox(State())
    private let enabled: Bool
    private let ticker: Task<Void, Never>?
    private static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    init(enabled: Bool = isatty(2) == 1) {
        self.enabled = enabled
        guard enabled else { ticker = nil; return }
        let state = state
        ticker = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(120))
                state.withLockedValue { current in
                    guard let label = current.label else { return }
                    current.frame += 1
                    let seconds = (ContinuousClock.now - current.started).components.seconds
                    let line = "\r\u{1B}[2K\(Self.frames[current.frame % Self.frames.count]) \(label) \(seconds)s"
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
        }
    }

    deinit { ticker?.cancel() }

    /// Shows `label` until `stop()`; the clock restarts.
    func start(_ label: String) {
        guard enabled else { return }
        state.withLockedValue { $0 = State(label: label, started: .now, frame: 0) }
    }

    /// Clears the line so that other output starts on a clean one.
    func stop() {
        guard enabled else { return }
        state.withLockedValue { current in
            if current.label != nil { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
            current.label = nil
        }
    }
}
