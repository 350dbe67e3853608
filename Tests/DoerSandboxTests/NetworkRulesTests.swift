import DoerCore
@testable import DoerSandbox
import Foundation
import NIOHTTP1
import Testing

@Suite("network: host patterns")
struct HostPatternTests {
    @Test("exact names ignore case and one trailing dot, and match nothing else")
    func exact() throws {
        let pattern = try HostPattern(parsing: "Registry.Example.ORG.")
        #expect(pattern == .exact("registry.example.org"))
        for host in ["registry.example.org", "REGISTRY.example.org", "registry.example.org."] { #expect(pattern.matches(host), "\(host)") }
        for host in ["example.org", "a.registry.example.org", "registry.example.org.evil.test", "registry.example.org..",
                     "xregistry.example.org", "registry-example.org"] {
            #expect(!pattern.matches(host), "\(host)")
        }
    }

    @Test("*.suffix matches names below it, not the suffix itself nor look-alikes")
    func wildcard() throws {
        let pattern = try HostPattern(parsing: "*.Example.org")
        #expect(pattern == .subdomains(of: "example.org"))
        for host in ["a.example.org", "a.b.example.org", "A.EXAMPLE.ORG."] { #expect(pattern.matches(host), "\(host)") }
        for host in ["example.org", "badexample.org", "example.org.evil.test", ".example.org", "a.example.org.evil"] {
            #expect(!pattern.matches(host), "\(host)")
        }
    }

    @Test("IP literals match the same address however it is written, never a name")
    func literals() throws {
        let v4 = try HostPattern(parsing: "192.0.2.7")
        #expect(v4.matches("192.0.2.7"))
        #expect(!v4.matches("192.0.2.8"))
        let v6 = try HostPattern(parsing: "[2001:DB8::1]")
        #expect(v6.matches("2001:db8:0:0:0:0:0:1"))
        #expect(v6.matches("[2001:db8::1]"))
        #expect(!v6.matches("2001:db8::2"))
        // A name is not an address, and an address does not match a name pattern.
        #expect(!(try HostPattern(parsing: "*.0.2.7")).matches("192.0.2.7"))
        #expect(!(try HostPattern(parsing: "localhost")).matches("127.0.0.1"))
        // Shorthand IPv4 forms are not addresses; as names they match nothing listed.
        #expect(IPAddress("127.1") == nil)
        #expect(IPAddress("0x7f.0.0.1") == nil)
        #expect(!v4.matches("0300.0.2.7"))
    }

    @Test("URLs are reduced to their host; ports and credentials dropped")
    func urls() throws {
        #expect(try HostPattern(parsing: "https://user:pw@Mirror.Example.net:8443/simple/") == .exact("mirror.example.net"))
        #expect(try HostPattern(parsing: "http://[2001:db8::5]:8080/x") == .address(IPAddress("2001:db8::5")!))
    }

    @Test("bad patterns are refused with a message that shows the accepted forms")
    func invalid() {
        for text in ["", "*.", "exa mple.org", "a..b", "-a.org", "a/b", "*", "**.org", "a%00b.org", String(repeating: "a", count: 64) + ".org"] {
            #expect(throws: DoerError.self, "\(text)") { try HostPattern(parsing: text) }
        }
        #expect { try HostPattern(parsing: "exa mple.org") } throws: { "\($0)".contains("*.example.org") }
    }

    @Test("rules decide by name: registries and allowlist refuse names not listed, with a remedy")
    func rules() throws {
        let rules = EgressRules(access: .allowlist, allowlist: try HostAllowlist(parsing: ["*.example.org", "example.net"]))
        #expect(rules.evaluate(host: "files.example.org") == .allowed(.hostAllowed))
        #expect(rules.evaluate(host: "example.net") == .allowed(.hostAllowed))
        guard case .refused(let why) = rules.evaluate(host: "other.test") else {
            Issue.record("other.test was allowed")
            return
        }
        #expect(why.contains("--allow other.test"))
        #expect(EgressRules(access: .full, allowlist: HostAllowlist([])).evaluate(host: "anything.test") == .allowed(.anyPublicHost))
        if case .allowed = EgressRules(access: .none, allowlist: try HostAllowlist(parsing: ["a.test"])).evaluate(host: "a.test") {
            Issue.record("policy none allowed a host")
        }
    }
}

@Suite("network: address classifier")
struct AddressClassifierTests {
    @Test("loopback, private, link-local, CGNAT, multicast, unspecified and metadata are refused", arguments: [
        ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
        ("10.0.0.1", "private"), ("172.16.0.1", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
        ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fec0::1", "private"),
        ("169.254.1.1", "link-local"), ("fe80::1", "link-local"), ("febf::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"), ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"), ("239.1.2.3", "multicast"), ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("::", "unspecified"),
        ("255.255.255.255", "broadcast"), ("240.0.0.1", "reserved"),
        ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"),
        // IPv6 forms that carry an IPv4 destination are judged by it.
        ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"), ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::a00:1", "private"), ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::1", "cloud metadata"),
        ("192.0.0.170", "reserved"), ("100::1", "reserved"), ("::5", "unspecified"),
    ])
    func refused(address: String, category: String) throws {
        let ip = try #require(IPAddress(address))
        #expect(AddressClassifier.classify(ip).rawValue == category)
        #expect(!AddressClassifier.isAllowed(ip))
    }

    @Test("public unicast addresses pass, including the neighbours of refused ranges", arguments: [
        "1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1", "169.253.255.255",
        "169.255.0.1", "11.0.0.1", "126.255.255.255", "128.0.0.1", "223.255.255.255",
        "2606:4700::1111", "2001:4860::8888", "::ffff:8.8.8.8", "2002:0808:0808::1",
        // Documentation ranges are not internal: some gateways serve real mirrors there.
        "192.0.2.1", "203.0.113.80", "2001:db8::1",
    ])
    func allowed(address: String) throws {
        let ip = try #require(IPAddress(address))
        #expect(AddressClassifier.isAllowed(ip), "\(address) is \(AddressClassifier.classify(ip))")
    }
}

@Suite("network: proxy request targets")
struct ProxyTargetTests {
    private func head(_ method: HTTPMethod, _ uri: String) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri)
    }

