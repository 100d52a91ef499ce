import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Migrations
import Postgres
import Testing
import TestSupport

@Suite("Health probes")
struct HealthTests {
    static let migrator = projectMigrations

    func application(_ pool: ConnectionPool) async throws -> some ApplicationProtocol {
        Server.application(configuration: .init(host: "127.0.0.1", port: 0), services: try await apiServices(pool, clock: SettableClock()),
                           logger: Logger(label: "test"))
    }

    @Test("/healthz answers 200 and /readyz 200 on a reachable, migrated database")
    func ready() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 2)
            try await pool.withConnection { try await Self.migrator.migrate(on: $0) }
            try await (try await application(pool)).test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("\"migrations\":\"current\""))
                }
            }
            await pool.shutdown()
        }
    }

    @Test("/readyz answers 503 when migrations are pending")
    func behind() async throws {
        try await TestDatabase.with { database in
            let pool = ConnectionPool(configuration: database.configuration, maxConnections: 2)
            try await (try await application(pool)).test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(String(buffer: response.body).contains("\"migrations\":\"behind\""))
                }
            }
            await pool.shutdown()
        }
    }

    @Test("/readyz answers 503, not an error page, when the database is unreachable")
    func unreachable() async throws {
        let pool = ConnectionPool(configuration: ConnectionConfiguration(conninfo: "host=/nonexistent port=1"), maxConnections: 1)
        try await (try await application(pool)).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("\"database\":\"unreachable\""))
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
