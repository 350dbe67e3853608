import Foundation
import Synchronization

/// A TCP connection driven byte by byte, to act as a slow or greedy client would.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, from `source` (another loopback address) when given.
    init(port: Int, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        if let source {
            var local = Self.address(source, port: 0)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        }
        var remote = Self.address("127.0.0.1", port: port)
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECONNREFUSED) }
    }

    deinit { close(fd) }

    /// Closes the client's side, as a client that is done would.
    func hangUp() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private static func address(_ text: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, text, &address.sin_addr)
        return address
    }

    /// False when the server has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Waits (at most `seconds`, off the test's threads) until the server closes the
    /// connection; whatever it sends first is read and dropped. True if it closed.
    func closedByServer(within seconds: Double = 60) async -> Bool {
        await Self.offThread { self.waitClosed(seconds) }
    }

    /// Reads one response (head and a Content-Length body) and answers its status line;
    /// nil when the server closed the connection or nothing came in time (`lastFailure` says which).
    func response(within seconds: Double = 60) async -> String? {
        await Self.offThread { self.readResponse(seconds) }
    }

    /// Sends each request when the answer to the one before has come, all on one thread of
    /// its own, and answers each status line (nil as `response` has it). A client that sends
    /// at once is what is tested, not how soon a loaded machine schedules the test again.
    func exchange(_ requests: [String], within seconds: Double = 60) async -> [String?] {
        await Self.offThread { requests.map { self.send($0) ? self.readResponse(seconds) : nil } }
    }

    /// Why the last `response` answered nil, with what had come in by then.
    var lastFailure: String { failure.withLock { $0 } }
    private let failure = Mutex("")

    private func waitClosed(_ seconds: Double) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < end {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return true }
        }
        return false
    }

    private func readResponse(_ seconds: Double) -> String? {
        let end = Date().addingTimeInterval(seconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < end {
            if let headEnd = Self.find([13, 10, 13, 10], in: received) {
                let head = String(decoding: received[..<headEnd], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count >= headEnd + 4 + length {
                    return head.split(separator: "\r\n").first.map(String.init)
                }
            }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 200) > 0 else { continue }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 {
                let why = count == 0 ? "closed by the server" : "recv failed (errno \(errno))"
                failure.withLock { $0 = "\(why) after \(received.count) bytes: \(String(decoding: received.prefix(300), as: UTF8.self))" }
                return nil
            }
            received += buffer[0..<count]
        }
        failure.withLock { $0 = "no response within \(seconds) s; \(received.count) bytes: \(String(decoding: received.prefix(300), as: UTF8.self))" }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { Array(haystack[$0..<($0 + needle.count)]) == needle }
    }

    private static func offThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
}
