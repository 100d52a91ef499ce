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

    /// posix_spawn + waitpid rather than Foundation's Process, whose exit monitoring can hang
    /// when the child leaves a daemon (the postmaster) behind.
    private static func run(_ executable: String, _ arguments: [String], as user: String?) throws {
        let argv = user.map { ["/usr/sbin/runuser", "-u", $0, "--", executable] } ?? [executable]
        let all = argv + arguments
        let outputPath = NSTemporaryDirectory() + "spse-cluster-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = all.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, all[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw TestSetupError("cannot start \(all[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitedCleanly = (status & 0x7f) == 0 && (status >> 8) & 0xff == 0
        guard exitedCleanly else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw TestSetupError("\(all.joined(separator: " ")) failed (status \(status)): \(text)")
        }
    }
}
