import Accounts
import Audit
import Foundation
import Gate
import Operations
import Postgres
import TestSupport

let pdf = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".utf8)
let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]

/// The account fixture plus the gate, with a subject account `helpdesk01`.
struct GateFixture {
    let accounts: AccountsFixture
    let gate: GateService
    let subject: Account

    var clock: SettableClock { accounts.clock }

    static func with(hooks: GateHooks = GateHooks(), _ body: (GateFixture) async throws -> Void) async throws {
        try await AccountsFixture.with { accounts in
            var settings = testSettings()
            settings.documentMaxBytes = 4096
            let gate = try await ServiceGraph.make(
                settings, pool: accounts.pool, clock: accounts.clock.serviceClock, hashingPool: sharedPool, gateHooks: hooks).gate
            let subject = try await accounts.directory.create(
                NewAccount(userID: try UserID("helpdesk01"), role: .helpdesk, fullName: try FullName("Sekar Ayu Wulandari"),
                           nip: try NIP("196102251986031010"), email: try EmailAddress("sekar@purbalinggakab.go.id"),
                           agency: try Agency("Dinas Komunikasi dan Informatika")),
                by: accounts.admin)
            try await body(GateFixture(accounts: accounts, gate: gate, subject: subject))
        }
    }

    /// Step 1 by Staf Administrasi, for a file handed in on paper, with the given documents.
    func submit(_ kinds: RequestKinds = [.resetPassword], documents: [DocumentType] = [.suratPermohonan, .skPengangkatan]) async throws -> Request {
        let request = try await gate.submit(
            NewRequest(kinds: kinds, subject: SubjectHint(fullName: "Sekar Ayu Wulandari", nip: "196102251986031010"),
                       requesterName: "Sekar Ayu Wulandari", requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy),
            by: staf)
        for type in documents { try await upload(type, to: request.id) }
        return request
    }

    func upload(_ type: DocumentType, to requestID: Int64) async throws {
        _ = try await gate.addDocument(
            try DocumentUpload(type: type, fileName: "\(type.rawValue).pdf", mediaType: "application/pdf", content: pdf, limit: 4096),
            to: requestID, by: staf)
    }

    /// Steps 2 and 5: complete, then valid for helpdesk01.
    func approve(_ request: Request) async throws {
        _ = try await gate.act(.completeness(complete: true), on: request.id, by: staf)
        _ = try await gate.act(.validity(valid: true, subject: "helpdesk01"), on: request.id, by: admin)
    }
}
