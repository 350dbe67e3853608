import DoerCore
import Foundation
import Testing

@Suite("data directory")
struct DataDirectoryTests {
    @Test("DOER_HOME holds everything")
    func doerHome() {
        let dirs = DataDirectory(environment: ["DOER_HOME": "/srv/doer", "HOME": "/home/u", "XDG_DATA_HOME": "/x"])
        #expect(dirs.config.path == "/srv/doer/config")
        #expect(dirs.data.path == "/srv/doer/data")
        #expect(dirs.cache.path == "/srv/doer/cache")
        #expect(dirs.configFile.path == "/srv/doer/config/config.toml")
    }

    @Test("XDG locations otherwise, with the usual fallbacks")
    func xdg() {
        let dirs = DataDirectory(environment: ["HOME": "/home/u", "XDG_CONFIG_HOME": "/cfg"])
        #expect(dirs.config.path == "/cfg/doer")
        #expect(dirs.data.path == "/home/u/.local/share/doer")
        #expect(dirs.cache.path == "/home/u/.cache/doer")
    }

    @Test("relative XDG paths are ignored, as the specification says")
    func relativeIgnored() {
        let dirs = DataDirectory(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "relative"])
        #expect(dirs.data.path == "/home/u/.local/share/doer")
    }
}
