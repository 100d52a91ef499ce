import Foundation

/// Programs a test starts: posix_spawn + waitpid rather than Foundation's Process, whose exit
/// monitoring can hang when the child leaves a daemon (the postmaster) behind.
public struct ChildProcess: Sendable {
    public let pid: pid_t
    /// Where the child's stdout (and stderr, unless split) go.
    public let outputPath: String
    /// Where stderr goes when split from stdout.
    public let errorPath: String?

    /// Starts `argv` with stdin from /dev/null and output to a temporary file. `environment`
    /// replaces the test's own; `splitErrors` keeps stderr apart from stdout.
    public static func spawn(_ argv: [String], environment: [String: String]? = nil, splitErrors: Bool = false) throws -> ChildProcess {
        let outputPath = NSTemporaryDirectory() + "spse-child-\(UUID().uuidString).out"
        let errorPath = splitErrors ? outputPath + ".err" : nil
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        // The test runner blocks some signals; a child must not inherit that mask.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var cEnvironment = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned: Int32
        if cEnvironment != nil {
            spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, &cEnvironment!)
        } else {
            spawned = posix_spawn(&pid, argv[0], &actions, &attributes, &cArguments, environ)
        }
        guard spawned == 0 else { throw TestSetupError("cannot start \(argv[0]): errno \(spawned)") }
        return ChildProcess(pid: pid, outputPath: outputPath, errorPath: errorPath)
    }

    /// Runs `argv` to completion; throws with its output when it fails.
    public static func run(_ argv: [String]) throws {
        let child = try spawn(argv)
        defer { try? FileManager.default.removeItem(atPath: child.outputPath) }
        let status = child.wait()
        guard status == 0 else {
            throw TestSetupError("\(argv.joined(separator: " ")) failed (status \(status)): \(child.output)")
        }
    }

    /// Waits for the child to end; its exit status, or 128 + signal.
    @discardableResult
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// Whether the child has already ended (reaping it), without waiting.
    public var hasEnded: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid
    }

    public var output: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }
    public var errors: String { errorPath.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "" }

    /// Kills the child (a test server needs no graceful end), reaps it and removes its output file.
    public func terminate() {
        kill(pid, SIGKILL)
        wait()
        try? FileManager.default.removeItem(atPath: outputPath)
        if let errorPath { try? FileManager.default.removeItem(atPath: errorPath) }
    }
}
