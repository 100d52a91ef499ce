import DoorKit
import Hummingbird
import Migrations
import Postgres
import Synchronization

/// `/healthz` (the process answers) and `/readyz` (the database answers and its schema is current).
public struct HealthController: Sendable {
    let pool: ConnectionPool
    let migrator: Migrator
    let state: ServerState
    /// `/readyz` answers within this, whatever the pool and the database are doing.
    let readinessDeadline: Duration

    public init(pool: ConnectionPool, migrator: Migrator, state: ServerState = ServerState(), readinessDeadline: Duration = .seconds(1)) {
        self.pool = pool
        self.migrator = migrator
        self.state = state
        self.readinessDeadline = readinessDeadline
    }

    public func addRoutes(to router: Router<some RequestContext>) {
        router.get("healthz") { _, _ in HealthReport(status: "ok", checks: [:]) }
        router.get("readyz") { _, _ in
            let report = state.isDraining
                ? HealthReport(status: "draining", checks: [:])
                : await Self.first(of: { await readiness() }, orAfter: readinessDeadline,
                                   HealthReport(status: "unavailable", checks: ["database": "timeout", "migrations": "unknown"]))
            return EditedResponse(status: report.status == "ok" ? .ok : .serviceUnavailable, response: report)
        }
    }

    /// `work`'s result, or `fallback` once `deadline` passes; the work goes on unobserved (a libpq
    /// call cannot be interrupted), but the caller is answered.
    static func first<T: Sendable>(of work: @escaping @Sendable () async -> T, orAfter deadline: Duration, _ fallback: T) async -> T {
        let once = OnceFlag()
        return await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            let resume: @Sendable (T) -> Void = { value in
                if !once.done.exchange(true, ordering: .acquiringAndReleasing) { continuation.resume(returning: value) }
            }
            Task { resume(await work()) }
            Task {
                try? await Task.sleep(for: deadline)
                resume(fallback)
            }
        }
    }

    /// Checks the database and the migrations; never throws, so the probe always gets an answer.
    func readiness() async -> HealthReport {
        // Ready means writable: a standby, a demoted primary or a maintenance switch answers
        // SELECT 1 but refuses every step, so the probe asks what a write would meet.
        do {
            let writable = try await pool.withConnection { connection in
                let writable = try await connection.query(
                    "SELECT NOT pg_is_in_recovery() AND current_setting('default_transaction_read_only') = 'off' AS writable"
                ).first?.decode(Bool.self, column: "writable") ?? false
                if !writable { await connection.discardOnRelease() }
                return writable
            }
            if !writable { return HealthReport(status: "unavailable", checks: ["database": "read_only", "migrations": "unknown"]) }
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

/// Set once, by whichever of several racers comes first.
final class OnceFlag: Sendable {
    let done = Atomic<Bool>(false)
}
