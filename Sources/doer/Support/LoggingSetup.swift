import Foundation
import Logging

/// Library logs (the sandbox's network decisions among them) go to stderr at the level
/// DOER_LOG_LEVEL names, `warning` unless set, so a command's own output stays readable;
/// `DOER_LOG_LEVEL=info` shows every egress decision as it happens.
enum LoggingSetup {
    static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = environment["DOER_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
