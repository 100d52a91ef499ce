import ArgumentParser
import Foundation
import Operations
import PasswordHashing

/// Far more concurrent logins than the hashing pool can serve: memory must stay bounded and the
/// excess must be turned away fast (503 from the bounded hash queue), not left to time out.
struct LoginFloodScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-flood",
        abstract: "2,000 concurrent login connections for 30 s: server peak RSS, answered vs turned away, latency, timeouts.",
        discussion: """
            As `login`, with the per-address limiter raised so the flood reaches the hash queue \
            (as 2,000 distinct clients would). Goal: peak RSS < 300 MiB; excess answered 503 quickly.

            Example:
              .build/release/spse-bench login-flood --connections 2000 --seconds 30
            """
    )

    @Option(help: "Concurrent connections.") var connections = 2000
    @Option(help: "Seconds of flood.") var seconds = 30
    @Option(help: "Accounts to log in as.") var accounts = 1000
    @Option(help: "Loopback port for the server.") var port = 18_081
    @Option(help: "Directory of the migrations.") var migrationsDir = "sql"

    func run() async throws {
        raiseOpenFileLimit()
        let parameters = try Settings(environment: ProcessInfo.processInfo.environment).argon2
        try await ScratchDatabase.with(migrationsDir: migrationsDir) { database in
            try await BenchAccounts.loadLoginAccounts(accounts, parameters: parameters, into: database)
            let server = try BenchServer(database: database, port: port, environment: [
                "SPSE_LOGIN_BURST": "100000", "SPSE_LOGIN_PER_MINUTE": "1000000",
            ])
            defer { server.stop() }
            try await server.waitUntilReady()
            let idle = server.peakRSSMiB
            let f = try Wrk.run(port: port, path: "/v1/auth/login", connections: connections, seconds: seconds, script: LoginScenario.script,
                                timeout: 10, environment: ["SPSE_BENCH_ACCOUNTS": String(accounts), "SPSE_BENCH_PASSWORD": BenchAccounts.password])
            let peak = server.peakRSSMiB
            print("scenario login-flood  \(connections) connections  \(seconds) s  Argon2id \(parameters)")
            print(String(format: "server RSS        %.0f MiB idle, %.0f MiB peak (goal < 300)", idle, peak))
            print(String(format: "requests          %d in %.1f s (%.1f/s)", f.requests, f.seconds, f.requestsPerSecond))
            print(String(format: "logged in (2xx)   %d (%.1f/s)", f.requests - f.non2xx, f.okPerSecond))
            print(String(format: "turned away       %d non-2xx (503 overloaded / 429)", f.non2xx))
            print(String(format: "latency           p50 %.1f ms, p99 %.1f ms, max %.1f ms", f.p50, f.p99, f.maxLatency))
            print("socket errors     connect \(f.socketErrors.connect), read \(f.socketErrors.read), write \(f.socketErrors.write), timeout (10 s) \(f.socketErrors.timeout)")
        }
    }
}