    @Test("CONNECT authority forms: names, IPv4, bracketed IPv6; a port is required")
    func connect() throws {
        let named = try ProxyTarget.parse(head(.CONNECT, "Files.Example.org.:443")).get()
        #expect(named.host == "files.example.org" && named.port == 443 && named.literal == nil)
        let v6 = try ProxyTarget.parse(head(.CONNECT, "[::1]:22")).get()
        #expect(v6.literal == IPAddress("::1") && v6.port == 22)
        let v4 = try ProxyTarget.parse(head(.CONNECT, "169.254.169.254:80")).get()
        #expect(v4.literal == IPAddress("169.254.169.254"))
        for bad in ["example.org", "example.org:0", "example.org:70000", "example.org:http", "::1:22", "[::1]", "exa mple:1",
                    ":443", "a/b:443"] {
            #expect(throws: ProxyTarget.Problem.self, "\(bad)") { try ProxyTarget.parse(head(.CONNECT, bad)).get() }
        }
    }

    @Test("plain requests need an absolute http:// URL; the head sent on is origin-form with its own Host")
    func absolute() throws {
        var request = head(.GET, "http://Example.org:8080/simple/six/?x=1")
        request.headers.add(name: "Host", value: "elsewhere.test")
        request.headers.add(name: "Proxy-Authorization", value: "secret")
        request.headers.add(name: "Connection", value: "keep-alive")
        let target = try ProxyTarget.parse(request).get()
        #expect(target.host == "example.org" && target.port == 8080)
        let sent = target.originHead(from: request)
        #expect(sent.uri == "/simple/six/?x=1")
        #expect(sent.headers["Host"] == ["example.org:8080"])
        #expect(sent.headers["Proxy-Authorization"].isEmpty)
        #expect(sent.headers["Connection"] == ["close"])
        #expect(try ProxyTarget.parse(head(.GET, "http://example.org")).get().originHead(from: head(.GET, "http://example.org")).uri == "/")
        let origin = ProxyTarget.parse(head(.GET, "/index.html"))
        #expect(throws: ProxyTarget.Problem.self) { try origin.get() }
        #expect(throws: ProxyTarget.Problem.self) { try ProxyTarget.parse(head(.GET, "https://example.org/")).get() }
        #expect(throws: ProxyTarget.Problem.self) { try ProxyTarget.parse(head(.GET, "http://user:pw@example.org/")).get() }
    }
}

