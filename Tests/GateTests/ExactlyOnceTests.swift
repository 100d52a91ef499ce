import Accounts
import Foundation
import Gate
import Postgres
import Testing
import TestSupport

/// Issue 20 #1 and issue 21 #4: one notice per notify step for any number of racers, enforced by
/// the database too; a step-6 result nobody saw can be issued again.
@Suite("Exactly once: notices and re-issue", .serialized)
struct ExactlyOnceTests {
    /// `count` concurrent runs of `event` on the request; the successes and the refusals.
    static func race(_ f: GateFixture, _ event: GateEvent, on requestID: Int64, by actor: Actor, count: Int = 20) async
        -> (successes: Int, refusals: [any Error]) {
        let outcomes = await withTaskGroup(of: Result<ActionResult, any Error>.self) { group in
            for _ in 0..<count {
                group.addTask { await Result(catching: { try await f.gate.act(event, on: requestID, by: actor) }) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var refusals: [any Error] = []
        var successes = 0
        for outcome in outcomes {
            switch outcome {
            case .success: successes += 1
            case .failure(let error): refusals.append(error)
            }
        }
        return (successes, refusals)
    }

    @Test("20 concurrent step-8 notifies on an executed request: one notice queued, 19 clear 409s")
    func step8Notify() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            _ = try await f.gate.act(.execute, on: request.id, by: admin2)
            let (successes, refusals) = await Self.race(f, .notify, on: request.id, by: admin2)
            #expect(successes == 1)
            for error in refusals {
                guard case .wrongState(.executed, let allowed) = error as? GateError else { Issue.record("unexpected \(error)"); continue }
                #expect(!allowed.map(\.action).contains(.notify), "once queued, notify is no longer offered")
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE step = 8") == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'request.notify'") == 1)
        }
    }

