import Accounts
import Foundation
import Gate
import Hummingbird
import HummingbirdTesting
import Operations
import Testing
import TestSupport

/// The console as a thin door: its buttons, queue and refusals come from the operations and the
/// state machine, and it answers as the API does.
@Suite("Web console: a thin door over the operations")
struct ThinDoorTests {
    @Test("a disabled account is refused alike by the console and the API (403, after the right password); a wrong password is not told apart")
    func disabledAlike() async throws {
        try await ConsoleFixture.with { f, client, _ in
            try await f.graph.operations.setAccountStatus("staf.adm", to: .disabled, by: try await f.caller("admin.ppe"))
            let page = try await Browser(client).signIn("staf.adm", ConsoleFixture.password)
            #expect(page.status == .forbidden && page.body.contains("Akun ini dinonaktifkan."), "\(page.status)")
            let api = try await client.execute(uri: "/v1/auth/login", method: .post, headers: [.contentType: "application/json"],
                                               body: ByteBuffer(string: #"{"user_id":"staf.adm","password":"\#(ConsoleFixture.password)"}"#)) { $0.status }
            #expect(api == .forbidden)
            // A wrong password of the disabled account reads like any wrong password.
            let wrong = try await Browser(client).signIn("staf.adm", "bukan password saya")
            #expect(wrong.status == .unauthorized && wrong.body.contains("User ID atau password salah."))
        }
    }

    @Test("the home queue holds the steps the standard gives one's role: a file at step 9 is the Staf's, not the Admin PPE's")
    func queueByHolder() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request(approved: true)
            let admin = try await f.caller("admin.ppe")
            _ = try await f.graph.operations.act(.execute, on: request.number, by: admin)
            _ = try await f.graph.operations.act(.handover(channel: "phone", recipient: "Sekar", handedAt: nil), on: request.number, by: admin)
            let adminBrowser = Browser(client)
            try await adminBrowser.signIn("admin.ppe", ConsoleFixture.password)
            #expect(!(try await adminBrowser.get("/beranda")).body.contains(request.number), "step 9 is not the Admin PPE's work")
            let staf = Browser(client)
            try await staf.signIn("staf.adm", ConsoleFixture.password)
            #expect(try await staf.get("/beranda").body.contains(request.number))
        }
    }

    @Test("buttons are the state machine's: the helpdesk confirms their own receipt; an operator confirming is told it is a deviation")
    func buttonsFromTheMachine() async throws {
        try await ConsoleFixture.with { f, client, _ in
            // A user-ID lookup: the helpdesk keeps their password, so they sign in and confirm by hand
            // (a reset's first login with the temporary password confirms by itself).
            let request = try await f.request(approved: true, kinds: ["user_id_info"])
            let admin = try await f.caller("admin.ppe")
            _ = try await f.graph.operations.act(.execute, on: request.number, by: admin)
            _ = try await f.graph.operations.act(.handover(channel: "phone", recipient: "Sekar", handedAt: nil), on: request.number, by: admin)
            let helpdesk = Browser(client)
            try await helpdesk.signIn("helpdesk01", ConsoleFixture.password)
            let own = try await helpdesk.get("/permohonan/\(request.number)")
            #expect(own.body.contains("/langkah/confirm-receipt") && own.body.contains("Konfirmasikan di sini."))
            #expect(!own.body.contains("dicatat sebagai penyimpangan"))
            let adminBrowser = Browser(client)
            try await adminBrowser.signIn("admin.ppe", ConsoleFixture.password)
            let other = try await adminBrowser.get("/permohonan/\(request.number)")
            #expect(other.body.contains("/langkah/confirm-receipt") && other.body.contains("dicatat sebagai penyimpangan"))
            // The auditor reads every request and may take none of its steps: no button at all.
            let auditor = Browser(client)
            try await auditor.signIn("auditor01", ConsoleFixture.password)
            #expect(!(try await auditor.get("/permohonan/\(request.number)")).body.contains("/langkah/"))
            // And what the helpdesk was shown works.
            _ = try await helpdesk.get("/permohonan/\(request.number)")
            let confirmed = try await helpdesk.post("/permohonan/\(request.number)/langkah/confirm-receipt", [:])
            #expect(confirmed.status == .seeOther)
            #expect(try await f.graph.operations.request(request.number, by: admin).request.receiptConfirmedAt != nil)
        }
    }

