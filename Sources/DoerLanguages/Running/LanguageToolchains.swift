public import DoerCore
import Foundation

/// Which toolchains are installed, and the apt command that installs the rest.
public enum LanguageToolchains {
    /// Everything a language needs to run and test, not yet on this host.
    public static func missing(_ language: Language) -> [Toolchain.Requirement] {
        language.toolchain.missing(language.test?.requirements ?? [])
    }

    public static func isInstalled(_ language: Language) -> Bool { missing(language).isEmpty }

    /// The Debian packages that install everything `languages` need.
    public static func packages(for languages: [Language], onlyMissing: Bool = true) -> [String] {
        Toolchain.packages(languages.flatMap { language in
            onlyMissing ? missing(language) : language.toolchain.requirements + (language.test?.requirements ?? [])
        })
    }

    /// Requirements no Debian package provides (the swift.org toolchain).
    public static func manual(for languages: [Language]) -> [String] {
        languages.compactMap { language in
            missing(language).contains { $0.package == nil } ? "\(language.displayName): \(language.toolchain.manualInstall ?? "install it by hand")" : nil
        }
    }

    /// The command that installs `packages` without the recommended extras.
    public static func aptCommand(_ packages: [String]) -> [String] {
        ["apt-get", "install", "-y", "--no-install-recommends"] + packages
    }

    static func missingError(_ language: Language, _ missing: [Toolchain.Requirement]) -> DoerError {
        .toolchainMissing(language: language.name, missing: missing.map(\.path), packages: Toolchain.packages(missing))
    }
}
