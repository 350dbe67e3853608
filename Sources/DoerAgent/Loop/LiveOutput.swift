import DoerCore
import Foundation
import Synchronization

/// Turns a sandboxed run's raw output into `executionOutput` events as it arrives: batched
/// (at most one event per 100 ms, unless 4 KiB piled up) so a chatty program does not
/// flood the session store, cut only at whole UTF-8 characters, and capped per run (the
/// finished event still carries the run's trimmed output).
final class LiveOutput: Sendable {
    private struct State {
        var pending: [OutputChannel: [UInt8]] = [:]
        var lastFlush = ContinuousClock.now
        var forwarded = 0
        var capped = false
    }

    static let cap = 64 << 10
    private let state = Mutex(State())
    private let candidate: Int
    private let emit: @Sendable (AgentEvent) -> Void

    init(candidate: Int, emit: @escaping @Sendable (AgentEvent) -> Void) {
        self.candidate = candidate
        self.emit = emit
    }

    var observer: OutputObserver {
        { [self] channel, data in receive(channel, data) }
    }

    private func receive(_ channel: OutputChannel, _ data: Data) {
        let events = state.withLock { state -> [AgentEvent] in
            guard !state.capped else { return [] }
            state.pending[channel, default: []].append(contentsOf: data)
            let piled = state.pending.values.map(\.count).reduce(0, +)
            guard piled >= 4096 || ContinuousClock.now - state.lastFlush >= .milliseconds(100) else { return [] }
            return drain(&state, final: false)
        }
        events.forEach(emit)
    }

    /// Sends what is left; call when the run has ended, before its finished event.
    func finish() {
        state.withLock { drain(&$0, final: true) }.forEach(emit)
    }

    private func drain(_ state: inout State, final: Bool) -> [AgentEvent] {
        var events: [AgentEvent] = []
        for channel in [OutputChannel.stdout, .stderr] {
            guard var bytes = state.pending[channel], !bytes.isEmpty else { continue }
            let keep = final ? 0 : Self.incompleteTail(bytes)
            let tail = Array(bytes.suffix(keep))
            bytes.removeLast(keep)
            state.pending[channel] = tail
            guard !bytes.isEmpty else { continue }
            let room = Self.cap - state.forwarded
            var text = String(decoding: bytes.prefix(room), as: UTF8.self)
            state.forwarded += bytes.count
            if state.forwarded >= Self.cap {
                state.capped = true
                text += "\n… (live output stops here; the end is shown when the command finishes)\n"
            }
            events.append(.executionOutput(candidate: candidate, channel: channel, text: text))
            if state.capped { break }
        }
        state.lastFlush = .now
        return events
    }

    /// How many bytes at the end start a UTF-8 character that is not complete yet.
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        guard !bytes.isEmpty else { return 0 }
        for back in 1...min(3, bytes.count) {
            let byte = bytes[bytes.count - back]
            if byte & 0b1100_0000 == 0b1000_0000 { continue }  // a continuation byte: look further back
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }
}