@Suite("network: registry discovery")
struct RegistryDiscoveryTests {
    /// A fake machine in a folder: its pip and apt configuration files.
    private func machine(_ files: [String: String]) throws -> ScratchWorkspace {
        try ScratchWorkspace(files: files)
    }

    @Test("pip: files in pip's order, the environment last; local find-links ignored")
    func pip() throws {
        let root = try machine([
            "etc/pip.conf": "[global]\nindex-url = https://system-index.test/simple\ncert = /etc/ssl/x.pem\n",
            "home/u/.config/pip/pip.conf": """
            [global]
            extra-index-url =
                https://extra-one.test/simple
                https://extra-two.test/simple
            find-links = /opt/wheels https://links.test/wheels/
            [freeze]
            index-url = https://ignored.test/
            """,
        ])
        let found = RegistryDiscovery(root: root.url.path, environment: [:], home: "/home/u").discover()
        #expect(found.hosts == ["system-index.test", "extra-one.test", "extra-two.test", "links.test"])
        #expect(found.pipEnvironment["PIP_INDEX_URL"] == "https://system-index.test/simple")
        #expect(found.pipEnvironment["PIP_EXTRA_INDEX_URL"] == "https://extra-one.test/simple https://extra-two.test/simple")
        #expect(found.pipEnvironment["PIP_FIND_LINKS"] == "https://links.test/wheels/")

        let fromEnvironment = RegistryDiscovery(root: root.url.path, environment: ["PIP_INDEX_URL": "https://env-index.test/simple",
                                                                                  "PIP_FIND_LINKS": "/opt/wheels"],
                                                home: "/home/u").discover()
        #expect(fromEnvironment.hosts == ["env-index.test", "extra-one.test", "extra-two.test"])
        #expect(fromEnvironment.pipEnvironment["PIP_FIND_LINKS"] == nil)
    }

    @Test("pip without an index-url: pip's own default index and file host, read from pip's source")
    func pipDefault() throws {
        let root = try machine([
            "usr/lib/python3/dist-packages/pip/_internal/models/index.py": """
            PyPI = PackageIndex("https://default-index.test/", file_storage_domain="default-files.test")
            TestPyPI = PackageIndex("https://other.test/", file_storage_domain="other-files.test")
            """,
        ])
        let found = RegistryDiscovery(root: root.url.path, environment: [:], home: nil).discover()
        #expect(found.hosts == ["default-index.test", "default-files.test"])
        #expect(found.pipEnvironment["PIP_INDEX_URL"] == nil)
    }

    @Test("apt: one-line and deb822 sources, options, deb-src and disabled stanzas")
    func apt() throws {
        let root = try machine([
            "etc/apt/sources.list": """
            # deb http://commented.test/debian bookworm main
            deb [arch=amd64 signed-by=/k.gpg] http://one-line.test/debian bookworm main
            deb-src https://source-line.test/debian bookworm main
            deb file:/srv/local ./
            """,
            "etc/apt/sources.list.d/extra.list": "deb https://extra-list.test/apt stable main\n",
            "etc/apt/sources.list.d/skipped.list.disabled": "deb https://disabled-file.test/apt stable main\n",
            "etc/apt/sources.list.d/debian.sources": """
            Types: deb
            URIs: http://deb822-a.test/debian
             https://deb822-b.test/debian
            Suites: bookworm

            Types: deb
            Enabled: no
            URIs: http://deb822-off.test/debian
            """,
        ])
        let hosts = RegistryDiscovery(root: root.url.path, environment: [:], home: nil).discover().hosts
        #expect(hosts == ["one-line.test", "source-line.test", "extra-list.test", "deb822-a.test", "deb822-b.test"])
    }

    @Test("a policy's rules: discovered registries plus the configured hosts; allowlist only its own")
    func policyRules() throws {
        let discovered = RegistryDiscovery.Result(
            registries: [.init(host: "found.test", source: "x")], pipEnvironment: [:])
        let registries = try RunEgress.rules(for: .registries(adding: ["*.mine.test"]), discovered: discovered)
        #expect(registries.allowlist.allows("found.test") && registries.allowlist.allows("a.mine.test"))
        let allowlist = try RunEgress.rules(for: .allowlist(["mine.test"]), discovered: discovered)
        #expect(!allowlist.allowlist.allows("found.test") && allowlist.allowlist.allows("mine.test"))
        #expect(throws: DoerError.self) { try RunEgress.rules(for: .allowlist(["bad host"]), discovered: discovered) }
    }
}
