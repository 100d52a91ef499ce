import Hummingbird
import Migrations
import Postgres

/// `/healthz` (the process answers) and `/readyz` (the database answers and its schema is current).
public struct HealthController: Sendable {
    let pool: ConnectionPool
    let migrator: Migrator

    public init(pool: ConnectionPool, migrator: Migrator) {
        self.pool = pool
        self.migrator = migrator
    }

    public func addRoutes(to router: Router<some RequestContext>) {
        router.get("healthz") { _, _ in HealthReport(status: "ok", checks: [:]) }
        router.get("readyz") { _, _ in
            let report = await readiness()
            return EditedResponse(status: report.status == "ok" ? .ok : .serviceUnavailable, response: report)
        }
    }

    /// Checks the database and the migrations; never throws, so the probe always gets an answer.
    func readiness() async -> HealthReport {
        do {
            try await pool.withConnection { connection in
                try await connection.query("SELECT 1")
            }
        } catch {
            return HealthReport(status: "unavailable", checks: ["database": "unreachable", "migrations": "unknown"])
        }
        do {
            try await pool.withConnection { connection in
                try await migrator.requireCurrent(on: connection)
            }
        } catch let error as MigrationError {
            let state: String
            if case .behind = error { state = "behind" } else { state = "mismatch" }
            return HealthReport(status: "unavailable", checks: ["database": "ok", "migrations": state])
        } catch {
            return HealthReport(status: "unavailable", checks: ["database": "unreachable", "migrations": "unknown"])
        }
        return HealthReport(status: "ok", checks: ["database": "ok", "migrations": "current"])
    }
}

/// The body of both probes.
struct HealthReport: ResponseCodable, Equatable {
    let status: String
    let checks: [String: String]
}
