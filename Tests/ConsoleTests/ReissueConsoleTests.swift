import Accounts
import Foundation
import Gate
import Operations
import Testing
import TestSupport

@Suite("Web console: step 6 again, and filing in one piece")
struct ReissueConsoleTests {
    @Test("an executed request offers the Admin PPE 'Terbitkan ulang'; it shows a new password and the old one stops working")
    func reissueFromTheConsole() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request(approved: true)
            let first = try #require(try await f.graph.operations.act(.execute, on: request.number, by: try await f.caller("admin.ppe")).temporaryPassword)
            let admin = Browser(client)
            try await admin.signIn("admin.ppe", ConsoleFixture.password)
            let page = try await admin.get("/permohonan/\(request.number)")
            #expect(page.body.contains("Password tidak sempat terlihat? Terbitkan ulang"))
            let staf = Browser(client)
            try await staf.signIn("staf.adm", ConsoleFixture.password)
            #expect(!(try await staf.get("/permohonan/\(request.number)")).body.contains("Terbitkan ulang"), "only the Admin PPE is offered it")
            let result = try await admin.post("/permohonan/\(request.number)/langkah/reissue", [:])
            #expect(result.status == .ok)
            #expect(!result.body.contains(first.reveal))
            #expect(try await f.accounts.credentials.login(userID: "helpdesk01", password: first.reveal).code == "invalid_credentials")
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'request.reissue' AND actor = 'admin.ppe'") == 1)
        }
    }

    @Test("filing a request from the console with a document refused by its bytes leaves no request behind")
    func filingIsAllOrNothing() async throws {
        try await ConsoleFixture.with { f, _, _ in
            let staf = try await f.caller("staf.adm")
            await #expect(throws: (any Error).self) {
                try await f.graph.operations.submitRequest(
                    SubmitForm(kinds: ["reset_password"], subject: SubjectHint(userID: "helpdesk01"), subjectRole: nil, requesterName: "Sekar",
                               requesterContact: "sekar@purbalinggakab.go.id", channel: "hardcopy", priority: nil,
                               documents: [DocumentForm(type: "surat_permohonan", fileName: "surat.pdf", mediaType: "application/pdf", content: pdf),
                                           DocumentForm(type: "sk_pengangkatan", fileName: "sk.pdf", mediaType: "application/pdf",
                                                        content: Array("MZ not a pdf".utf8))]),
                    by: staf)
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM requests") == 0)
            #expect(try await f.accounts.count("SELECT count(*) FROM request_documents") == 0)
            let filed = try await f.graph.operations.submitRequest(
                SubmitForm(kinds: ["reset_password"], subject: SubjectHint(userID: "helpdesk01"), subjectRole: nil, requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: "hardcopy", priority: nil,
                           documents: ["surat_permohonan", "sk_pengangkatan"].map {
                               DocumentForm(type: $0, fileName: "\($0).pdf", mediaType: "application/pdf", content: pdf)
                           }),
                by: staf)
            #expect(try await f.accounts.count("SELECT count(*) FROM request_documents WHERE request_id = $1", [filed.id]) == 2)
        }
    }
}
