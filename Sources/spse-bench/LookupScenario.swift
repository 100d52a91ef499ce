import ArgumentParser
import Foundation
import Operations
import PasswordHashing

/// Account lookup at LPSE-wide scale: a million accounts, exact and fuzzy lookups over HTTP.
struct LookupScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "1,000,000 generated accounts loaded with COPY; exact (user ID, NIP, e-mail) and fuzzy (name) lookups over HTTP: p50/p99.",
        discussion: """
            Each lookup is the real one: the admin's bearer session checked, the query, and its audit \
            row written in the same transaction. Goal: p99 < 5 ms exact, < 25 ms fuzzy.

            Example:
              .build/release/spse-bench lookup --accounts 1000000 --seconds 15
            """
    )

    @Option(help: "Accounts in the directory.") var accounts = 1_000_000
    @Option(help: "Seconds per kind of lookup.") var seconds = 15
    @Option(help: "Concurrent connections.") var connections = 8
    @Option(help: "Loopback port for the server.") var port = 18_082
    @Option(help: "Directory of the migrations.") var migrationsDir = "sql"
    @Option(help: "Generated names: common (few names, each shared by ~400 accounts) or varied (nearly all distinct).")
    var names: BenchAccounts.Names = .common
    @Flag(help: "Keep the loaded database afterwards (for EXPLAIN ANALYZE); its name is printed.") var keepDatabase = false

    func run() async throws {
        guard (1...1_199_999).contains(accounts) else { throw ValidationError("--accounts must be 1…1,199,999 (unique generated NIPs)") }
        let parameters = try Settings(environment: ProcessInfo.processInfo.environment).argon2
        try await ScratchDatabase.with(migrationsDir: migrationsDir, keep: keepDatabase) { database in
            let loadStart = ContinuousClock.now
            try await BenchAccounts.loadDirectory(accounts, names: names, into: database)
            let loadSeconds = (ContinuousClock.now - loadStart).seconds
            try await BenchAccounts.loadLoginAccounts(0, parameters: parameters, into: database)
            let server = try BenchServer(database: database, port: port, environment: [:])
            defer { server.stop() }
            try await server.waitUntilReady()
            let (status, body) = try await HTTP.request(
                "POST", port: port, path: "/v1/auth/login", body: #"{"user_id":"bench.admin","password":"\#(BenchAccounts.password)"}"#)
            guard status == 200, let token = (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["token"] as? String else {
                throw BenchError("admin login failed: \(status) \(body)")
            }

            var generator = SystemRandomNumberGenerator()
            let sample = (0..<2000).map { _ in BenchAccounts.person(Int.random(in: 0..<accounts, using: &generator), names: names) }
            let kinds: [(String, [String])] = [
                ("user_id", sample.map(\.userID)), ("nip", sample.map(\.nip)), ("email", sample.map(\.email)),
                // A name as a helpdesk caller spells it: two of the three words, one letter dropped.
                ("name (fuzzy)", sample.map { person in
                    let words = person.name.split(separator: " ")
                    let last = words[2]
                    return "\(words[0]) \(last.prefix(last.count - 1))"
                }),
            ]
            print(String(format: "scenario lookup  %d accounts, %@ names (loaded and indexed in %.0f s)  %d connections  %d s per kind", accounts, names.rawValue, loadSeconds, connections, seconds))
            print("kind               lookups/s     p50 ms     p99 ms   non-2xx   errors")
            for (kind, texts) in kinds {
                let list = texts.map { "\"" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) + "\"" }.joined(separator: ",")
                let script = """
                    local texts = {\(list)}
                    local counter = 0
                    request = function()
                      counter = counter + 1
                      return wrk.format("GET", "/v1/accounts?reason=bench&q=" .. texts[counter % #texts + 1], {["Authorization"] = "Bearer \(token)"})
                    end
                    """
                let f = try Wrk.run(port: port, path: "/v1/accounts", connections: connections, seconds: seconds, script: script)
                let errors = f.socketErrors.connect + f.socketErrors.read + f.socketErrors.write + f.socketErrors.timeout
                print(kind.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " %10.1f %10.2f %10.2f %9d %8d", f.okPerSecond, f.p50, f.p99, f.non2xx, errors))
            }
            print(String(format: "server peak RSS %.0f MiB", server.peakRSSMiB))
        }
    }
}
