import Accounts
import Foundation
import Gate
import Inputs
import Postgres
import Synchronization
import Testing
import TestSupport

@Suite("SLA clock, queue and notices")
struct SLAAndOutboxTests {
    /// Runs `event` at `minutes` past `start` on the injected clock.
    func at(_ f: GateFixture, _ start: Date, _ minutes: Double, _ event: GateEvent, _ request: Request, by actor: Actor) async throws {
        f.clock.advance(start.addingTimeInterval(minutes * 60).timeIntervalSince(f.clock.now))
        _ = try await f.gate.act(event, on: request.id, by: actor)
    }

    @Test("the notice file keeps every line when 20 deliveries of one process append at once (none overwrites another)")
    func concurrentFileAppends() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spse-notices-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sender = FileNoticeSender(path: directory.appendingPathComponent("notices.jsonl").path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 1...20 {
                group.addTask {
                    try await sender.send(OutgoingNotice(id: Int64(id), requestNumber: "REQ-2026-0000\(10 + id)", step: 3, recipient: "sekar@example.go.id",
                                                         channel: "email", subjectID: "Berkas belum lengkap", bodyID: String(repeating: "isi ", count: id * 50),
                                                         subjectEN: "Incomplete file", bodyEN: "body"))
                }
            }
            try await group.waitForAll()
        }
        let lines = try String(contentsOfFile: sender.path, encoding: .utf8).split(separator: "\n")
        let ids = try lines.map { try JSONDecoder().decode(OutgoingNotice.self, from: Data($0.utf8)).id }
        #expect(Set(ids) == Set(1...20) && ids.count == 20, "\(ids)")
    }

    @Test("a scripted day: the report gives count, median, p90 and breaches per step and actor; the queue shows what is overdue")
    func scriptedDay() async throws {
        try await GateFixture.with { f in
            let day = f.clock.now  // 2026-11-24 01:00 UTC, 08:00 in Purbalingga
            let first = try await f.submit()
            try await at(f, day, 3, .completeness(complete: true), first, by: staf)                     // 3 min ≤ 5
            try await at(f, day, 23, .validity(valid: true, subject: "helpdesk01"), first, by: admin)   // 20 min > 15: breach
            try await at(f, day, 30, .execute, first, by: admin)                                         // 7 ≤ 15
            try await at(f, day, 40, .notify, first, by: admin)                                          // the notice: evidence, not the end
            let told = Handover(channel: .phone, recipient: "Sekar Ayu Wulandari", handedAt: day.addingTimeInterval(44 * 60))
            try await at(f, day, 45, .handover(told), first, by: admin)                                  // 15 > 10: breach
            try await at(f, day, 48, .archive, first, by: staf2)                                         // 3 ≤ 5

            f.clock.advance(day.addingTimeInterval(60 * 60).timeIntervalSince(f.clock.now))
            let second = try await f.submit(documents: [.suratPermohonan])
            try await at(f, day, 68, .completeness(complete: false), second, by: staf2)                 // 8 > 5: breach
            try await at(f, day, 70, .notify, second, by: staf2)                                         // 2 ≤ 5
            try await f.upload(.skPengangkatan, to: second.id)
            try await at(f, day, 120, .supplement, second, by: staf)                                     // step 4: no limit
            try await at(f, day, 122, .completeness(complete: true), second, by: staf)                  // 2 ≤ 5
            try await at(f, day, 130, .validity(valid: false, subject: nil, reason: "SK kedaluwarsa"), second, by: admin2)  // 8 ≤ 15
            try await at(f, day, 140, .notify, second, by: admin2)                                       // 10 > 5: breach

            f.clock.advance(day.addingTimeInterval(180 * 60).timeIntervalSince(f.clock.now))
            let third = try await f.submit()
            f.clock.advance(10 * 60)

            let report = try await f.gate.slaReport(try Period(from: day, to: day.addingTimeInterval(86_400)))
            func line(_ step: Int, _ actor: Actor) -> SLAReportLine? { report.first { $0.step == step && $0.actor == actor.userID } }
            #expect(line(2, staf)?.count == 2 && line(2, staf)?.breaches == 0)
            #expect(line(2, staf)?.medianSeconds == 150 && line(2, staf)?.p90Seconds == 174)
            #expect(line(2, staf2)?.count == 1 && line(2, staf2)?.breaches == 1)
            #expect(line(3, staf2)?.breaches == 0)
            #expect(line(4, staf)?.breaches == 0 && line(4, staf)?.limitMinutes == nil)
            #expect(line(5, admin)?.breaches == 1 && line(5, admin)?.medianSeconds == 1200)
            #expect(line(5, admin2)?.breaches == 0)
            #expect(line(6, admin)?.breaches == 0)
            #expect(line(7, admin2)?.breaches == 1)
            #expect(line(8, admin)?.breaches == 1)
            #expect(line(9, staf2)?.breaches == 0)
            let done = report.filter { $0.status == "done" }
            let breachesByActor = Dictionary(grouping: done, by: \.actor).mapValues { $0.reduce(0) { $0 + $1.breaches } }
            #expect(breachesByActor == [staf.userID: 0, staf2.userID: 1, admin.userID: 2, admin2.userID: 1])
            // Every breach is a deviation its actor owes an explanation for; so is archiving without a confirmed receipt.
            #expect(line(5, admin)?.unexplained == 1 && line(8, admin)?.unexplained == 1 && line(9, staf2)?.unexplained == 1)
            #expect(done.allSatisfy { $0.priority == "normal" })
            // Steps open past their limit belong to the role that holds them until someone takes them.
            let open9 = try #require(report.first { $0.status == "open_overdue" && $0.step == 9 })
            #expect(open9.actor == "role:staf_administrasi" && open9.count == 1 && open9.medianSeconds == 50 * 60)
            let open2 = try #require(report.first { $0.status == "open_overdue" && $0.step == 2 })
            #expect(open2.actor == "role:staf_administrasi" && open2.count == 1 && open2.limitMinutes == 5)

            let queue = try await f.gate.queue()
            #expect(queue.map(\.number) == [second.number, third.number], "overdue step 2 of the third comes after the second's open step 9")
            let open = try #require(queue.first { $0.number == third.number })
            #expect(open.step == 2 && open.isOverdue && open.secondsLeft == -300)
            #expect(open.allowed.map(\.description) == ["completeness by staf_administrasi"])
            let secondEntry = try #require(queue.first { $0.number == second.number })
            #expect(secondEntry.step == 9)
            #expect(secondEntry.secondsLeft == Double(5 * 60 - 50 * 60), "step 9 open since minute 140, limit 5 min, now minute 190")
        }
    }

    @Test("notices are delivered from the outbox, retried with backoff after failures, and survive a restart")
    func outbox() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            _ = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            _ = try await f.gate.act(.validity(valid: false, subject: nil, reason: "SK bukan atas nama pemohon"), on: request.id, by: admin)
            _ = try await f.gate.act(.notify, on: request.id, by: admin)

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spse-notices-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("notices.jsonl").path
            let dispatcher = OutboxDispatcher(pool: f.accounts.pool, sender: FileNoticeSender(path: path), clock: f.clock.serviceClock)

            // The directory does not exist yet: delivery fails and is retried later, not lost.
            #expect(try await dispatcher.deliverDue() == (0, 1))
            #expect(try await dispatcher.deliverDue() == (0, 0), "not due again before the backoff")
            f.clock.advance(61)
            #expect(try await dispatcher.deliverDue() == (0, 1))
            f.clock.advance(61)
            #expect(try await dispatcher.deliverDue() == (0, 0), "the second delay is 2 minutes")

            // A restart: a new pool and dispatcher carry on from the table.
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let restartedPool = ConnectionPool(configuration: f.accounts.database.configuration, maxConnections: 2)
            let restarted = OutboxDispatcher(pool: restartedPool, sender: FileNoticeSender(path: path), clock: f.clock.serviceClock)
            f.clock.advance(60)
            #expect(try await restarted.deliverDue() == (1, 0))
            #expect(try await restarted.deliverDue() == (0, 0))
            let written = try String(contentsOfFile: path, encoding: .utf8)
            #expect(written.contains("SK bukan atas nama pemohon") && written.contains(request.number))
            #expect(try await f.accounts.count("SELECT attempts FROM outbox") == 3)
            await restartedPool.shutdown()
            #expect(OutboxDispatcher.backoff(afterAttempts: 1) == 60 && OutboxDispatcher.backoff(afterAttempts: 10) == 3600)
        }
    }

    @Test("while a notice is being sent no transaction, row lock or pooled connection is held, and a crashed send is retried after the lease")
    func outboxHoldsNothingWhileSending() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            _ = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            _ = try await f.gate.act(.validity(valid: false, subject: nil, reason: "SK kedaluwarsa"), on: request.id, by: admin)
            _ = try await f.gate.act(.notify, on: request.id, by: admin)

            /// Looks at the database from outside while `send` runs, as a slow SMTP relay would let it.
            struct Observer: NoticeSender {
                let database: ConnectionConfiguration
                final class Seen: Sendable { let lines = Mutex<[String]>([]) }
                let seen = Seen()
                func send(_ notice: OutgoingNotice) async throws {
                    let outside = try await PostgresConnection.connect(database)
                    let idle = try await outside.query(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")
                        .first?.decode(Int.self, at: 0) ?? -1
                    // NOWAIT fails at once if the dispatcher still held the row.
                    try await outside.executeScript("BEGIN")
                    let locked = try await outside.query("SELECT id FROM outbox WHERE id = $1 FOR UPDATE NOWAIT", [notice.id]).count
                    try await outside.executeScript("ROLLBACK")
                    await outside.close()
                    seen.lines.withLock { $0.append("idle_in_transaction=\(idle) lockable=\(locked)") }
                }
            }
            let single = ConnectionPool(configuration: f.accounts.database.configuration, maxConnections: 1)
            let observer = Observer(database: f.accounts.database.configuration)
            #expect(try await OutboxDispatcher(pool: single, sender: observer, clock: f.clock.serviceClock).deliverDue() == (1, 0))
            #expect(observer.seen.lines.withLock { $0 } == ["idle_in_transaction=0 lockable=1"])

            // A dispatcher that dies mid-send leaves its claim; the notice is due again after the lease, not lost.
            struct Dies: NoticeSender { func send(_ notice: OutgoingNotice) async throws { throw CancellationError() } }
            try await f.accounts.pool.withConnection { _ = try await $0.execute("UPDATE outbox SET delivered_at = NULL, next_attempt_at = $1", [f.clock.now]) }
            let claimed = try await f.accounts.pool.withConnection { connection in
                try await connection.query("UPDATE outbox SET next_attempt_at = $1 RETURNING id", [f.clock.now.addingTimeInterval(OutboxDispatcher.claimLease)]).count
            }
            #expect(claimed == 1)
            #expect(try await OutboxDispatcher(pool: single, sender: Dies(), clock: f.clock.serviceClock).deliverDue() == (0, 0), "still claimed")
            f.clock.advance(OutboxDispatcher.claimLease + 1)
            #expect(try await OutboxDispatcher(pool: single, sender: observer, clock: f.clock.serviceClock).deliverDue() == (1, 0))
            await single.shutdown()
        }
    }

    @Test("a primary lost during a send: the delivered mark it refused is written first thing once writes return; the notice is sent once, not again after the lease")
    func outcomeOwedAcrossFailover() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            _ = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            _ = try await f.gate.act(.validity(valid: false, subject: nil, reason: "SK tidak ditandatangani"), on: request.id, by: admin)
            _ = try await f.gate.act(.notify, on: request.id, by: admin)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spse-notices-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = FileNoticeSender(path: directory.appendingPathComponent("notices.jsonl").path)
            let database = f.accounts.database

            /// Sends, then the database turns read-only under the dispatcher, as a demoted primary does.
            struct DemotedDuringSend: NoticeSender {
                let file: FileNoticeSender
                let database: TestDatabase
                func send(_ notice: OutgoingNotice) async throws {
                    try await file.send(notice)
                    try await database.setReadOnly(true)
                }
            }
            let dispatcher = OutboxDispatcher(pool: f.accounts.pool, sender: DemotedDuringSend(file: file, database: database), clock: f.clock.serviceClock)
            #expect(try await dispatcher.deliverDue() == (1, 0))
            #expect(dispatcher.owedWrites == 1, "the refused mark is kept")
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 1)
            await #expect(throws: PostgresError.self, "no round while nothing takes writes") { try await dispatcher.deliverDue() }

            try await database.setReadOnly(false)
            #expect(try await dispatcher.deliverDue() == (0, 0), "nothing sent again")
            #expect(dispatcher.owedWrites == 0)
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND claim IS NULL") == 1)
            f.clock.advance(OutboxDispatcher.claimLease + 1)
            #expect(try await OutboxDispatcher(pool: f.accounts.pool, sender: file, clock: f.clock.serviceClock).deliverDue() == (0, 0),
                    "no second send after the lease")
            let lines = try String(contentsOfFile: file.path, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("SK tidak ditandatangani"))
        }
    }

    @Test("a clock that steps backwards (NTP, a second instance) never makes a step end before it started, nor a 500")
    func clockBackwards() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            f.clock.advance(-120)  // this instance is two minutes behind the one that opened step 2
            let result = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            #expect(result.request.state == .complete)
            #expect(try await f.accounts.count("SELECT count(*) FROM request_steps WHERE ended_at < started_at") == 0)
            #expect(try await f.accounts.count("SELECT extract(epoch FROM ended_at - started_at)::int FROM request_steps WHERE step = 2") == 0)
        }
    }
}
