import Accounts
import Foundation
import Gate
import Operations
import Postgres
import Testing
import TestSupport

@Suite("Web console: verdicts given, faults told, step 6 again, filing in one piece")
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

    @Test("steps 2 and 5 preselect no verdict; a form posted without one is refused at the field and changes nothing")
    func verdictsAreExplicit() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request()
            let staf = Browser(client)
            try await staf.signIn("staf.adm", ConsoleFixture.password)
            let page = try await staf.get("/permohonan/\(request.number)")
            #expect(page.body.contains(#"name="complete" value="true""#) && !page.body.contains(#"name="complete" value="true" checked"#))
            let refused = try await staf.post("/permohonan/\(request.number)/langkah/completeness", ["note": "dicek"])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.body.contains("Pilih keputusannya dulu"), "the refusal says a verdict is required")
            #expect(try await f.graph.gate.request(request.id).state == .submitted)
            _ = try await staf.get("/permohonan/\(request.number)")
            #expect(try await staf.post("/permohonan/\(request.number)/langkah/completeness", ["complete": "yes"]).status == .unprocessableContent)
            _ = try await staf.get("/permohonan/\(request.number)")
            _ = try await staf.post("/permohonan/\(request.number)/langkah/completeness", ["complete": "true"])
            #expect(try await f.graph.gate.request(request.id).state == .complete)

            let admin = Browser(client)
            try await admin.signIn("admin.ppe", ConsoleFixture.password)
            let validity = try await admin.get("/permohonan/\(request.number)")
            #expect(!validity.body.contains(#"name="valid" value="true" checked"#))
            let noVerdict = try await admin.post("/permohonan/\(request.number)/langkah/validity", ["subject_user_id": "helpdesk01"])
            #expect(noVerdict.status == .unprocessableContent)
            #expect(try await f.graph.gate.request(request.id).state == .complete)
        }
    }

    @Test("sign-in against a database that takes no writes says the service is unavailable (503, Retry-After), not 'too many attempts'")
    func signInFaultIsNotAThrottle() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let browser = Browser(client)
            _ = try await browser.get("/masuk")
            try await f.accounts.database.setReadOnly(true)
            let page = try await browser.post("/masuk", ["user_id": "staf.adm", "password": ConsoleFixture.password])
            try await f.accounts.database.setReadOnly(false)
            #expect(page.status == .serviceUnavailable && page.headers[.retryAfter] == "5")
            #expect(page.body.contains("Layanan sedang sibuk atau tidak tersedia; coba lagi dalam 5 detik."))
            #expect(!page.body.contains("Terlalu banyak percobaan"))
        }
    }
}
