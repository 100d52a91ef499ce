import Accounts
import Foundation
import Gate
import Postgres
import Testing
import TestSupport

@Suite("SOP 004 gate against the database")
struct GateFlowTests {
    @Test("the complete path, both kinds: reset and user ID, notice, first-login receipt, archive, export")
    func completePath() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit([.resetPassword, .userIDInfo])
            #expect(request.number.hasPrefix("REQ-2026-") && request.number.count == 15)
            #expect(request.state == .submitted)
            try await f.approve(request)
            let executed = try await f.gate.act(.execute, on: request.id, by: admin2)
            #expect(executed.request.state == .executed)
            #expect(executed.disclosedUserID == "helpdesk01")
            let temporary = try #require(executed.temporaryPassword)
            #expect(executed.temporaryPasswordExpiresAt == f.clock.now.addingTimeInterval(72 * 3600))

            _ = try await f.gate.act(.notify, on: request.id, by: admin2)
            let notice = try await f.accounts.pool.withConnection { connection in
                try #require(try await connection.query("SELECT step, body_id, body_en, recipient FROM outbox").first)
            }
            #expect(try notice.decode(Int.self, at: 0) == 8)
            let body = try notice.decode(String.self, at: 1) + (try notice.decode(String.self, at: 2))
            #expect(body.contains("helpdesk01") && body.contains("wajib mengganti password"))
            #expect(!body.contains(temporary.reveal), "the temporary password is never in a notice")
            #expect(try await f.gate.request(request.id).state == .executed, "the notice does not end step 8")
            _ = try await f.gate.act(.handover(Handover(channel: .phone, recipient: "Sekar", handedAt: f.clock.now)), on: request.id, by: admin2)

            #expect(try await f.accounts.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "password_change_required")
            #expect(try await f.gate.confirmReceiptOnFirstLogin(userID: "helpdesk01") == [request.number])

            let archived = try await f.gate.act(.archive, on: request.id, by: staf2)
            #expect(archived.request.state == .archived)
            #expect(archived.request.receiptConfirmedAt != nil)