    @Test("20 concurrent step-3 notifies on an incomplete file: one notice; after a supplement step 3 may notify again, once")
    func step3Notify() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit(documents: [.suratPermohonan])
            _ = try await f.gate.act(.completeness(complete: false), on: request.id, by: staf)
            let first = await Self.race(f, .notify, on: request.id, by: staf)
            #expect(first.successes == 1 && first.refusals.count == 19)
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE step = 3") == 1)
            // The requester supplements with something still missing: a second round of step 3.
            _ = try await f.gate.act(.supplement, on: request.id, by: staf)
            _ = try await f.gate.act(.completeness(complete: false), on: request.id, by: staf2)
            let second = await Self.race(f, .notify, on: request.id, by: staf)
            #expect(second.successes == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE step = 3") == 2)
        }
    }

    @Test("hand-over and notify racing queue the step-8 notice once")
    func handoverAgainstNotify() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            _ = try await f.gate.act(.execute, on: request.id, by: admin2)
            let handover = GateEvent.handover(Handover(channel: .phone, recipient: "Sekar", handedAt: f.clock.now))
            async let a = Result { try await f.gate.act(.notify, on: request.id, by: admin2) }
            async let b = Result { try await f.gate.act(handover, on: request.id, by: admin2) }
            _ = await (a, b)
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE step = 8") == 1)
        }
    }

    @Test("the database refuses a second notice for the same step, whatever the code does")
    func constraint() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            _ = try await f.gate.act(.execute, on: request.id, by: admin2)
            _ = try await f.gate.act(.notify, on: request.id, by: admin2)
            let error = await #expect(throws: PostgresError.self) {
                try await f.accounts.pool.withConnection { connection in
                    try await connection.execute(
                        """
                        INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at,
                                            next_attempt_at, step_id)
                        SELECT request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at, next_attempt_at, step_id
                        FROM outbox WHERE step = 8
                        """)
                }
            }
            #expect(error?.sqlState == .uniqueViolation && error?.constraint == "outbox_one_notice_per_step")
        }
    }

    @Test("a step-6 result never seen is issued again by an admin_ppe: the earlier password stops working, the SLA counts from the first")
    func reissue() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            let first = try #require(try await f.gate.act(.execute, on: request.id, by: admin2).temporaryPassword)
            let opened = try await f.accounts.pool.withConnection { connection in
                try #require(try await connection.query("SELECT started_at FROM request_steps WHERE step = 8").first).decode(Date.self, at: 0)
            }
            f.clock.advance(60)
            // Not by another role, not by the account's owner.
            await #expect(throws: GateError.notPermitted(role: .stafAdministrasi, action: .reissue)) {
                try await f.gate.act(.reissue, on: request.id, by: staf)
            }
            await #expect(throws: GateError.separationOfDuties(rule: "nobody resets or looks up their own account through the gate")) {
                try await f.gate.act(.reissue, on: request.id, by: Actor(userID: "helpdesk01", role: .adminPPE))
            }
            let again = try await f.gate.act(.reissue, on: request.id, by: admin2)
            let second = try #require(again.temporaryPassword)
            #expect(again.request.state == .executed && second.reveal != first.reveal)
            #expect(try await f.accounts.credentials.login(userID: "helpdesk01", password: first.reveal).code == "invalid_credentials")
            #expect(try await f.accounts.credentials.login(userID: "helpdesk01", password: second.reveal).code == "password_change_required")
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'request.reissue'") == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'password.reset'") == 2)
            let stillOpened = try await f.accounts.pool.withConnection { connection in
                try #require(try await connection.query("SELECT started_at FROM request_steps WHERE step = 8 AND ended_at IS NULL").first)
                    .decode(Date.self, at: 0)
            }
            #expect(stillOpened == opened, "step 8 still counts from the first execution")
            #expect(try await f.accounts.count("SELECT count(*) FROM request_steps WHERE step = 6") == 1)
            // Once the hand-over is recorded, the password was seen: no more re-issues.
            _ = try await f.gate.act(.handover(Handover(channel: .phone, recipient: "Sekar", handedAt: f.clock.now)), on: request.id, by: admin2)
            await #expect(throws: GateError.self) { try await f.gate.act(.reissue, on: request.id, by: admin2) }
        }
    }

    @Test("20 concurrent re-issues: the request is re-issued at least once and the password of exactly one answer works")
    func concurrentReissue() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            _ = try await f.gate.act(.execute, on: request.id, by: admin2)
            let outcomes = await withTaskGroup(of: TemporaryPassword?.self) { group in
                for _ in 0..<20 {
                    group.addTask { try? await f.gate.act(.reissue, on: request.id, by: admin2).temporaryPassword }
                }
                return await group.reduce(into: [TemporaryPassword]()) { if let p = $1 { $0.append(p) } }
            }
            #expect(!outcomes.isEmpty)
            var working = 0
            for password in outcomes {
                // Each wrong one counts toward the lockout; the count is lifted between tries.
                try await f.accounts.pool.withConnection { try await LoginThrottle.clear(userID: "helpdesk01", on: $0) }
                if try await f.accounts.credentials.login(userID: "helpdesk01", password: password.reveal).code == "password_change_required" {
                    working += 1
                }
            }
            #expect(working == 1, "only the last re-issue's password opens the account")
        }
    }

    @Test("a temporary password typed as dictated — no hyphens, spaces, capitals — is accepted; a wrong one is not")
    func dictated() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            let temporary = try #require(try await f.gate.act(.execute, on: request.id, by: admin2).temporaryPassword).reveal
            let spaced = temporary.replacingOccurrences(of: "-", with: " ").uppercased()
            let joined = temporary.replacingOccurrences(of: "-", with: "")
            // One character changed (never to itself: the alphabet has x, and case does not count).
            let other = joined.lowercased().first == "x" ? "y" : "x"
            let wrong = try await f.accounts.credentials.login(userID: "helpdesk01", password: other + joined.dropFirst()).code
            #expect(wrong == "invalid_credentials", "\(wrong) for \(joined)")
            #expect(try await f.accounts.credentials.login(userID: "helpdesk01", password: spaced).code == "password_change_required")
            #expect(try await f.accounts.credentials.login(userID: "helpdesk01", password: joined).code == "password_change_required")
            #expect(TemporaryPassword.canonical(" \(joined.uppercased()) ") == temporary)
            #expect(TemporaryPassword.canonical(joined + "2") == nil && TemporaryPassword.canonical(String(joined.dropLast()) + "1") == nil)
        }
    }
}
