// swift-tools-version:6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "doer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "doer", targets: ["doer"]),
        .executable(name: "doer-sandbox-init", targets: ["doer-sandbox-init"]),
        .executable(name: "doer-mcp", targets: ["doer-mcp"]),
        .executable(name: "doer-sandbox-runner", targets: ["doer-sandbox-runner"]),
        .library(name: "DoerCore", targets: ["DoerCore"]),
        .library(name: "DoerSandbox", targets: ["DoerSandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        // async-http-client's own TLS, named for the Kubernetes API server's CA.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // OTLP over HTTP only: the gRPC exporter would add grpc-swift to every build.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // Value types shared by every layer. Foundation only.
        .target(name: "DoerCore", swiftSettings: upcoming),

        // Process spawning and the seccomp filter, in C because they must run between
        // fork and exec, where only async-signal-safe code is allowed.
        .target(name: "CDoerSandbox"),

        // The first program inside every bubblewrap sandbox: waits for a run request,
        // installs the seccomp filter and the limits, runs the command, reports its status.
        // It must not need the Swift runtime, which is not mounted in sandboxes.
        .executableTarget(
            name: "doer-sandbox-init", dependencies: ["CDoerSandbox"],
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),

        .target(
            name: "DoerSandbox",
            dependencies: [
                "DoerCore", "CDoerSandbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSOCKS", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                // The kubernetes backend's API client.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: upcoming
        ),

        // The program in every kubernetes sandbox pod: takes one run over HTTP, runs it
        // under doer-sandbox-init, answers its result and the changed files.
        .executableTarget(name: "doer-sandbox-runner", dependencies: ["DoerSandbox"], swiftSettings: upcoming),

        .target(name: "DoerLanguages", dependencies: ["DoerCore", "DoerSandbox"], swiftSettings: upcoming),

        // Running programs on this machine outside any sandbox (git, python3 and pip, the
        // detached llama-server): below Models and Deploy, which must not depend on the
        // sandbox or on each other, and not in DoerCore, which holds values only.
        .target(
            name: "DoerProcess",
            dependencies: [
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: upcoming
        ),

        // Model providers: OpenAI-compatible, Anthropic, the managed local llama-server;
        // the text action protocol.
        .target(
            name: "DoerModels",
            dependencies: [
                "DoerCore", "DoerProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),

        // The plan → execute → reflect loop, speculative candidates, the event stream.
        .target(
            name: "DoerAgent",
            dependencies: ["DoerCore", "DoerSandbox", "DoerLanguages", "DoerModels", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming
        ),

        // SQLite settings only its C interface offers (`sqlite3_db_config` is variadic, which
        // Swift does not call).
        .target(name: "CDoerSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),

        // Persistence in SQLite (embedded default) or PostgreSQL: sessions and their events,
        // tokens and owners, the hash-chained audit trail.
        .target(
            name: "DoerStore",
            dependencies: [
                "DoerCore", "CDoerSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),

        // Shipping a result: git branch/commit/push, pull requests, CI triggers and their status.
        .target(
            name: "DoerDeploy",
            dependencies: [
                "DoerCore", "DoerStore", "DoerProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),

        // Reading config.toml and the environment into the configuration model, and from it
        // each library's settings.
        .target(
            name: "DoerConfig",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerModels", "DoerStore", "DoerDeploy",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: upcoming
        ),

        // Prometheus metrics and OTLP traces of sessions, model calls and sandboxed runs.
        .target(
            name: "DoerTelemetry",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerModels",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OTel", package: "swift-otel"),
            ],
            swiftSettings: upcoming
        ),

        // The one hallway every frontend goes through: configuration → sandbox, language
        // cache, model, store, audit → agents and recorded sessions, undo, conversation context.
        .target(
            name: "DoerRuntime",
            dependencies: ["DoerCore", "DoerSandbox", "DoerLanguages", "DoerConfig", "DoerModels", "DoerAgent", "DoerStore", "DoerTelemetry"],
            swiftSettings: upcoming
        ),

        // Every benchmark and the one statistics helper; the libraries never depend on it.
        .target(
            name: "DoerBench",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerLanguages", "DoerModels", "DoerAgent", "DoerStore", "DoerDeploy", "DoerProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),

        // The HTTP API, server-sent events, the browser UI, bearer-token auth.
        .target(
            name: "DoerServer",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerLanguages", "DoerConfig", "DoerModels", "DoerAgent", "DoerStore", "DoerDeploy",
                "DoerRuntime", "DoerTelemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: upcoming
        ),

        // The MCP server, in its own executable: the MCP SDK brings Foundation's networking and
        // with it libcurl and some thirty libraries it loads, which cost every `doer` command
        // about 4 ms of its start (doer bench cli). `doer mcp` hands over to `doer-mcp`.
        .target(
            name: "DoerMCP",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerLanguages", "DoerConfig", "DoerAgent", "DoerStore", "DoerRuntime", "DoerServer",
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "doer-mcp",
            dependencies: ["DoerMCP", "DoerCore", "DoerRuntime"],
            swiftSettings: upcoming
        ),

        .executableTarget(
            name: "doer",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerLanguages", "DoerConfig", "DoerModels", "DoerAgent", "DoerStore", "DoerDeploy", "DoerServer",
                "DoerRuntime", "DoerBench", "DoerProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming,
            plugins: ["BuildCommit"]
        ),
        // Writes the checkout's commit into doer (`doer --version`) at build time.
        .plugin(name: "BuildCommit", capability: .buildTool()),

        .testTarget(
            name: "DoerCoreTests",
            dependencies: ["DoerCore", "DoerConfig", "DoerModels", "DoerStore", "DoerDeploy", "DoerSandbox"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerRuntimeTests",
            dependencies: ["DoerCore", "DoerConfig", "DoerSandbox", "DoerLanguages", "DoerModels", "DoerAgent", "DoerStore", "DoerRuntime"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerSandboxTests",
            dependencies: [
                "DoerCore", "DoerSandbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        // Test doubles shared by test targets: a scripted HTTP server on loopback, the
        // tests' PostgreSQL (DoerStore's temporary server, shared by the test process).
        .target(
            name: "DoerTestSupport",
            dependencies: [
                "DoerStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Tests/DoerTestSupport",
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerModelsTests",
            dependencies: [
                "DoerCore", "DoerModels", "DoerProcess", "DoerTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerAgentTests",
            dependencies: [
                "DoerCore", "DoerSandbox", "DoerModels", "DoerProcess", "DoerAgent", "DoerBench",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
        .testTarget(name: "DoerProcessTests", dependencies: ["DoerProcess"], swiftSettings: upcoming),
        .testTarget(
            name: "DoerLanguagesTests",
            dependencies: ["DoerCore", "DoerSandbox", "DoerLanguages"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerStoreTests",
            dependencies: [
                "DoerCore", "DoerStore", "DoerTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerDeployTests",
            dependencies: [
                "DoerCore", "DoerStore", "DoerDeploy", "DoerProcess", "DoerTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerServerTests",
            dependencies: [
                "DoerCore", "DoerStore", "DoerModels", "DoerAgent", "DoerServer", "DoerDeploy", "DoerProcess", "DoerTestSupport",
                "DoerRuntime", "DoerConfig", "DoerSandbox", "DoerLanguages", "DoerTelemetry", "DoerMCP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DoerBenchTests",
            dependencies: ["DoerCore", "DoerSandbox", "DoerStore", "DoerBench"],
            swiftSettings: upcoming
        ),
        // Drives the built `doer` executable end to end.
        .testTarget(
            name: "DoerCLITests",
            dependencies: ["doer", "DoerCore", "DoerStore", "DoerTestSupport", "DoerRuntime", "DoerConfig", "DoerSandbox", "DoerAgent",
                           "DoerLanguages", "DoerModels", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: upcoming
        ),
    ]
)
