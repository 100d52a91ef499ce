import ArgumentParser
import Audit
import Foundation
import Postgres
import Synchronization

/// Audited writes/s against what bounds them, measured in the same run: the same rows inserted
/// with no chain at all. Three designs side by side at 1, 8 and 32 writers: the chain as built now
/// (rows inserted unsealed, a sealer chaining them every 200 ms, as `serve` runs it), the chain as
/// it was before issue 22 (an advisory lock and a read of the head per append, held to commit),
/// and the bound. On the disk as it is and with a 1 ms flush emulated (`commit_delay`).
struct AuditScenario: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audited writes/s at 1, 8 and 32 writers: the sealed chain, the old locked chain, and no chain (the bound).",
        discussion: """
            Each write is one transaction that inserts one audit row and commits, as a step's audit
            rows are written. Run it against a PostgreSQL with its default durability (fsync=on,
            synchronous_commit=on): the figure is then bounded by the disk's commit rate, which the
            no-chain bound measures. The 1 ms flush sets commit_delay=1000 on each writer's session
            (needs a superuser in DATABASE_URL).

            Example:
              DATABASE_URL=postgresql:///postgres?host=/path/to/socket .build/release/spse-bench audit --seconds 5
            """
    )

    @Option(help: "Seconds per measurement.") var seconds: Double = 5
    @Option(help: "Writer counts, comma-separated.") var writers = "1,8,32"
    @Option(help: "Directory of the migrations.") var migrationsDir = "sql"
    @Flag(help: "Skip the 1 ms flush emulation.") var diskOnly = false

    enum Design: String, CaseIterable { case bound, sealed, locked }

    func run() async throws {
        let counts = writers.split(separator: ",").compactMap { Int($0) }.filter { (1...256).contains($0) }
        try await ScratchDatabase.with(migrationsDir: migrationsDir) { database in
            let setup = try await PostgresConnection.connect(database.configuration)
            try await setup.executeScript("""
                CREATE TABLE audit_bound (LIKE audit_events INCLUDING DEFAULTS INCLUDING INDEXES);
                CREATE TABLE audit_locked (LIKE audit_events INCLUDING DEFAULTS INCLUDING INDEXES);
                """)
            for flush in diskOnly ? ["disk"] : ["disk", "1ms flush"] {
                for count in counts {
                    var rates: [Design: Double] = [:]
                    var window = ""
                    for design in Design.allCases {
                        let (rate, note) = try await measure(design, writers: count, flush: flush != "disk", database: database, setup: setup)
                        rates[design] = rate
                        if design == .sealed { window = note }
                    }
                    let bound = rates[.bound] ?? 1
                    print(String(format: "%@, %2d writers: bound %7.1f/s | sealed chain %7.1f/s, ratio %.2f | locked chain (before) %7.1f/s, ratio %.2f | %@",
                                 flush, count, bound, rates[.sealed] ?? 0, (rates[.sealed] ?? 0) / bound, rates[.locked] ?? 0,
                                 (rates[.locked] ?? 0) / bound, window))
                }
            }
            let verification = try await AuditTrail().sealAndVerify(on: setup)
            print("audit verify after the run: \(verification.isIntact ? "intact" : "BROKEN"), \(verification.rowsChecked) rows")
            await setup.close()
        }
    }

    /// Writes/s of one design; for the sealed chain also the unsealed window it left (p50/p99/max).
    func measure(_ design: Design, writers: Int, flush: Bool, database: ScratchDatabase, setup: PostgresConnection) async throws
        -> (Double, String) {
        var configuration = database.configuration
        if flush { configuration.overrides.append((keyword: "options", value: "-c commit_delay=1000 -c commit_siblings=0")) }
        let pool = ConnectionPool(configuration: configuration, maxConnections: writers + 1)
        let startMark = try await setup.query("SELECT coalesce(max(id), 0) AS id FROM audit_events").first?.decode(Int64.self, column: "id") ?? 0
        let run = RunFlags()
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var n = 0
                    while !run.stop.load(ordering: .relaxed) {
                        try await pool.withTransaction { connection in try await Self.write(design, writer: writer, n: n, on: connection) }
                        n += 1
                        run.done.add(1, ordering: .relaxed)
                    }
                }
            }
            if design == .sealed {
                group.addTask {
                    while !run.stop.load(ordering: .relaxed) {
                        try await pool.withConnection { _ = try await AuditTrail().seal(on: $0) }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            run.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - started
        let rate = Double(run.done.load(ordering: .relaxed)) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        var note = ""
        if design == .sealed {
            try await AuditTrail().seal(on: setup)
            if let row = try await setup.query(
                """
                SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sealed_at - recorded_at)) * 1000 AS p50,
                       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sealed_at - recorded_at)) * 1000 AS p99,
                       max(extract(epoch FROM sealed_at - recorded_at)) * 1000 AS max
                FROM audit_events WHERE id > $1
                """, [startMark]).first {
                note = String(format: "unsealed window p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                              try row.decode(Double?.self, column: "p50") ?? 0, try row.decode(Double?.self, column: "p99") ?? 0,
                              try row.decode(Double?.self, column: "max") ?? 0)
            }
        }
        await pool.shutdown()
        return (rate, note)
    }

    static func write(_ design: Design, writer: Int, n: Int, on connection: PostgresConnection) async throws {
        let event = AuditEvent(occurredAt: Date(), actor: "bench.writer\(writer)", action: "bench.audit", subject: "row \(n)",
                               details: ["writer": .int(writer), "n": .int(n)])
        switch design {
        case .sealed:
            try await AuditTrail().record(event, on: connection)
        case .bound:
            try await connection.execute(
                "INSERT INTO audit_bound (occurred_at, actor, action, subject, request_id, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                [event.occurredAt, event.actor, event.action, event.subject, event.requestID, JSONB(event.details)])
        case .locked:
            // The append as it was before issue 22: the chain's lock, the head read, the insert.
            try await connection.query("SELECT pg_advisory_xact_lock(6002)")
            try await connection.execute(
                """
                INSERT INTO audit_locked (occurred_at, actor, action, subject, request_id, details, prev_hash, hash)
                SELECT e.occurred_at, e.actor, e.action, e.subject, e.request_id, e.details, p.hash,
                       sha256(coalesce(p.hash, ''::bytea) || audit_canonical(e.occurred_at, e.actor, e.action, e.subject, e.request_id, e.details))
                FROM (SELECT $1::timestamptz AS occurred_at, $2::text AS actor, $3::text AS action, $4::text AS subject,
                             $5::text AS request_id, $6::jsonb AS details) e
                LEFT JOIN (SELECT hash FROM audit_locked ORDER BY id DESC LIMIT 1) p ON true
                """, [event.occurredAt, event.actor, event.action, event.subject, event.requestID, JSONB(event.details)])
        }
    }
}

/// What the writers of one measurement share: the count of writes and the signal to stop.
final class RunFlags: Sendable {
    let done = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}
