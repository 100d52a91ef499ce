import Accounts
import Foundation
import Gate
import Inputs
import Operations
import Postgres
import Testing
import TestSupport

/// A sender whose every notice bounces (an address that does not exist).
struct BouncingSender: NoticeSender {
    func send(_ notice: OutgoingNotice) async throws { throw NoticeSenderError.undeliverable("550 no such mailbox") }
}

/// SOP 004's table, row by row: each step's actor, input, limit and output, and the deviation
/// the row can produce, which its actor must then explain.
@Suite("SOP 004, row by row")
struct SOPTableTests {
    func submit(_ f: OperationsFixture, hint: SubjectHint = SubjectHint(userID: "helpdesk01"), priority: String? = nil,
                documents: [String] = ["surat_permohonan", "sk_pengangkatan"], by caller: Caller? = nil) async throws -> Request {
        let by = caller ?? f.helpdesk
        let request = try await f.operations.submitRequest(
            SubmitForm(kinds: ["reset_password"], subject: hint, subjectRole: nil, requesterName: "Pegawai helpdesk01",
                       requesterContact: "helpdesk01@purbalinggakab.go.id", channel: "email", priority: priority),
            by: by)
        for type in documents {
            _ = try await f.operations.addDocument(
                DocumentForm(type: type, fileName: "\(type).pdf", mediaType: "application/pdf", content: pdf), to: request.number, by: by)
        }
        return request
    }

    func minutes(_ f: OperationsFixture, _ m: Double) { f.accounts.clock.advance(m * 60) }

    func deviations(_ f: OperationsFixture, _ request: Request) async throws -> [Deviation] {
        try await f.operations.request(request.number, by: f.admin).record.deviations
    }

