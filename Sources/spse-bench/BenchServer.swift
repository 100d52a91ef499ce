import Foundation

/// The real `spse-accounts serve` (the release build next to spse-bench) on loopback, as its own
/// process so its memory can be read from /proc.
final class BenchServer {
    let process = Process()
    let port: Int

    init(database: ScratchDatabase, port: Int, environment extra: [String: String]) throws {
        self.port = port
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let executable = directory.appendingPathComponent("spse-accounts")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw BenchError("\(executable.path) is missing: build it with `swift build -c release`")
        }
        process.executableURL = executable
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.url
        environment["SPSE_LOG_LEVEL"] = "error"
        environment["SPSE_NOTICE_FILE"] = NSTemporaryDirectory() + "\(database.name)-notices.jsonl"
        environment["SPSE_DB_MAX_CONNECTIONS"] = environment["SPSE_DB_MAX_CONNECTIONS"] ?? "16"
        // The benchmarks measure passwords and the gate: operators sign in with a password alone.
        environment["SPSE_TOTP_OPERATORS"] = "optional"
        environment["SPSE_SECRETS_KEY_FILE"] = NSTemporaryDirectory() + "\(database.name)-secrets.key"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Polls /readyz until the server answers 200.
    func waitUntilReady() async throws {
        for _ in 0..<300 {
            if let (status, _) = try? await HTTP.request("GET", port: port, path: "/readyz"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the server did not become ready on port \(port)")
    }

    /// Peak resident memory of the server so far (VmHWM), in MiB.
    var peakRSSMiB: Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kib / 1024
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