            let tar = try await f.gate.export(request.id)
            let text = String(decoding: tar, as: UTF8.self)
            #expect(tar.count % 512 == 0)
            #expect(text.hasPrefix("manifest.json"))
            #expect(text.contains("\"number\" : \"\(request.number)\""))
            #expect(text.contains("documents/") && text.contains("%PDF-1.7"))
            let steps = try await f.accounts.count("SELECT count(*) FROM request_steps WHERE request_id = $1 AND ended_at IS NOT NULL", [request.id])
            #expect(steps == 6, "steps 1, 2, 5, 6, 8, 9")
            #expect(text.contains("\"handover\"") && text.contains("\"notices\"") && text.contains("\"outcome\" : \"pending\""))
            #expect(text.contains("\"confirmed_by\" : \"helpdesk01\""))
            #expect(try await f.accounts.count("SELECT count(*) FROM request_steps WHERE request_id = $1 AND ended_at IS NULL", [request.id]) == 0)
        }
    }

    @Test("the incomplete loop: missing SK refused as complete, notice names it, supplement, back to step 2")
    func incompleteLoop() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit(documents: [.suratPermohonan])
            await #expect(throws: GateError.missingDocuments([.skPengangkatan])) {
                try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            }
            _ = try await f.gate.act(.completeness(complete: false), on: request.id, by: staf)
            _ = try await f.gate.act(.notify, on: request.id, by: staf)
            let body = try await f.accounts.pool.withConnection { try await $0.query("SELECT body_id FROM outbox WHERE step = 3").first?.decode(String.self, at: 0) }
            #expect(body?.contains("SK Pengangkatan") == true)
            try await f.upload(.skPengangkatan, to: request.id)
            let back = try await f.gate.act(.supplement, on: request.id, by: staf2)
            #expect(back.request.state == .submitted)
            let complete = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            #expect(complete.request.state == .complete)
        }
    }

    @Test("rejection: invalid with a reason, step 7 notice with it, archive")
    func rejection() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            _ = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            await #expect(throws: GateError.self) {
                try await f.gate.act(.validity(valid: false, subject: nil), on: request.id, by: admin)
            }
            _ = try await f.gate.act(.validity(valid: false, subject: nil, reason: "SK tidak mencantumkan nama pemohon"), on: request.id, by: admin)
            _ = try await f.gate.act(.notify, on: request.id, by: admin)
            let body = try await f.accounts.pool.withConnection { try await $0.query("SELECT body_id FROM outbox WHERE step = 7").first?.decode(String.self, at: 0) }
            #expect(body?.contains("SK tidak mencantumkan nama pemohon") == true)
            #expect(try await f.gate.act(.archive, on: request.id, by: staf).request.state == .archived)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'password.reset'") == 0)
        }
    }

    @Test("user ID information alone discloses the ID and resets nothing")
    func userIDOnly() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit([.userIDInfo])
            try await f.approve(request)
            let result = try await f.gate.act(.execute, on: request.id, by: admin)
            #expect(result.disclosedUserID == "helpdesk01")
            #expect(result.temporaryPassword == nil)
            #expect(try await f.accounts.count("SELECT count(*) FROM accounts WHERE password_hash IS NOT NULL") == 0)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'account.disclose_user_id'") == 1)
        }
    }

    @Test("separation of duties holds in the service: checker ≠ validator, nobody on their own account, wrong roles")
    func separationOfDuties() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            await #expect(throws: GateError.notPermitted(role: .adminPPE, action: .completeness)) {
                try await f.gate.act(.completeness(complete: true), on: request.id, by: admin)
            }
            _ = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            let stafAsAdmin = Actor(userID: staf.userID, role: .adminPPE)
            await #expect(throws: GateError.separationOfDuties(rule: "whoever checked completeness may not check validity")) {
                try await f.gate.act(.validity(valid: true, subject: "helpdesk01"), on: request.id, by: stafAsAdmin)
            }
            let subjectAsAdmin = Actor(userID: "helpdesk01", role: .adminPPE)
            await #expect(throws: GateError.separationOfDuties(rule: "nobody resets or looks up their own account through the gate")) {
                try await f.gate.act(.validity(valid: true, subject: "helpdesk01"), on: request.id, by: subjectAsAdmin)
            }
            await #expect(throws: GateError.subjectNotFound) {
                try await f.gate.act(.validity(valid: true, subject: "nobody.here"), on: request.id, by: admin)
            }
            // The helpdesk's own request: they may supplement it, never process it.
            let own = try await f.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .email),
                by: Actor(userID: "helpdesk01", role: .helpdesk))
            #expect(own.requesterUserID == "helpdesk01")
            let requesterAsStaf = Actor(userID: "helpdesk01", role: .stafAdministrasi)
            await #expect(throws: GateError.separationOfDuties(rule: "the requester never processes their own request")) {
                try await f.gate.act(.completeness(complete: false), on: own.id, by: requesterAsStaf)
            }
            let unchanged = try await f.gate.request(own.id)
            #expect(unchanged.state == .submitted)
        }
    }

    @Test("20 concurrent executes of one approved request: one reset, 19 clear refusals")
    func exactlyOnce() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            try await f.approve(request)
            let outcomes = await withTaskGroup(of: Result<ActionResult, any Error>.self) { group in
                for _ in 0..<20 {
                    group.addTask { await Result(catching: { try await f.gate.act(.execute, on: request.id, by: admin) }) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let successes = outcomes.filter { if case .success = $0 { return true } else { return false } }
            #expect(successes.count == 1)
            for case .failure(let error) in outcomes {
                guard case .wrongState(let current, let allowed) = error as? GateError else {
                    Issue.record("unexpected refusal \(error)"); continue
                }
                #expect(current == .executed)
                #expect(allowed.map(\.action) == [.handover, .notify, .reissue])
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'password.reset'") == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM request_steps WHERE step = 6") == 1)
        }
    }

    @Test("a connection killed between the reset and the step record leaves neither")
    func killedMidExecute() async throws {
        let kill = GateHooks { connection in
            // The server ends this very session mid-transaction, as a crash would.
            _ = try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())")
        }
        try await GateFixture.with(hooks: kill) { f in
            let request = try await f.submit()
            try await f.approve(request)
            await #expect(throws: PostgresError.self) { try await f.gate.act(.execute, on: request.id, by: admin) }
            #expect(try await f.gate.request(request.id).state == .approved)
            #expect(try await f.accounts.count("SELECT count(*) FROM accounts WHERE password_hash IS NOT NULL") == 0)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action IN ('password.reset', 'request.execute')") == 0)
            #expect(try await f.accounts.count("SELECT count(*) FROM request_steps WHERE step = 6 AND ended_at IS NOT NULL") == 0)
        }
    }

    @Test("archived requests refuse every change, in the service and in the database")
    func archivedIsFinal() async throws {
        try await GateFixture.with { f in
            let request = try await f.submit()
            _ = try await f.gate.act(.completeness(complete: true), on: request.id, by: staf)
            _ = try await f.gate.act(.validity(valid: false, subject: nil, reason: "tidak sah"), on: request.id, by: admin)
            _ = try await f.gate.act(.notify, on: request.id, by: admin)
            _ = try await f.gate.act(.archive, on: request.id, by: staf)
            await #expect(throws: GateError.wrongState(current: .archived, allowed: [])) {
                try await f.gate.act(.archive, on: request.id, by: staf)
            }
            await #expect(throws: GateError.self) { try await f.upload(.other, to: request.id) }
            for statement in [
                "UPDATE requests SET requester_name = 'x' WHERE id = $1", "DELETE FROM requests WHERE id = $1",
                "DELETE FROM request_documents WHERE request_id = $1", "UPDATE request_steps SET actor = 'x' WHERE request_id = $1",
            ] {
                let error = await #expect(throws: PostgresError.self) {
                    try await f.accounts.pool.withConnection { try await $0.execute(statement, [request.id]) }
                }
                #expect(error?.sqlState == .insufficientPrivilege, "\(statement)")
            }
        }
    }

    @Test("documents: PDF/JPEG/PNG by magic bytes, declared type must match, size limit")
    func documents() async throws {
        #expect(throws: GateError.self) { try DocumentUpload(type: .other, fileName: "x.exe", mediaType: "application/pdf", content: Array("MZ\u{90}".utf8), limit: 100) }
        #expect(throws: GateError.self) { try DocumentUpload(type: .other, fileName: "x.png", mediaType: "application/pdf", content: png, limit: 100) }
        #expect(throws: GateError.self) { try DocumentUpload(type: .other, fileName: "x.pdf", mediaType: "application/pdf", content: pdf, limit: 10) }
        #expect(throws: GateError.self) { try DocumentUpload(type: .other, fileName: "../x.pdf", mediaType: "application/pdf", content: pdf, limit: 100) }
        let ok = try DocumentUpload(type: .skPengangkatan, fileName: "sk.png", mediaType: "image/png", content: png, limit: 100)
        #expect(ok.sha256.count == 32)
        try await GateFixture.with { f in
            let request = try await f.submit(documents: [])
            let info = try await f.gate.addDocument(ok, to: request.id, by: staf)
            let (stored, content) = try await f.gate.document(info.id, of: request.id)
            #expect(stored == info && content == png)
            await #expect(throws: GateError.documentNotFound) { try await f.gate.document(info.id + 99, of: request.id) }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
