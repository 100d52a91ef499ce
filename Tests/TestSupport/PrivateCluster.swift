import Foundation
import Postgres

/// A PostgreSQL cluster of a test's own, for tests that restart or stop the server and so must
/// not disturb the shared one. Uses the binaries `scripts/test` names in `SPSE_TEST_PG_BINDIR`;
/// as root, runs them as `SPSE_TEST_PG_RUNAS` (initdb refuses to run as root).
public final class PrivateCluster: Sendable {
    public let directory: String
    private let binDirectory: String
    private let runAs: String?

    public var socketDirectory: String { directory + "/socket" }
    public var dataDirectory: String { directory + "/data" }
    public var configuration: ConnectionConfiguration {
        ConnectionConfiguration(conninfo: "host=\(socketDirectory) port=5432 user=postgres dbname=postgres")
    }

    /// Whether the environment names the binaries (it does under scripts/test).
    public static var isAvailable: Bool {
        ProcessInfo.processInfo.environment["SPSE_TEST_PG_BINDIR"].map { !$0.isEmpty } ?? false
    }

    /// initdb + start: about a second.
    public init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let bin = environment["SPSE_TEST_PG_BINDIR"], !bin.isEmpty else {
            throw TestSetupError("SPSE_TEST_PG_BINDIR is not set: run the tests with scripts/test")
        }
        binDirectory = bin
        runAs = environment["SPSE_TEST_PG_RUNAS"].flatMap { $0.isEmpty ? nil : $0 }
        directory = "/tmp/spse-cluster-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: directory + "/socket", withIntermediateDirectories: true)
        if let runAs { try Self.run("/bin/chown", ["-R", runAs, directory], as: nil) }
        try Self.run("\(bin)/initdb", ["-D", dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync"], as: runAs)
        try start()
    }

    public func start() throws {
        try Self.run(
            "\(binDirectory)/pg_ctl",
            ["-D", dataDirectory, "-w", "-l", directory + "/log", "-o", "-k \(socketDirectory) -p 5432 -c listen_addresses='' -c fsync=off", "start"],
            as: runAs)
    }

    /// A real restart: every session ends, the server comes back with new backends.
    public func restart() throws {
        try Self.run("\(binDirectory)/pg_ctl", ["-D", dataDirectory, "-w", "-m", "fast", "restart",
            "-o", "-k \(socketDirectory) -p 5432 -c listen_addresses='' -c fsync=off", "-l", directory + "/log"], as: runAs)
    }

    public func stop() throws {
        try Self.run("\(binDirectory)/pg_ctl", ["-D", dataDirectory, "-w", "-m", "immediate", "stop"], as: runAs)
    }

    /// Stops the server and removes its files.
    public func destroy() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func run(_ executable: String, _ arguments: [String], as user: String?) throws {
        let argv = user.map { ["/usr/sbin/runuser", "-u", $0, "--", executable] } ?? [executable]
        try ChildProcess.run(argv + arguments)
    }
}