    @Test("reloading step 6's result says the step was done (no red code error); a refusal page's title ends in words, not a colon")
    func reloadAndRefusalTitle() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request(approved: true)
            let admin = Browser(client)
            try await admin.signIn("admin.ppe", ConsoleFixture.password)
            _ = try await admin.get("/permohonan/\(request.number)")
            let shown = try await admin.post("/permohonan/\(request.number)/langkah/execute", [:])
            #expect(shown.status == .ok && shown.body.contains("temporary-password"))
            // The browser's reload re-posts the same form (its CSRF token is still the page's).
            let again = try await admin.post("/permohonan/\(request.number)/langkah/execute", [:])
            #expect(again.status == .seeOther && again.location?.contains("ok=already_executed") == true, "\(again.status)")
            let page = try await admin.get(again.location ?? "/")
            #expect(page.body.contains("Langkah 6 sudah dilaksanakan") && !page.body.contains("Kode salah"))
            let stranger = Browser(client)
            try await stranger.signIn("helpdesk02", ConsoleFixture.password)
            let refused = try await stranger.get("/permohonan/\(request.number)")
            #expect(refused.status == .notFound && refused.body.contains("<title>Tidak dapat diproses") && !refused.body.contains("diproses:</title>"))
        }
    }

    @Test("'Kurang' names only what the file still lacks: after the SK is uploaded for the supplement it is gone")
    func missingUntilFiled() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let staf = try await f.caller("staf.adm")
            let request = try await f.request(documents: ["surat_permohonan"])
            _ = try await f.graph.operations.act(.completeness(complete: false, note: nil), on: request.number, by: staf)
            _ = try await f.graph.operations.act(.notify, on: request.number, by: staf)
            let browser = Browser(client)
            try await browser.signIn("staf.adm", ConsoleFixture.password)
            #expect(try await browser.get("/permohonan/\(request.number)").body.contains("SK pengangkatan"))
            let before = try await browser.get("/permohonan/\(request.number)").body
            #expect(before.contains("<dt>Kurang</dt>"))
            f.accounts.clock.advance(60)
            _ = try await f.graph.operations.addDocument(
                DocumentForm(type: "sk_pengangkatan", fileName: "sk.pdf", mediaType: "application/pdf", content: pdf), to: request.number, by: staf)
            #expect(!(try await browser.get("/permohonan/\(request.number)")).body.contains("<dt>Kurang</dt>"))
        }
    }

    @Test("the request list finds a file by number, requester or account, filters by state, step, holder and overdue, and refuses a bad filter at the form")
    func requestList() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let approved = try await f.request(approved: true)
            let fresh = try await f.request()
            let staf = Browser(client)
            try await staf.signIn("staf.adm", ConsoleFixture.password)
            let all = try await staf.get("/permohonan")
            #expect(all.status == .ok && all.body.contains(approved.number) && all.body.contains(fresh.number))
            let byState = try await staf.get("/permohonan?status=approved")
            #expect(byState.body.contains(approved.number) && !byState.body.contains("data-request=\"\(fresh.number)\""))
            let byStep = try await staf.get("/permohonan?langkah=2&pemegang=staf_administrasi")
            #expect(byStep.body.contains("data-request=\"\(fresh.number)\"") && !byStep.body.contains("data-request=\"\(approved.number)\""))
            let byAccount = try await staf.get("/permohonan?q=HELPDESK01")
            #expect(byAccount.body.contains("data-request=\"\(approved.number)\"") && !byAccount.body.contains("data-request=\"\(fresh.number)\""))
            let byName = try await staf.get("/permohonan?q=sekar%20ayu")
            #expect(byName.body.contains(approved.number) && byName.body.contains(fresh.number))
            // As the search form sends it: a space is `+`, and the text comes back in the box.
            let typed = try await staf.get("/permohonan?status=&q=sekar+ayu")
            #expect(typed.body.contains("data-request=\"\(approved.number)\"") && typed.body.contains("data-request=\"\(fresh.number)\""))
            #expect(typed.body.contains("value=\"sekar ayu\""))
            let plus = try await staf.get("/permohonan?q=%2B62")
            #expect(plus.status == .ok && plus.body.contains("value=\"+62\""), "an encoded + is a plus")
            let literal = try await staf.get("/permohonan?q=%25")
            #expect(literal.status == .ok && literal.body.contains("Tidak ada permohonan yang cocok."), "a % is a character, not a wildcard")
            #expect(!(try await staf.get("/permohonan?terlambat=true")).body.contains("data-request="), "nothing is overdue yet")
            f.accounts.clock.advance(3 * 86_400)
            try await staf.signIn("staf.adm", ConsoleFixture.password)  // three days idle ended the session
            let late = try await staf.get("/permohonan?terlambat=true")
            #expect(late.body.contains("data-request=\"\(fresh.number)\""), "\(late.status) \(late.body.suffix(1500))")
            for bad in ["langkah=99", "langkah=-1", "status=nope", "pemegang=root", "terlambat=ya", "halaman=0", "halaman=99999999999999999999", "q=a%00b", "q=%FF"] {
                let refused = try await staf.get("/permohonan?\(bad)")
                #expect(refused.status == .unprocessableContent && refused.body.contains("role=\"alert\""), "\(bad): \(refused.status)")
            }
            let helpdesk = Browser(client)
            try await helpdesk.signIn("helpdesk02", ConsoleFixture.password)
            #expect(try await helpdesk.get("/permohonan").status == .forbidden)
        }
    }

    @Test("after a real provisioning run the form offers \"Periksa saja\" ticked again, so the next file is checked first")
    func provisioningChecksFirstAgain() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let admin = Browser(client)
            try await admin.signIn("admin.ppe", ConsoleFixture.password)
            let form = try await admin.get("/akun/massal")
            #expect(form.status == .ok && form.body.contains(#"name="dry_run" value="1" checked"#))
            let csv = Array("user_id,role,full_name,nip,email,agency\nhd.massal,helpdesk,Dewi Lestari,,dewi@purbalinggakab.go.id,LPSE\n".utf8)
            let applied = try await admin.postMultipart("/akun/massal", [:], files: ["file": csv])
            #expect(applied.status == .ok, "\(applied.status) \(applied.body.suffix(800))")
            let created = try await f.accounts.pool.withConnection { try await f.accounts.directory.find(try UserID("hd.massal"), on: $0) }
            #expect(created != nil, "the run was for real")
            #expect(applied.body.contains(#"name="dry_run" value="1" checked"#))
        }
    }

    @Test("a page address that matches nothing: the sign-in page without a session, \"not found\" in the layout and the reader's language with one; the API keeps problem+json")
    func unknownPage() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let html: HTTPFields = [.accept: "text/html,application/xhtml+xml"]
            let anonymous = try await client.execute(uri: "/tidak-ada", method: .get, headers: html) { ($0.status, $0.headers[.location]) }
            #expect(anonymous.0 == .seeOther && anonymous.1 == "/masuk", "\(anonymous)")
            let staf = Browser(client, language: "en")
            try await staf.signIn("staf.adm", ConsoleFixture.password)
            let cookie = staf.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let page = try await client.execute(uri: "/tidak-ada", method: .get,
                                                headers: [.accept: "text/html", .cookie: cookie, .acceptLanguage: "en"]) {
                ($0.status, $0.headers[.contentType] ?? "", String(buffer: $0.body))
            }
            #expect(page.0 == .notFound && page.1.hasPrefix("text/html") && page.2.contains("<html lang=\"en\"") && page.2.contains("<nav"), "\(page.0) \(page.2.prefix(400))")
            let api = try await client.execute(uri: "/v1/tidak-ada", method: .get, headers: html) { ($0.status, $0.headers[.contentType] ?? "") }
            #expect(api.0 == .notFound && api.1.hasPrefix("application/problem+json"))
        }
    }

    /// The bad inputs of `SameRefusalTests` (HTTP and CLI) that a console page takes, as the console takes them.
    static let badInputs: [(name: String, userID: String, path: String, form: [String: String]?, field: String?)] = [
        ("a control character in the lookup text", "admin.ppe", "/akun?q=a%07b&reason=r", nil, "q"),
        ("a control character in the lookup reason", "admin.ppe", "/akun?q=Sekar&reason=x%1By", nil, "reason"),
        ("an SLA period starting before 1900", "admin.ppe", "/laporan?from=0000-12-31", nil, nil),
        ("an SLA period that ends before it starts", "admin.ppe", "/laporan?from=2026-12-01&to=2026-11-01", nil, nil),
        ("an unknown state", "staf.adm", "/permohonan?status=lost", nil, nil),
        ("a request reference that is neither id nor number", "staf.adm", "/permohonan/REQ-ABC", nil, nil),
        ("a NIP in the subject hint that is no NIP", "staf.adm", "/permohonan/baru",
         ["kind_reset": "1", "subject_nip": "123456789012345678", "requester_name": "Sekar", "requester_contact": "sekar@purbalinggakab.go.id",
          "channel": "hardcopy"], "subject_nip"),
        ("a requester name over 200 characters", "staf.adm", "/permohonan/baru",
         ["kind_reset": "1", "subject_user_id": "helpdesk01", "requester_name": String(repeating: "Sekar ", count: 40) + "x",
          "requester_contact": "sekar@purbalinggakab.go.id", "channel": "hardcopy"], "requester_name"),
    ]

    @Test("the console refuses the doors-agree bad inputs as the API does: 422, said on the page (at the field where there is one), nothing changed")
    func sameRefusalAsTheAPI() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let before = try await f.accounts.count("SELECT count(*) FROM requests")
            for input in Self.badInputs {
                let browser = Browser(client)
                try await browser.signIn(input.userID, ConsoleFixture.password)
                let page: Browser.Page
                if let form = input.form {
                    _ = try await browser.get(input.path)
                    page = try await browser.post(input.path, form)
                } else {
                    page = try await browser.get(input.path)
                }
                #expect(page.status == .unprocessableContent, "\(input.name): \(page.status)")
                #expect(page.body.contains("role=\"alert\""), "\(input.name): no message on the page")
                if let field = input.field, input.form != nil {
                    #expect(page.body.contains("id=\"\(field)\" name=\"\(field)\"") && page.body.contains("aria-describedby=\"\(field)-error\""),
                            "\(input.name): the field \(field) is not marked")
                }
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM requests") == before)
        }
    }

    @Test("the account page shows the sign-in state and resets a lost authenticator (reason required, never one's own); /akun/baru is still the form")
    func accountPage() async throws {
        try await ConsoleFixture.with { f, client, _ in
            guard case .ok(let token, _) = try await f.graph.operations.login(userID: "staf.adm", password: ConsoleFixture.password) else {
                Issue.record("staf.adm could not sign in"); return
            }
            let enrolment = try await f.graph.operations.beginTOTPEnrolment(token: token)
            _ = try await f.graph.operations.confirmTOTPEnrolment(token: token, code: AuthenticatorApp.code(enrolment.secret, at: f.accounts.clock.now))
            let admin = Browser(client)
            try await admin.signIn("admin.ppe", ConsoleFixture.password)
            #expect(try await admin.get("/akun/baru").body.contains("name=\"user_id\""), "the create form, not an account called baru")
            let before = try await admin.get("/akun/staf.adm?reason=uji%20halaman")
            #expect(before.status == .ok && before.body.contains("aktif sejak") && before.body.contains("id=\"reset-authenticator\""))
            let live = before.body.range(of: #"<dd id="live-sessions">"#).map { String(before.body[$0.upperBound...].prefix(12)) } ?? "-"
            #expect(Int(live.prefix { $0.isNumber }) ?? 0 >= 1, "the staf's sessions are live: \(live)")
            // No reason: refused at the form, nothing removed.
            let refused = try await admin.post("/akun/staf.adm/reset-authenticator", ["reason": "", "alasan_lihat": "uji halaman"])
            #expect(refused.status == .unprocessableContent && refused.body.contains("aktif sejak"))
            _ = try await admin.get("/akun/staf.adm?reason=uji%20halaman")
            let reset = try await admin.post("/akun/staf.adm/reset-authenticator", ["reason": "ponsel hilang", "alasan_lihat": "uji halaman"])
            #expect(reset.status == .seeOther && reset.location?.contains("ok=authenticator_reset") == true)
            let after = try await admin.get(reset.location ?? "/")
            #expect(after.body.contains("Autentikator direset"))
            #expect(after.body.contains("belum ada") && after.body.contains(#"<dd id="live-sessions">0</dd>"#))
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'totp.reset' AND subject = 'staf.adm'") == 1)
            // One's own page has no reset; a helpdesk has no account pages.
            #expect(!(try await admin.get("/akun/admin.ppe?reason=uji")).body.contains("id=\"reset-authenticator\""))
            let helpdesk = Browser(client)
            try await helpdesk.signIn("helpdesk01", ConsoleFixture.password)
            #expect(try await helpdesk.get("/akun/staf.adm?reason=x").status == .forbidden)
        }
    }
}
