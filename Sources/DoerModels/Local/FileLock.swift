import DoerCore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on a file, shared by every Doer process (and every task within
/// one, since each acquisition opens its own descriptor). The kernel drops it when the
/// holder exits, however it exits, so a crashed Doer never leaves it held.
final class FileLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Waits without blocking a thread (polling a non-blocking `flock`) for at most
    /// `timeoutSeconds`; cancellation ends the wait.
    static func acquire(_ file: URL, timeoutSeconds: Double, purpose: String) async throws -> FileLock {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        // O_CLOEXEC: a server spawned while the lock is held must not inherit (and keep) it.
        let descriptor = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ModelError.localModelUnavailable("cannot open \(file.path): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutSeconds * 1000))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw ModelError.localModelUnavailable("cannot lock \(file.path): \(reason)")
            }
            guard ContinuousClock.now < deadline else {
                close(descriptor)
                throw ModelError.localModelUnavailable(
                    "another Doer process has held \(file.path) for over \(Int(timeoutSeconds)) s while \(purpose); try again")
            }
            do {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                close(descriptor)
                throw ModelError.cancelled
            }
        }
        return FileLock(descriptor: descriptor)
    }

    /// Lets the next waiter in; closing the descriptor (on deinit) does the same.
    func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }

    /// Runs `body` holding the lock.
    static func withLock<T: Sendable>(_ file: URL, timeoutSeconds: Double, purpose: String,
                                      _ body: () async throws -> T) async throws -> T {
        let lock = try await acquire(file, timeoutSeconds: timeoutSeconds, purpose: purpose)
        defer { lock.release() }
        return try await body()
    }
}
