import Foundation

/// Which of a run's output streams a piece of output came from.
public enum OutputChannel: String, Sendable, Hashable, Codable {
    case stdout
    case stderr
}

/// Receives a run's output as it is produced, before the run ends. Called from the thread
/// that watches the run: it must return quickly and must not block.
public typealias OutputObserver = @Sendable (OutputChannel, Data) -> Void