    @Test("rows 1–2: the requester files letter and SK; Staf Administrasi checks within 5 min, the note is kept; a late check is theirs to explain, once")
    func rowsOneAndTwo() async throws {
        try await OperationsFixture.with { f in
            // Row 1: any managed role files for themself — an auditor too.
            let auditorsOwn = try await submit(f, hint: SubjectHint(userID: "auditor01"), by: f.auditor)
            #expect(auditorsOwn.state == .submitted && auditorsOwn.requesterUserID == "auditor01")
            let request = try await submit(f)
            let opened = try await f.operations.request(request.number, by: f.staf).record.steps
            #expect(opened.map(\.step) == [1, 2] && opened[0].actor == "helpdesk01" && opened[1].limitMinutes == 5)

            // Row 2, late: 8 minutes against 5. The note is stored and shown.
            minutes(f, 8)
            let checked = try await f.operations.act(.completeness(complete: true, note: "SK dilegalisir, asli diperlihatkan"), on: request.number, by: f.staf)
            #expect(checked.request.state == .complete && checked.request.completenessNote == "SK dilegalisir, asli diperlihatkan")
            let late = try #require(try await deviations(f, request).first)
            #expect(late.kind == .late && late.step == 2 && late.actor == "staf.adm" && late.explanation == nil)
            #expect(late.detail == "took 8 min 0 s against a limit of 5 min")

            // Explained by the person it is attributed to, once; nobody else may, and a helpdesk may not even look.
            await #expect(throws: GateError.notTheirDeviation) {
                try await f.operations.explainDeviation(String(late.id), explanation: "bukan saya", by: f.staf2)
            }
            await #expect(throws: AccountsError.self) {
                try await f.operations.explainDeviation(String(late.id), explanation: "x", by: f.helpdesk)
            }
            await #expect(throws: InputError.self) {
                try await f.operations.explainDeviation(String(late.id), explanation: "  ", by: f.staf)
            }
            let explained = try await f.operations.explainDeviation(String(late.id), explanation: "Antrean loket penuh pukul 08.00", by: f.staf)
            #expect(explained.explanation == "Antrean loket penuh pukul 08.00" && explained.explainedAt != nil)
            await #expect(throws: GateError.deviationExplained) {
                try await f.operations.explainDeviation(String(late.id), explanation: "lagi", by: f.staf)
            }
            // The database refuses a second explanation or a deletion even past the service.
            await #expect(throws: PostgresError.self) {
                try await f.accounts.pool.withConnection { try await $0.execute("UPDATE request_deviations SET explanation = 'diubah'") }
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'deviation.explain' AND actor = 'staf.adm'") == 1)

            let report = try await f.operations.slaReport(PeriodForm(from: "2026-01-01", to: "9999-01-01"), by: f.auditor)
            let line = try #require(report.first { $0.step == 2 && $0.actor == "staf.adm" })
            #expect(line.breaches == 1 && line.explained == 1 && line.unexplained == 0)
        }
    }

    @Test("rows 3–4: the incomplete notice is sent within 5 min; a bounced notice is a deviation; a file left incomplete 14 days is rejected by the service")
    func rowsThreeAndFour() async throws {
        try await OperationsFixture.with { f in
            let request = try await submit(f, documents: ["surat_permohonan"])
            _ = try await f.operations.act(.completeness(complete: false, note: "SK belum ada"), on: request.number, by: f.staf)
            _ = try await f.operations.act(.notify, on: request.number, by: f.staf)
            #expect(try await f.accounts.count("SELECT count(*) FROM outbox WHERE step = 3 AND queued_by = 'staf.adm'") == 1)

            // Row 3's output never arrived: the notice bounced, and whoever sent it explains.
            let dispatcher = OutboxDispatcher(pool: f.accounts.pool, sender: BouncingSender(), clock: f.accounts.clock.serviceClock)
            #expect(try await dispatcher.deliverDue().failed == 1)
            let bounced = try #require(try await deviations(f, request).first { $0.kind == .bouncedNotice })
            #expect(bounced.step == 3 && bounced.actor == "staf.adm" && bounced.detail.contains("550 no such mailbox"))

            // Row 4 has no limit of its own; the queue says when the service will give up.
            let entry = try #require(try await f.operations.queue(QueueForm(), by: f.staf).first { $0.number == request.number })
            #expect(entry.step == 4 && entry.holder == "requester" && entry.secondsLeft == nil)
            #expect(entry.abandonsAt == f.accounts.clock.now.addingTimeInterval(14 * 86_400))

            f.accounts.clock.advance(13 * 86_400)
            #expect(try await f.operations.abandonExpiredRequests().isEmpty, "13 days: still time")
            f.accounts.clock.advance(86_400)
            #expect(try await f.operations.abandonExpiredRequests() == [request.number])
            let rejected = try await f.operations.request(request.number, by: f.staf)
            #expect(rejected.request.state == .rejected && rejected.request.rejectionReason == "not completed within 14 days")
            #expect(rejected.record.steps.first { $0.step == 4 }?.actor == "(system)")
            #expect(rejected.record.notices.last?.step == 7)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'request.abandon' AND actor = '(system)'") == 1)
            #expect(try await f.operations.abandonExpiredRequests().isEmpty, "a second sweep finds nothing")
            // Only the service abandons; nobody can take that action through a door.
            await #expect(throws: GateError.self) {
                try await f.graph.gate.act(.abandon(at: f.accounts.clock.now, after: 0), on: request.id, by: Actor(userID: "staf.adm", role: .stafAdministrasi))
            }
        }
    }

    @Test("row 5: Admin PPE checks validity within 15 min; an account that differs from the requester's hint needs an acknowledged reason")
    func rowFive() async throws {
        try await OperationsFixture.with { f in
            let request = try await submit(f, hint: SubjectHint(userID: "helpdesk01", fullName: "Sekar Ayu", nip: "196102251986031010"))
            _ = try await f.operations.act(.completeness(complete: true, note: nil), on: request.number, by: f.staf)
            minutes(f, 20)
            await #expect(throws: GateError.hintMismatch(fields: ["nip", "full_name"])) {
                try await f.operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number, by: f.admin)
            }
            let approved = try await f.operations.act(
                .validity(valid: true, subjectUserID: "helpdesk01", reason: nil, acknowledgement: "SK atas nama Pegawai helpdesk01; NIP di surat salah ketik"),
                on: request.number, by: f.admin)
            #expect(approved.request.state == .approved && approved.request.hintMismatch == ["nip", "full_name"])
            #expect(approved.request.mismatchAcknowledgement == "SK atas nama Pegawai helpdesk01; NIP di surat salah ketik")
            let late = try #require(try await deviations(f, request).first)
            #expect(late.kind == .late && late.step == 5 && late.actor == "admin.ppe")
        }
    }

    @Test("row 6: the limit follows the priority table, which an admin_ppe edits (audited); the report groups by priority")
    func rowSix() async throws {
        try await OperationsFixture.with { f in
            let limits = try await f.operations.priorityLimits(by: f.auditor)
            #expect(limits.map(\.priority) == [.urgent, .high, .normal, .low] && limits.first { $0.priority == .normal }?.step6Minutes == 15)
            await #expect(throws: AccountsError.self) {
                try await f.operations.setPriorityLimit(PriorityLimitForm(priority: "urgent", minutes: 5), by: f.staf)
            }
            await #expect(throws: InputError.self) {
                try await f.operations.setPriorityLimit(PriorityLimitForm(priority: "urgent", minutes: 10_081), by: f.admin)
            }
            await #expect(throws: InputError.self) {
                try await f.operations.setPriorityLimit(PriorityLimitForm(priority: "asap", minutes: 5), by: f.admin)
            }
            let edited = try await f.operations.setPriorityLimit(PriorityLimitForm(priority: "urgent", minutes: 8), by: f.admin)
            #expect(edited.first { $0.priority == .urgent }?.step6Minutes == 8 && edited.first { $0.priority == .urgent }?.updatedBy == "admin.ppe")
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'standards.priority_limit'") == 1)

            let urgent = try await submit(f, priority: "urgent")
            let normal = try await submit(f)
            for request in [urgent, normal] {
                _ = try await f.operations.act(.completeness(complete: true, note: nil), on: request.number, by: f.staf)
                _ = try await f.operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number, by: f.admin)
            }
            let queue = try await f.operations.queue(QueueForm(), by: f.admin)
            #expect(queue.first { $0.number == urgent.number }?.limitMinutes == 8)
            #expect(queue.first { $0.number == normal.number }?.limitMinutes == 15)
            // A later edit does not change a step already open.
            _ = try await f.operations.setPriorityLimit(PriorityLimitForm(priority: "urgent", minutes: 60), by: f.admin)
            minutes(f, 10)
            _ = try await f.operations.act(.execute, on: urgent.number, by: f.admin2)
            _ = try await f.operations.act(.execute, on: normal.number, by: f.admin2)
            let report = try await f.operations.slaReport(PeriodForm(from: "2026-01-01", to: "9999-01-01"), by: f.admin)
            let urgentLine = try #require(report.first { $0.step == 6 && $0.priority == "urgent" })
            let normalLine = try #require(report.first { $0.step == 6 && $0.priority == "normal" })
            #expect(urgentLine.limitMinutes == 8 && urgentLine.breaches == 1 && urgentLine.unexplained == 1)
            #expect(normalLine.limitMinutes == 15 && normalLine.breaches == 0)
            let csv = try Operations.csv(report)
            #expect(csv.contains("\n6,admin.dua,urgent,done,1,600.0,600.0,1,8,0,1\n"))
        }
    }

    @Test("rows 7–8: the rejection notice; step 8 ends with the recorded hand-over, and receipt confirmed by someone else is a deviation")
    func rowsSevenAndEight() async throws {
        try await OperationsFixture.with { f in
            let invalid = try await submit(f)
            _ = try await f.operations.act(.completeness(complete: true, note: nil), on: invalid.number, by: f.staf)
            _ = try await f.operations.act(.validity(valid: false, subjectUserID: nil, reason: "SK bukan atas nama pemohon"), on: invalid.number, by: f.admin)
            let rejected = try await f.operations.act(.notify, on: invalid.number, by: f.admin)
            #expect(rejected.request.state == .rejected)

            let request = try await f.request(approved: true)
            let executed = try await f.operations.act(.execute, on: request.number, by: f.admin2)
            let since = f.accounts.clock.now
            minutes(f, 3)
            let noticed = try await f.operations.act(.notify, on: request.number, by: f.admin2)
            #expect(noticed.request.state == .executed && noticed.request.allowedActions.map(\.action) == [.handover, .reissue])
            await #expect(throws: InputError.self) {
                try await f.operations.act(.handover(channel: "phone", recipient: nil, handedAt: nil), on: request.number, by: f.admin2)
            }
            await #expect(throws: GateError.handoverBeforeExecution) {
                try await f.operations.act(.handover(channel: "phone", recipient: "Sekar", handedAt: "2026-01-01T00:00:00Z"), on: request.number, by: f.admin2)
            }
            await #expect(throws: GateError.self) {
                try await f.operations.act(.handover(channel: "phone", recipient: "Sekar", handedAt: nil), on: request.number, by: f.staf)
            }
            let handedAt = ISO8601DateFormatter().string(from: since.addingTimeInterval(120))
            let handed = try await f.operations.act(
                .handover(channel: "phone", recipient: "Pegawai helpdesk01", handedAt: handedAt), on: request.number, by: f.admin2)
            #expect(handed.request.state == .notified && executed.temporaryPassword != nil)
            let record = try await f.operations.request(request.number, by: f.admin).record
            #expect(record.handover?.channel == .phone && record.handover?.recipient == "Pegawai helpdesk01" && record.handover?.handedBy == "admin.dua")
            #expect(record.handover?.handedAt == since.addingTimeInterval(120) && record.handover?.recordedAt == f.accounts.clock.now)
            #expect(record.notices.count == 1, "notify queued the evidence; the hand-over did not queue it twice")
            #expect(record.steps.first { $0.step == 8 }?.endedAt == f.accounts.clock.now)

            // The helpdesk never confirmed; the Admin PPE confirms for them: another actor than the standard names.
            _ = try await f.operations.act(.confirmReceipt, on: request.number, by: f.admin)
            let other = try #require(try await deviations(f, request).first { $0.kind == .otherActor })
            #expect(other.step == 8 && other.actor == "admin.ppe")
        }
    }

    @Test("row 9: archiving without a confirmed receipt is a deviation; export before archive only by an admin_ppe with a reason; the manifest holds step 9's inputs; retention purges documents, never the record")
    func rowNine() async throws {
        try await OperationsFixture.with { f in
            let request = try await f.request(approved: true)
            _ = try await f.operations.act(.execute, on: request.number, by: f.admin2)
            _ = try await f.operations.act(.handover(channel: "in_person", recipient: "Pegawai helpdesk01", handedAt: nil), on: request.number, by: f.admin2)

            await #expect(throws: GateError.exportBeforeArchive) { try await f.operations.exportRequest(request.number, by: f.staf) }
            await #expect(throws: GateError.exportBeforeArchive) { try await f.operations.exportRequest(request.number, by: f.admin) }
            _ = try await f.operations.exportRequest(request.number, reason: "pemeriksaan inspektorat", by: f.admin)
            #expect(try await f.accounts.count(
                "SELECT count(*) FROM audit_events WHERE action = 'request.export' AND details->>'reason' = 'pemeriksaan inspektorat'") == 1)

            minutes(f, 7)
            let archived = try await f.operations.act(.archive, on: request.number, by: f.staf)
            #expect(archived.request.state == .archived)
            let kinds = Set(try await deviations(f, request).map { "\($0.step):\($0.kind.rawValue):\($0.actor)" })
            #expect(kinds == ["9:missing_receipt:staf.adm", "9:late:staf.adm"])

            let (_, tar) = try await f.operations.exportRequest(request.number, by: f.staf)
            let manifest = try manifestJSON(tar)
            #expect((manifest["notices"] as? [[String: Any]])?.first?["step"] as? Int == 8)
            #expect((manifest["handover"] as? [String: Any])?["channel"] as? String == "in_person")
            #expect((manifest["receipt"] as? [String: Any])?["confirmed_at"] == nil)
            #expect((manifest["deviations"] as? [[String: Any]])?.count == 2)
            #expect((manifest["steps"] as? [[String: Any]])?.map { $0["step"] as? Int } == [1, 2, 5, 6, 8, 9])

            // Retention: five years on, the documents' content goes; the record and the audit stay.
            #expect(try await f.operations.purgeDocuments(by: f.admin).isEmpty, "not yet past retention")
            await #expect(throws: AccountsError.self) { try await f.operations.purgeDocuments(by: f.staf) }
            f.accounts.clock.advance(1826 * 86_400)
            let purged = try await f.operations.purgeDocuments(by: f.admin)
            #expect(purged == [PurgedFile(request: request.number, documents: 2, bytes: 2 * pdf.count)])
            let details = try await f.operations.request(request.number, by: f.staf)
            #expect(details.documents.count == 2 && details.documents.allSatisfy { $0.purgedAt != nil })
            await #expect(throws: GateError.documentPurged) {
                try await f.operations.document(String(details.documents[0].id), of: request.number, by: f.staf)
            }
            let after = try manifestJSON(try await f.operations.exportRequest(request.number, by: f.staf).1)
            #expect((after["documents"] as? [[String: Any]])?.allSatisfy { $0["purged_at"] != nil && $0["sha256"] != nil } == true)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'request.documents_purged'") == 1)
            // Nothing else of an archived file can change, purge or not.
            await #expect(throws: PostgresError.self) {
                try await f.accounts.pool.withConnection { try await $0.execute("UPDATE request_documents SET file_name = 'x.pdf'") }
            }
            #expect(try await f.operations.verifyAudit(by: f.auditor).isIntact)
        }
    }

    func manifestJSON(_ tar: [UInt8]) throws -> [String: Any] {
        // The manifest is the first entry: a 512-byte header, then its bytes (size in octal at 124).
        let size = Int(String(decoding: tar[124..<135], as: UTF8.self), radix: 8) ?? 0
        let object = try JSONSerialization.jsonObject(with: Data(tar[512..<(512 + size)]))
        return try #require(object as? [String: Any])
    }
}
