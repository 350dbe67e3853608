import DoerConfig
import DoerCore
import DoerRuntime
import DoerStore
import Foundation

/// Opens the audit trail the way every command does: the configured store, signed when a
/// key is configured, naming the configured user (or $USER).
enum AuditSupport {
    static func log(_ configuration: DoerConfiguration, directories: DataDirectory = DataDirectory()) throws(DoerError) -> AuditLog {
        try Runtime.openAudit(configuration, directories: directories)
    }

    static func recorder(_ configuration: DoerConfiguration, session: String?,
                         directories: DataDirectory = DataDirectory()) throws(DoerError) -> AuditRecorder {
        AuditRecorder(log: try log(configuration, directories: directories), actor: configuration.audit.actor(), session: session)
    }
}
