import Accounts
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import Postgres
import Synchronization
import Testing
import TestSupport

/// Collects log lines, to see what an operator would see.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }

    struct Handler: LogHandler {
        let sink: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            sink.lines.withLock { $0.append("\(level) \(message)" + (metadata.map { " \($0)" } ?? "")) }
        }
    }

    var logger: Logger { Logger(label: "test") { _ in Handler(sink: self) } }
}

@Suite("Operability: public routes, timeouts, readiness, the database's state, metrics")
struct OperabilityTests {
    @Test("login and the probes ignore credentials they do not need; another scheme than Bearer is no session, not a 400")
    func publicRoutesIgnoreCredentials() async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock)
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get, headers: [.authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l"]) {
                    #expect($0.status == .ok)
                }
                try await client.execute(uri: "/v1/auth/login", method: .post,
                                         headers: [.authorization: "Bearer stale-token-from-yesterday", .contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"user_id":"nobody.here","password":"x"}"#)) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.body.json["code"] as? String == "invalid_credentials", "not session_invalid: the stale token is ignored")
                }
                try await client.execute(uri: "/v1/requests", method: .get, headers: [.authorization: "Basic YWxhZGRpbjpvcGVuc2VzYW1l"]) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.body.json["code"] as? String == "unauthenticated")
                }
            }
        }
    }

    @Test("a lock held on accounts costs a request a quick 503 with Retry-After (statement timeout), and /readyz still answers")
    func statementTimeout() async throws {
        try await AccountsFixture.with { f in
            let admin = try await f.directory.create(
                NewAccount(userID: try UserID("admin.ppe"), role: .adminPPE, fullName: try FullName("Budi Santoso"), nip: nil,
                           email: try EmailAddress("budi@purbalinggakab.go.id"), agency: try Agency("LPSE")), by: f.admin)
            _ = try await f.firstLogin("admin.ppe", temporary: try await f.reset(admin), password: "kopi jahe hangat sekali")
            let token = try #require(try await f.credentials.login(userID: "admin.ppe", password: "kopi jahe hangat sekali").sessionTokenValue)
            var settings = testSettings()
            settings.database = f.database.configuration
            settings.statementTimeout = .milliseconds(300)
            settings.acquireTimeout = .milliseconds(300)
            settings.maxConnections = 2
            let pool = settings.servicePool()
            let graph = try await ServiceGraph.make(settings, pool: pool, clock: f.clock.serviceClock, hashingPool: sharedPool)
            let locker = try await PostgresConnection.connect(f.database.configuration)
            try await locker.executeScript("BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE")
            let started = ContinuousClock.now
            try await Server.application(configuration: .init(port: 0), services: APIServices(graph: graph, migrator: projectMigrations),
                                         logger: Logger(label: "test")).test(.router) { client in
                try await client.execute(uri: "/v1/accounts/admin.ppe?reason=r", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.body.json["code"] as? String == "database_busy")
                    #expect(response.headers[.retryAfter] != nil)
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect([.ok, .serviceUnavailable].contains(response.status))
                }
            }
            #expect(ContinuousClock.now - started < .seconds(4), "answered without waiting for the lock")
            try await locker.executeScript("ROLLBACK")
            await locker.close()
            await pool.shutdown()
        }
    }

    @Test("when every connection is taken, a request waits at most the acquire timeout and gets 503; /readyz answers within a second")
    func acquireTimeout() async throws {
        try await AccountsFixture.with { f in
            let pool = ConnectionPool(configuration: f.database.configuration, maxConnections: 1, acquireTimeout: .milliseconds(200))
            let graph = try await ServiceGraph.make(testSettings(), pool: pool, clock: f.clock.serviceClock, hashingPool: sharedPool)
            let release = AsyncStream<Void>.makeStream()
            let holder = Task { try await pool.withConnection { _ in for await _ in release.stream { break } } }
            while pool.idleConnections > 0 || pool.openConnections == 0 { try await Task.sleep(for: .milliseconds(5)) }
            try await Server.application(configuration: .init(port: 0), services: APIServices(graph: graph, migrator: projectMigrations),
                                         logger: Logger(label: "test")).test(.router) { client in
                let started = ContinuousClock.now
                try await client.execute(uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"user_id":"helpdesk01","password":"x"}"#)) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.body.json["code"] as? String == "database_busy")
                }
                #expect(ContinuousClock.now - started < .seconds(2))
                let probe = ContinuousClock.now
                try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .serviceUnavailable) }
                #expect(ContinuousClock.now - probe < .milliseconds(1500), "/readyz answers within a second whatever the pool does")
            }
            release.continuation.yield()
            _ = try await holder.value
            await pool.shutdown()
        }
    }

    @Test("the database becoming unreachable is one warning, its return one notice; metrics show it")
    func databaseMonitor() async throws {
        let logs = LogLines()
        let state = ServerState()
        let dead = ConnectionPool(configuration: ConnectionConfiguration(conninfo: "host=/nonexistent port=1"), maxConnections: 1)
        let monitor = DatabaseMonitor(pool: dead, state: state, logger: logs.logger)
        for _ in 0..<3 { await monitor.check() }
        #expect(!state.isDatabaseUp)
        try await TestDatabase.with { database in
            let alive = ConnectionPool(configuration: database.configuration, maxConnections: 1)
            let back = DatabaseMonitor(pool: alive, state: state, logger: logs.logger)
            for _ in 0..<3 { await back.check() }
            await alive.shutdown()
        }
        #expect(state.isDatabaseUp)
        #expect(logs.all.filter { $0.hasPrefix("warning database unreachable") }.count == 1)
        #expect(logs.all.filter { $0 == "notice database reachable again" }.count == 1)
    }

    @Test("metrics an operator alerts on: login outcomes with throttled, pool use, the database, the outbox")
    func metrics() async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock, loginBudget: (burst: 1, perMinute: 1))
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.live) { client in
                for _ in 0..<2 {
                    try await client.post("/v1/auth/login", ["user_id": "nobody.here", "password": "x"]) { _ in }
                }
                try await client.get("/metrics") { response in
                    let text = String(buffer: response.body)
                    for expected in [#"spse_login_outcomes_total{outcome="invalid_credentials"} 1"#, #"spse_login_outcomes_total{outcome="throttled"} 1"#,
                                     "spse_db_connections_in_use ", "spse_db_connections_waiting 0", "spse_database_up 1",
                                     "spse_outbox_pending 0", "spse_outbox_failed 0"] {
                        #expect(text.contains(expected), "\(expected) in /metrics")
                    }
                }
            }
        }
    }
}

extension LoginOutcome {
    var sessionTokenValue: String? {
        if case .ok(let token, _) = self { return token.value }
        return nil
    }
}
