import Accounts
import Foundation
import Gate
import Hummingbird
import HummingbirdTesting
import Operations
import Testing
import TestSupport

@Suite("Console: the public door for whoever cannot sign in")
struct PublicConsoleTests {
    static let sekar = ["kind_reset": "1", "full_name": "Sekar Ayu Wulandari", "nip": "196102251986031010", "email": "sekar@purbalinggakab.go.id",
                        "phone": "0812 2700 1234", "agency": "Dinas Kominfo", "role": "helpdesk"]

    @Test("from the sign-in page: 'Lupa password?' files with both documents, the receipt shows the number and code once, and /lacak shows the state in plain words")
    func fileAndTrack() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let visitor = Browser(client)
            let signIn = try await visitor.get("/masuk")
            #expect(signIn.body.contains("href=\"/lupa\"") && signIn.body.contains("Lupa password atau User ID?"))
            let form = try await visitor.get("/lupa")
            #expect(form.status == .ok && form.body.contains("enctype=\"multipart/form-data\"") && form.body.contains("SOP 004"))
            let receipt = try await visitor.postMultipart("/lupa", Self.sekar, files: ["surat_permohonan": pdf, "sk_pengangkatan": pdf])
            #expect(receipt.status == .created, "\(receipt.body.prefix(600))")
            let number = try #require(receipt.body.firstMatch(of: /REQ-[0-9]{4}-[0-9]{6}/)).0
            let code = String(try #require(receipt.body.firstMatch(of: /data-secret="([0-9A-Z\-]{31})"/)).1)
            #expect(receipt.headers[.cacheControl] == "no-store" && receipt.body.contains("hanya ditampilkan sekali"))
            // The request waits in the Staf's intake, marked as online.
            let staf = Browser(client)
            _ = try await staf.signIn("staf.adm", ConsoleFixture.password)
            let home = try await staf.get("/beranda")
            #expect(home.body.contains(String(number)) && home.body.contains(">daring<"))
            // Its documents reach operators only as downloads, never rendered.
            let detail = try await staf.get("/permohonan/\(number)")
            let link = String(try #require(detail.body.firstMatch(of: /href="(\/permohonan\/REQ-[0-9-]+\/dokumen\/[0-9]+)"/)).1)
            let document = try await staf.get(link)
            #expect(document.headers[.contentDisposition]?.hasPrefix("attachment") == true && document.headers[.init("X-Content-Type-Options")!] == "nosniff")
            // Tracking, in plain words; never an account.
            let tracker = Browser(client)
            _ = try await tracker.get("/lacak")
            let status = try await tracker.post("/lacak", ["number": String(number), "code": code.lowercased()])
            #expect(status.status == .ok && status.body.contains("Staf Administrasi sedang memeriksa kelengkapannya"), "\(status.body.prefix(400))")
            #expect(!status.body.contains("supplement-form"))
            _ = try await tracker.get("/lacak")
            let wrong = try await tracker.post("/lacak", ["number": String(number), "code": "00000-00000-00000-00000-00000-0"])
            #expect(wrong.status == .notFound && wrong.body.contains("role=\"alert\""))
            // Step 3 → 4 from the tracking page.
            let stafCaller = try await f.caller("staf.adm")
            _ = try await f.graph.operations.act(.completeness(complete: false, note: "SK tidak terbaca"), on: String(number), by: stafCaller)
            _ = try await f.graph.operations.act(.notify, on: String(number), by: stafCaller)
            _ = try await tracker.get("/lacak")
            let waiting = try await tracker.post("/lacak", ["number": String(number), "code": code])
            #expect(waiting.body.contains("lengkapi berkas Anda") && waiting.body.contains("supplement-form"))
            let sent = try await tracker.postMultipart("/lacak/lengkapi", ["number": String(number), "code": code], files: ["sk_pengangkatan": pdf])
            #expect(sent.status == .ok && sent.body.contains("Berkas dikembalikan ke pemeriksaan kelengkapan."), "\(sent.body.prefix(600))")
            // Without its CSRF value a public form is refused too.
            let forged = try await Browser(client).postMultipart("/lupa", Self.sekar, files: ["surat_permohonan": pdf, "sk_pengangkatan": pdf])
            #expect(forged.status == .forbidden)
        }
    }

    @Test("a refused public filing keeps what was typed and names the field; the public pages speak English too")
    func refusedKeepsInput() async throws {
        try await ConsoleFixture.with { _, client, _ in
            let visitor = Browser(client)
            _ = try await visitor.get("/lupa")
            var fields = Self.sekar
            fields["email"] = "bukan-email"
            let refused = try await visitor.postMultipart("/lupa", fields, files: ["surat_permohonan": pdf, "sk_pengangkatan": pdf])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.body.contains("value=\"Sekar Ayu Wulandari\"") && refused.body.contains("id=\"email-error\""), "\(refused.body.prefix(800))")
            _ = try await visitor.get("/lupa")
            let noDecree = try await visitor.postMultipart("/lupa", Self.sekar, files: ["surat_permohonan": pdf])
            #expect(noDecree.status == .unprocessableContent && noDecree.body.contains("id=\"sk_pengangkatan-error\""))
            let english = try await Browser(client, language: "en").get("/lupa")
            #expect(english.body.contains("Request a password reset or your User ID") && english.body.contains("lang=\"en\""))
        }
    }

    @Test("the Staf Administrasi dismisses an online filing as a duplicate with one click; the requester's tracking page says it was refused")
    func dismissOnline() async throws {
        try await ConsoleFixture.with { _, client, _ in
            let visitor = Browser(client)
            _ = try await visitor.get("/lupa")
            let receipt = try await visitor.postMultipart("/lupa", Self.sekar, files: ["surat_permohonan": pdf, "sk_pengangkatan": pdf])
            let number = String(try #require(receipt.body.firstMatch(of: /REQ-[0-9]{4}-[0-9]{6}/)).0)
            let code = String(try #require(receipt.body.firstMatch(of: /data-secret="([0-9A-Z\-]{31})"/)).1)
            let staf = Browser(client)
            _ = try await staf.signIn("staf.adm", ConsoleFixture.password)
            let page = try await staf.get("/permohonan/\(number)")
            #expect(page.body.contains("/langkah/dismiss") && page.body.contains("Tolak: duplikat"))
            let dismissed = try await staf.post("/permohonan/\(number)/langkah/dismiss", ["reason": "duplicate"])
            #expect(dismissed.status == .seeOther, "\(dismissed.body.prefix(300))")
            _ = try await visitor.get("/lacak")
            let status = try await visitor.post("/lacak", ["number": number, "code": code])
            #expect(status.body.contains("Ditolak") && status.body.contains("permohonan yang sama sudah diajukan"))
        }
    }
}
