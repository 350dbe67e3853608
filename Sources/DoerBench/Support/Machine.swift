import Foundation

/// The machine figures came from, as reports and the README state it: absolute times mean
/// little without it.
public enum Machine {
    public static var description: String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n")
            .first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        return String(format: "%@, %d cores, %.0f GiB, %@", cpu, ProcessInfo.processInfo.activeProcessorCount, memory,
                      ProcessInfo.processInfo.operatingSystemVersionString)
    }
}
