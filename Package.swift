// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

/// The web console's templates and assets, compiled into the binary (nothing to find at run time).
let consoleResources = ["layout", "login", "projects", "members", "identities", "identity", "reveal", "overview", "dynamic-new", "dynamic",
                        "pam", "pam-open", "audit", "error", "fields"].map { "Templates/\($0).mustache" } + ["Assets/console.css", "Assets/console.js", "Assets/favicon.svg"]

let package = Package(
    name: "kms",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kms", targets: ["Host"]),
        .library(name: "Core", targets: ["Core"]),
        .library(name: "AWSKit", targets: ["AWSKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .systemLibrary(name: "CArgon2", path: "Sources/CArgon2", pkgConfig: "libargon2",
                       providers: [.apt(["libargon2-dev"])]),
        .systemLibrary(name: "CLDAP", path: "Sources/CLDAP", pkgConfig: "ldap", providers: [.apt(["libldap-dev"])]),
        .target(
            name: "Core",
            dependencies: [
                "CArgon2",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "AWSKit",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "CLISupport",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Agent",
            dependencies: [
                "CLISupport", "AWSKit",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(name: "AuthToken", dependencies: ["Core"], path: "Plugins/AuthToken", swiftSettings: strict),
        .target(
            name: "AuthAWS",
            dependencies: [
                "Core", "AWSKit", "CLISupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Plugins/AuthAWS",
            swiftSettings: strict
        ),
        .target(name: "AuthUniversal", dependencies: ["Core", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Plugins/AuthUniversal", swiftSettings: strict),
        .target(name: "AuthOIDC",
                dependencies: ["Core", "CLISupport", .product(name: "JWTKit", package: "jwt-kit"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                               .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Plugins/AuthOIDC", swiftSettings: strict),
        .target(name: "AuthLDAP", dependencies: ["Core", "CLDAP", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                                 .product(name: "NIOSSL", package: "swift-nio-ssl")],
                path: "Plugins/AuthLDAP", swiftSettings: strict),
        .target(name: "AuditStreams",
                dependencies: ["Core", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                               .product(name: "NIOSSL", package: "swift-nio-ssl"),
                               .product(name: "Metrics", package: "swift-metrics"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                path: "Plugins/AuditStreams", swiftSettings: strict),
        .target(
            name: "Console",
            dependencies: ["Core", .product(name: "Mustache", package: "swift-mustache"), .product(name: "Hummingbird", package: "hummingbird")],
            exclude: ["README.md"],
            resources: consoleResources.map { .embedInCode($0) },
            swiftSettings: strict
        ),
        .target(name: "DynamicAWSIAM", dependencies: ["Core", "AWSKit"], path: "Plugins/DynamicAWSIAM", swiftSettings: strict),
        .target(
            name: "PAMAWSConsole",
            dependencies: ["Core", "AWSKit", "CLISupport", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Plugins/PAMAWSConsole",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "Host",
            dependencies: [
                "Core", "CLISupport", "Agent", "AuthToken", "AuthAWS", "AuthUniversal", "AuthOIDC", "AuthLDAP", "AuditStreams", "DynamicAWSIAM", "PAMAWSConsole", "Console",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "AWSKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "CoreTests", dependencies: ["Core"]),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "Core"]),
        .testTarget(name: "AuthAWSTests", dependencies: ["AuthAWS"]),
        .testTarget(name: "PAMAWSConsoleTests", dependencies: ["PAMAWSConsole", "Core"]),
        .testTarget(name: "AuthOIDCTests", dependencies: ["AuthOIDC", .product(name: "JWTKit", package: "jwt-kit")]),
        .testTarget(name: "AuthLDAPTests", dependencies: ["AuthLDAP"]),
        .testTarget(name: "DynamicAWSIAMTests", dependencies: ["DynamicAWSIAM", "AWSKit", "Core", .product(name: "HummingbirdTesting", package: "hummingbird")]),
        .testTarget(
            name: "AWSKitTests",
            dependencies: [
                "AWSKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Vectors"]
        ),
        .testTarget(
            name: "HostTests",
            dependencies: [
                "Host",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
