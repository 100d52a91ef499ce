import ArgumentParser
import Foundation
import Operations
import PasswordHashing

/// Logins/s through the real server against the Argon2 bound, for closed loops of N clients.
struct LoginScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "The release server on loopback, wrk closed loops of N connections posting valid logins; logins/s, p50/p99, ratio to the bound.",
        discussion: """
            Needs DATABASE_URL (a server where it may create a scratch database), wrk \
            (apt-get install -y wrk) and `swift build -c release` (spse-accounts next to spse-bench). \
            The per-address login limiter is raised for the run (SPSE_LOGIN_BURST / \
            SPSE_LOGIN_PER_MINUTE), everything else is as shipped. The server trusts 127.0.0.1 as \
            its proxy; each account logs in from an address of its own (X-Forwarded-For), or, with \
            --same-address, every client from one address (an office behind one NAT address: one \
            budget row for all).

            Example:
              .build/release/spse-bench login --seconds 30 --clients 1 --clients 8 --clients 64 --clients 512
            """
    )

    @Option(help: "Seconds per client count.") var seconds = 30
    @Option(help: "Concurrent connections (repeat the option).") var clients: [Int] = [1, 8, 64, 512]
    @Option(help: "Accounts to log in as, round robin.") var accounts = 1000
    @Option(help: "Loopback port for the server.") var port = 18_080
    @Option(help: "Directory of the migrations.") var migrationsDir = "sql"
    @Option(help: "Seconds to measure the single-thread hash rate, before and after.") var boundSeconds: Double = 5
    @Flag(help: "Every client behind one address (one per-address budget for all).") var sameAddress = false

    static let script = """
        local counter = 0
        local accounts = tonumber(os.getenv("SPSE_BENCH_ACCOUNTS"))
        local password = os.getenv("SPSE_BENCH_PASSWORD")
        local same = os.getenv("SPSE_BENCH_SAME_ADDRESS") == "1"
        request = function()
          counter = counter + 1
          local account = counter % accounts
          local body = '{"user_id":"' .. string.format("load%04d", account) .. '","password":"' .. password .. '"}'
          local address = same and "10.0.0.1" or string.format("10.1.%d.%d", math.floor(account / 250), account % 250 + 1)
          return wrk.format("POST", "/v1/auth/login", {["Content-Type"] = "application/json", ["X-Forwarded-For"] = address}, body)
        end
        """

    func run() async throws {
        raiseOpenFileLimit()
        let parameters = try Settings(environment: ProcessInfo.processInfo.environment).argon2
        let cores = ProcessInfo.processInfo.activeProcessorCount
        try await ScratchDatabase.with(migrationsDir: migrationsDir) { database in
            try await BenchAccounts.loadLoginAccounts(accounts, parameters: parameters, into: database)
            let server = try BenchServer(database: database, port: port, environment: [
                "SPSE_LOGIN_BURST": "100000", "SPSE_LOGIN_PER_MINUTE": "1000000", "SPSE_TRUSTED_PROXIES": "127.0.0.1",
            ])
            defer { server.stop() }
            try await server.waitUntilReady()
            let singleBefore = try HashScenario.singleThreadRate(parameters, seconds: boundSeconds)
            var results: [(Int, Wrk.Figures)] = []
            for count in clients {
                let figures = try Wrk.run(port: port, path: "/v1/auth/login", connections: count, seconds: seconds, script: Self.script,
                                          environment: ["SPSE_BENCH_ACCOUNTS": String(accounts), "SPSE_BENCH_PASSWORD": BenchAccounts.password,
                                                        "SPSE_BENCH_SAME_ADDRESS": sameAddress ? "1" : "0"])
                results.append((count, figures))
            }
            // The "after" bound only once the server has drained what the last N left queued
            // (hashes and admission waiters): measured during the drain it was half the real rate.
            try await Self.waitUntilIdle(port: port)
            let singleAfter = try HashScenario.singleThreadRate(parameters, seconds: boundSeconds)
            let bound = Double(cores) * (singleBefore + singleAfter) / 2
            print("scenario login\(sameAddress ? " --same-address (one client address)" : " (an address per account)")  Argon2id \(parameters) (\(Argon2Implementation.current))  cores \(cores)  \(seconds) s per N  server peak RSS \(String(format: "%.0f", server.peakRSSMiB)) MiB")
            print(String(format: "single thread %.2f / %.2f hashes/s (before / after); bound %.2f logins/s", singleBefore, singleAfter, bound))
            print("    N   logins/s     p50 ms     p99 ms   non-2xx   errors   ratio")
            for (count, f) in results {
                let errors = f.socketErrors.connect + f.socketErrors.read + f.socketErrors.write + f.socketErrors.timeout
                print(String(format: "%5d %10.2f %10.1f %10.1f %9d %8d %7.3f", count, f.okPerSecond, f.p50, f.p99, f.non2xx, errors, f.okPerSecond / bound))
            }
        }
    }
}

extension LoginScenario {
    /// Polls the server's hash-queue gauge until it reads 0 (at most 30 s).
    static func waitUntilIdle(port: Int) async throws {
        for _ in 0..<300 {
            let (_, metrics) = try await HTTP.request("GET", port: port, path: "/metrics")
            let depth = metrics.split(separator: "\n").first { $0.hasPrefix("spse_hash_queue_depth ") }?.split(separator: " ").last
            if depth.flatMap({ Double($0) }) == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
    }
}

/// 2,000 connections need more descriptors than the default 1,024; children inherit the limit.
func raiseOpenFileLimit() {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 65_536))
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
