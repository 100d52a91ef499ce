// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "spse-accounts",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "spse-accounts", targets: ["spse-accounts"]),
        .executable(name: "spse-bench", targets: ["spse-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/yaslab/CSV.swift.git", from: "2.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/console-kit.git", from: "4.16.2"),
    ],
    targets: [
        // C libraries, wrapped once each.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // libargon2 20171227 (CC0 / Apache 2.0; the copy argon2-cffi-bindings ships), built from
        // source: Debian's package is its portable reference code, this is its vector code, chosen
        // at run time (AVX-512F, AVX2, SSE2), 1.8x the hashes/s here at the same parameters.
        // Optimized in debug builds too, so tests hash at the speed the service does.
        .target(
            name: "CArgon2",
            exclude: ["libargon2/src/opt.c", "libargon2/src/ref.c", "libargon2/LICENSE", "libargon2/CHANGELOG.md", "libargon2/PROVENANCE.md"],
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),

        // Typed, bounded input every door shares: free text, pages, periods.
        .target(name: "Inputs", swiftSettings: swiftSettings),
        // Thin Swift layer over libpq: connections, pool, typed rows, transactions, COPY.
        .target(name: "Postgres", dependencies: ["CLibPQ"], swiftSettings: swiftSettings),
        // Argon2id PHC hashing over libargon2 on a bounded worker pool.
        .target(name: "PasswordHashing", dependencies: ["CArgon2"], swiftSettings: swiftSettings),
        // The append-only, hash-chained audit trail.
        .target(
            name: "Audit",
            dependencies: ["Postgres", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Accounts, lookup, temporary passwords, login, password policy, lockout, sessions.
        .target(
            name: "Accounts",
            dependencies: [
                "Postgres", "PasswordHashing", "Audit", "Inputs", .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/common-passwords.txt"), .copy("Resources/common-passwords.LICENSE.txt")],
            swiftSettings: swiftSettings
        ),
        // The SOP 004 approval gate: requests, documents, steps, SLA clock, notices, archive.
        .target(
            name: "Gate",
            dependencies: ["Postgres", "Accounts", "Audit", "PasswordHashing", "Inputs", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Notices by e-mail: SMTP with STARTTLS over SwiftNIO.
        .target(
            name: "SMTPSender",
            dependencies: [
                "Gate",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        // Back-channel logout tokens POSTed to the applications, over SwiftNIO (HTTP/1.1, TLS).
        .target(
            name: "LogoutSender",
            dependencies: [
                "Federation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // Batch provisioning: CSV/JSONL files validated as a whole, hashed on the pool, loaded with COPY.
        .target(
            name: "Provisioning",
            dependencies: [
                "Postgres", "Accounts", "Audit", "PasswordHashing",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The OpenID provider's domain: clients, signing keys, consents, codes and tokens.
        .target(
            name: "Federation",
            dependencies: [
                "Postgres", "Accounts", "Audit", "PasswordHashing",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // sql/NNN_name.sql applied in order under an advisory lock.
        .target(
            name: "Migrations",
            dependencies: ["Postgres", "Inputs", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // The use-cases every door calls, the settings read once, and the one service graph.
        .target(
            name: "Operations",
            dependencies: [
                "Postgres", "Accounts", "Gate", "PasswordHashing", "Audit", "Provisioning", "SMTPSender", "Inputs", "Federation",
                .product(name: "CSV", package: "CSV.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // What every web door shares (the JSON API, the console, the doors to come): the request
        // context and its caller, the client's address, forms and uploads, and the one mapping of
        // typed errors to a status, a problem and a message.
        .target(
            name: "DoorKit",
            dependencies: [
                "Postgres", "Accounts", "Gate", "PasswordHashing", "Provisioning", "Operations", "Inputs", "Federation",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP front door (Hummingbird 2).
        .target(
            name: "HTTPAPI",
            dependencies: [
                "DoorKit", "Postgres", "Migrations", "Accounts", "Gate", "PasswordHashing", "Audit", "Provisioning", "Operations", "Inputs", "Federation",
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The OpenID provider's door for relying parties: discovery, JWKS, token, userinfo.
        .target(
            name: "OpenIDDoor",
            dependencies: ["DoorKit", "Operations", "Federation", "Accounts", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        // libqrencode as one function: a text as an SVG QR code (the authenticator's enrolment).
        .target(name: "QRCode", dependencies: ["CQRencode"], swiftSettings: swiftSettings),
        // The web console: a third door (server-rendered pages) over the same operations.
        .target(
            name: "Console",
            dependencies: [
                "DoorKit", "Operations", "Accounts", "Gate", "Inputs", "Provisioning", "Audit", "QRCode", "Federation",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "spse-accounts",
            dependencies: [
                "Console", "Postgres", "PasswordHashing", "Migrations", "HTTPAPI", "DoorKit", "Audit", "Accounts", "Gate", "SMTPSender", "Provisioning",
                "Operations", "Inputs", "OpenIDDoor", "Federation", "LogoutSender",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ConsoleKitTerminal", package: "console-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "spse-bench",
            dependencies: [
                "PasswordHashing", "Postgres", "Migrations", "Accounts", "Audit", "Provisioning", "Operations",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // Test support: throwaway databases and private clusters on the real PostgreSQL.
        .target(
            name: "TestSupport",
            dependencies: ["Postgres", "Migrations", "Accounts", "Audit", "PasswordHashing", "Operations", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "PasswordHashingTests", dependencies: ["PasswordHashing"], swiftSettings: swiftSettings),
        .testTarget(name: "MigrationsTests", dependencies: ["Migrations", "Postgres", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Accounts", "Migrations", "Postgres", "TestSupport", "Operations"], swiftSettings: swiftSettings),
        .testTarget(
            name: "AccountsTests",
            dependencies: ["Accounts", "Audit", "PasswordHashing", "Migrations", "Postgres", "TestSupport", "Operations", "Inputs"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GateTests",
            dependencies: ["Gate", "Accounts", "Audit", "PasswordHashing", "Migrations", "Postgres", "TestSupport", "Operations", "Inputs"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProvisioningTests",
            dependencies: ["Provisioning", "Accounts", "Audit", "PasswordHashing", "Postgres", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: [
                "spse-accounts", "Accounts", "Postgres", "TestSupport", "Operations", "HTTPAPI", "DoorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "Inputs", "Gate", "Accounts", "Audit", "PasswordHashing", "Postgres", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FederationTests",
            dependencies: ["Federation", "Accounts", .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SMTPSenderTests", dependencies: ["SMTPSender", "Gate", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "HTTPAPI", "DoorKit", "Postgres", "TestSupport", "Accounts", "Gate", "Operations", "OpenIDDoor", "Federation", "LogoutSender",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPAPITests",
            dependencies: [
                "HTTPAPI", "DoorKit", "Postgres", "Migrations", "TestSupport", "Accounts", "Audit", "Gate", "Operations", "Inputs",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
