import Accounts
import Console
import Foundation
import Gate
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import OpenIDDoor
import Operations
import Testing
import TestSupport

let pdf = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".utf8)

/// A browser in miniature: keeps cookies, follows nothing, reads the CSRF token of the last page.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var language: String?
    private(set) var lastBody = ""

    init(_ client: any TestClientProtocol, language: String? = nil) {
        self.client = client
        self.language = language
    }

    struct Page {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: String
        var location: String? { headers[.location] }
        /// Where a hop page (a meta refresh: how the console leaves a form for an application) goes.
        var hop: String? {
            guard status == .ok, let range = body.range(of: #"http-equiv="refresh" content="0;url="#) else { return nil }
            return String(body[range.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
                .replacingOccurrences(of: "&#x3D;", with: "=").replacingOccurrences(of: "&#x2F;", with: "/")
        }
        /// Where the browser goes next: a redirect's Location or a hop page's target.
        var next: String? { location ?? hop }
        var csrf: String? {
            guard let range = body.range(of: #"name="csrf" value=""#) else { return nil }
            return String(body[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func get(_ path: String) async throws -> Page { try await send(path, method: .get, body: nil, contentType: nil) }

    /// Posts `fields` as a form; `csrf: true` adds the token of the last page read.
    func post(_ path: String, _ fields: [String: String], csrf: Bool = true) async throws -> Page {
        var fields = fields
        if csrf, let token = Page(status: .ok, headers: [:], body: lastBody).csrf { fields["csrf"] = token }
        let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try await send(path, method: .post, body: ByteBuffer(string: body), contentType: "application/x-www-form-urlencoded")
    }

    /// Posts `fields` and `files` (name → PDF bytes) as multipart/form-data, with the last page's CSRF token.
    func postMultipart(_ path: String, _ fields: [String: String], files: [String: [UInt8]]) async throws -> Page {
        var fields = fields
        if let token = Page(status: .ok, headers: [:], body: lastBody).csrf { fields["csrf"] = token }
        let boundary = "console-test-boundary"
        var bytes: [UInt8] = []
        for (name, value) in fields { bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8) }
        for (name, content) in files {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(name).pdf\"\r\nContent-Type: application/pdf\r\n\r\n".utf8)
            bytes += content + Array("\r\n".utf8)
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        return try await send(path, method: .post, body: ByteBuffer(bytes: bytes), contentType: "multipart/form-data; boundary=\(boundary)")
    }

    private func send(_ path: String, method: HTTPRequest.Method, body: ByteBuffer?, contentType: String?) async throws -> Page {
        var headers: HTTPFields = [:]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if let contentType { headers[.contentType] = contentType }
        if let language { headers[.acceptLanguage] = language }
        let page = try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            Page(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
        for header in page.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[1].isEmpty || header.contains("Max-Age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        if method == .get { lastBody = page.body }
        return page
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Signs in through the console; returns where it was sent.
    @discardableResult
    func signIn(_ userID: String, _ password: String) async throws -> Page {
        _ = try await get("/masuk")
        return try await post("/masuk", ["user_id": userID, "password": password])
    }
}

struct ConsoleFixture: Sendable {
    let accounts: AccountsFixture
    let graph: ServiceGraph
    static let password = "kopi jahe hangat sekali"

    /// `body` gets the fixture, a client of the whole router, and the console's POST routes.
    static func with(secureCookies: Bool = false, _ body: @escaping @Sendable (ConsoleFixture, any TestClientProtocol, [String]) async throws -> Void) async throws {
        try await AccountsFixture.with { accounts in
            let graph = try await ServiceGraph.make(testSettings(), pool: accounts.pool, clock: accounts.clock.serviceClock, hashingPool: sharedPool)
            let console = try Console(operations: graph.operations, secureCookies: secureCookies)
            let openID = OpenIDDoor(operations: graph.operations)
            let router = Server.router(APIServices(graph: graph, migrator: projectMigrations),
                                       doors: [{ openID.addRoutes(to: $0) }, { console.addRoutes(to: $0) }])
            let fixture = ConsoleFixture(accounts: accounts, graph: graph)
            for (userID, role) in [("admin.ppe", Role.adminPPE), ("staf.adm", .stafAdministrasi), ("auditor01", .auditor)] {
                try await fixture.account(userID, role)
            }
            try await fixture.account("helpdesk01", .helpdesk, name: "Sekar Ayu Wulandari", nip: "196102251986031010")
            try await fixture.account("helpdesk02", .helpdesk)
            // The console's forms: not the API's routes, nor the OpenID door's (a relying party's, without CSRF by design).
            let posts = router.routes.filter { route in
                let path = route.path.description
                return route.method == .post && !path.hasPrefix("/v1") && !(path.hasPrefix("/oauth/") && path != "/oauth/authorize")  // the OpenID door: client-authenticated, no cookie
            }.map(\.path.description)
            try await Application(router: router).test(.router) { client in try await body(fixture, client, posts) }
        }
    }

    /// An account whose own password is `ConsoleFixture.password`.
    @discardableResult
    func account(_ userID: String, _ role: Role, name: String? = nil, nip: String? = nil) async throws -> Account {
        let account = try await accounts.directory.create(
            NewAccount(userID: try UserID(userID), role: role, fullName: try FullName(name ?? "Pegawai \(userID)"), nip: try nip.map { try NIP($0) },
                       email: try EmailAddress("\(userID)@purbalinggakab.go.id"), agency: try Agency("Dinas Kominfo")),
            by: accounts.admin)
        _ = try await accounts.firstLogin(userID, temporary: try await accounts.reset(account), password: Self.password)
        return account
    }

    func caller(_ userID: String) async throws -> Caller {
        guard case .ok(_, let session) = try await graph.operations.login(userID: userID, password: Self.password) else {
            throw TestSetupError("\(userID) could not log in")
        }
        return try Caller(session: session)
    }

    /// A request filed by Staf Administrasi with both documents, optionally through steps 2 and 5.
    func request(approved: Bool = false, kinds: [String] = ["reset_password"],
                 documents: [String] = ["surat_permohonan", "sk_pengangkatan"]) async throws -> Gate.Request {
        let staf = try await caller("staf.adm")
        let request = try await graph.operations.submitRequest(
            SubmitForm(kinds: kinds, subject: SubjectHint(fullName: "Sekar Ayu Wulandari", nip: "196102251986031010"), subjectRole: nil,
                       requesterName: "Sekar Ayu Wulandari", requesterContact: "sekar@purbalinggakab.go.id", channel: "hardcopy", priority: nil),
            by: staf)
        for type in documents {
            _ = try await graph.operations.addDocument(
                DocumentForm(type: type, fileName: "\(type).pdf", mediaType: "application/pdf", content: pdf), to: request.number, by: staf)
        }
        if approved {
            _ = try await graph.operations.act(.completeness(complete: true, note: nil), on: request.number, by: staf)
            _ = try await graph.operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number,
                                               by: try await caller("admin.ppe"))
        }
        return request
    }
}

@Suite("Web console")
struct ConsoleTests {
    @Test("every form the console accepts is refused without its CSRF token, and nothing changes")
    func csrfOnEveryForm() async throws {
        try await ConsoleFixture.with { f, client, posts in
            let request = try await f.request(approved: true)
            let admin = Browser(client)
            #expect(try await admin.signIn("admin.ppe", ConsoleFixture.password).location == "/beranda")
            #expect(posts.count >= 10)
            for path in posts {
                let concrete = "/" + path.split(separator: "/").map { part -> String in
                    switch part.trimmingCharacters(in: CharacterSet(charactersIn: ":{}")) == String(part) ? String(part) : ":" + part.trimmingCharacters(in: CharacterSet(charactersIn: ":{}")) {
                    case ":id": return path.contains("penyimpangan") ? "1" : request.number
                    case ":action": return path.contains("akun") ? "disable" : "execute"
                    case ":userId": return "helpdesk02"
                    default: return String(part)
                    }
                }.joined(separator: "/")
                let refused = try await admin.post(concrete, ["complete": "true"], csrf: false)
                #expect(refused.status == .forbidden, "\(concrete) without a token")
                // Refused for the token, or earlier for the role (an admin_ppe files no request): never done.
                #expect(refused.body.contains("Formulir kedaluwarsa") || refused.body.contains("Peran Anda tidak berwenang"), "\(concrete) says why")
            }
            // Nothing happened: no reset, the account is still active, the admin is still signed in.
            #expect(try await f.graph.operations.request(request.number, by: try await f.caller("admin.ppe")).request.state == .approved)
            #expect(try await f.accounts.count("SELECT count(*) FROM accounts WHERE user_id = 'helpdesk02' AND status = 'active'") == 1)
            #expect(try await admin.get("/beranda").status == .ok)
            // A token from another session is refused too.
            let other = Browser(client)
            try await other.signIn("staf.adm", ConsoleFixture.password)
            _ = try await other.get("/beranda")
            _ = try await admin.get("/beranda")
            let stolen = try #require(Browser.Page(status: .ok, headers: [:], body: try await other.get("/beranda").body).csrf)
            let mismatched = try await admin.post("/akun/helpdesk02/disable", ["csrf": stolen], csrf: false)
            #expect(mismatched.status == .forbidden)
        }
    }

    @Test("pages are no-store, unframeable and same-origin only; cookies are HttpOnly and SameSite=Strict, Secure when told")
    func headersAndCookies() async throws {
        for secure in [false, true] {
            try await ConsoleFixture.with(secureCookies: secure) { _, client, _ in
                let browser = Browser(client)
                let page = try await browser.get("/masuk")
                #expect(page.status == .ok)
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(page.headers[.init("X-Frame-Options")!] == "DENY")
                let cookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("spse_csrf=") })
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
                #expect(cookie.contains("Secure") == secure)
                let signedIn = try await browser.post("/masuk", ["user_id": "staf.adm", "password": ConsoleFixture.password])
                let session = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("spse_session=") })
                #expect(session.contains("HttpOnly") && session.contains("SameSite=Strict") && session.contains("Secure") == secure)
            }
        }
    }

    @Test("sign-in: a wrong password keeps the User ID and says so; the API's throttle holds, in the reader's language")
    func signInAndThrottle() async throws {
        try await ConsoleFixture.with { _, client, _ in
            let browser = Browser(client)
            for _ in 0..<5 {
                let refused = try await browser.signIn("staf.adm", "bukan password saya")
                #expect(refused.status == .unauthorized)
                #expect(refused.body.contains("User ID atau password salah.") && refused.body.contains(#"value="staf.adm""#))
                #expect(!refused.body.contains("bukan password saya"), "a password is never echoed")
            }
            let locked = try await browser.signIn("staf.adm", ConsoleFixture.password)
            #expect(locked.body.contains("Terlalu banyak percobaan; coba lagi dalam"))
            // An unknown user gets the same answer as a known one.
            let unknown = try await Browser(client).signIn("tidak.ada", "bukan password saya")
            #expect(unknown.status == .unauthorized && unknown.body.contains("User ID atau password salah."))
            let english = Browser(client, language: "en")
            #expect(try await english.signIn("staf.adm", ConsoleFixture.password).body.contains("Too many attempts; try again in"))
        }
    }

    @Test("a temporary password reaches only the change page; the policy's refusal is shown at the field; the change signs out")
    func forcedChange() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let account = try await f.accounts.directory.create(
                NewAccount(userID: try UserID("verif01"), role: .verifikator, fullName: try FullName("Rina Marlina"), nip: nil,
                           email: try EmailAddress("rina@purbalinggakab.go.id"), agency: try Agency("Bagian Pengadaan")),
                by: f.accounts.admin)
            let temporary = try await f.accounts.reset(account).reveal
            let browser = Browser(client)
            #expect(try await browser.signIn("verif01", temporary).location == "/ganti-password")
            for path in ["/beranda", "/permohonan/baru", "/laporan"] {
                #expect(try await browser.get(path).location == "/ganti-password", "\(path) waits for the change")
            }
            let page = try await browser.get("/ganti-password")
            #expect(page.body.contains("Anda wajib mengganti password sementara sebelum melanjutkan."))
            let short = try await browser.post("/ganti-password", ["current_password": temporary, "new_password": "pendek", "repeat_password": "pendek"])
            #expect(short.status == .unprocessableContent)
            #expect(short.body.contains(#"<p class="field-error" id="new_password-error">Minimal 12 karakter.</p>"#))
            _ = try await browser.get("/ganti-password")
            let differ = try await browser.post("/ganti-password", ["current_password": temporary, "new_password": "soto sokaraja pedas",
                                                                    "repeat_password": "soto sokaraja"])
            #expect(differ.body.contains("Ulangan password baru tidak sama."))
            _ = try await browser.get("/ganti-password")
            let changed = try await browser.post("/ganti-password", ["current_password": temporary, "new_password": "soto sokaraja pedas",
                                                                     "repeat_password": "soto sokaraja pedas"])
            #expect(changed.location == "/masuk?ok=password")
            #expect(try await browser.get("/beranda").location == "/masuk", "signed out after the change")
            #expect(try await browser.signIn("verif01", "soto sokaraja pedas").location == "/beranda")
        }
    }

    @Test("step 6 in the console: the temporary password is shown once, never cached, and the request page never shows it again")
    func executeShowsOnce() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request(approved: true)
            let admin = Browser(client)
            try await admin.signIn("admin.ppe", ConsoleFixture.password)
            let before = try await admin.get("/permohonan/\(request.number)")
            #expect(before.body.contains(#"id="execute""#))
            let shown = try await admin.post("/permohonan/\(request.number)/langkah/execute", [:])
            #expect(shown.status == .ok && shown.headers[.cacheControl] == "no-store")
            let marker = try #require(shown.body.range(of: #"data-secret=""#))
            let password = String(shown.body[marker.upperBound...].prefix { $0 != "\"" })
            #expect(password.count == 24)
            #expect(shown.body.contains(#"id="handover-form""#))
            #expect(try await f.graph.credentials.login(userID: "helpdesk01", password: password).code == "password_change_required")
            let after = try await admin.get("/permohonan/\(request.number)")
            #expect(after.body.contains(#"data-state="executed""#) && !after.body.contains(password))
            // The hand-over through the console ends step 8.
            let handed = try await admin.post("/permohonan/\(request.number)/langkah/handover", ["recipient": "Sekar Ayu Wulandari", "channel": "phone"])
            #expect(handed.location == "/permohonan/\(request.number)?ok=handover")
            #expect(try await admin.get("/permohonan/\(request.number)").body.contains(#"data-state="notified""#))
        }
    }

    @Test("each role sees its own door: a helpdesk finds no one else's request and no account pages; refusals are pages, not JSON")
    func rolesAndRefusals() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let request = try await f.request()
            let helpdesk = Browser(client)
            try await helpdesk.signIn("helpdesk02", ConsoleFixture.password)
            let hidden = try await helpdesk.get("/permohonan/\(request.number)")
            #expect(hidden.status == .notFound && hidden.body.contains("Halaman atau data tidak ditemukan."))
            #expect(hidden.headers[.contentType]?.hasPrefix("text/html") == true)
            let accounts = try await helpdesk.get("/akun")
            #expect(accounts.status == .forbidden && accounts.body.contains("Peran Anda tidak berwenang"))
            #expect(try await helpdesk.get("/akun/massal").status == .forbidden)
            let home = try await helpdesk.get("/beranda")
            #expect(home.body.contains("Permohonan saya") && !home.body.contains(request.number))
            // The staf who filed it sees it, with the completeness check to take.
            let staf = Browser(client)
            try await staf.signIn("staf.adm", ConsoleFixture.password)
            let own = try await staf.get("/permohonan/\(request.number)")
            #expect(own.status == .ok && own.body.contains(#"id="completeness-form""#))
            #expect(try await staf.get("/beranda").body.contains(#"data-request="\#(request.number)""#))
            #expect(try await Browser(client).get("/beranda").location == "/masuk", "no session: the sign-in page")
        }
    }

    @Test("the language switch stays on this site, and English is a whole catalogue")
    func language() async throws {
        try await ConsoleFixture.with { _, client, _ in
            let browser = Browser(client)
            for (back, expected) in [("//evil.example/x", "/"), ("https://evil.example", "/"), ("/masuk", "/masuk"), ("/\\evil.example", "/"),
                                     ("/\t/evil.example", "/"), ("/\n/evil.example", "/")] {
                let switched = try await browser.get("/bahasa?l=en&kembali=\(Browser.encode(back))")
                #expect(switched.location == expected, "kembali=\(back)")
            }
            let english = try await browser.get("/masuk")
            #expect(english.body.contains(#"<html lang="en">"#) && english.body.contains("Sign in"))
            _ = try await browser.get("/bahasa?l=id&kembali=/masuk")
            #expect(try await browser.get("/masuk").body.contains("Masuk"))
        }
    }

    @Test("every catalogue key a template uses exists in both languages")
    func catalogueCoversTemplates() throws {
        let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Console/Resources")
        let templates = resources.appendingPathComponent("Templates")
        var used: Set<String> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            let pattern = try NSRegularExpression(pattern: #"\{\{[#^/]?t\.([a-z0-9_]+)\}\}"#)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                used.insert(String(text[Range(match.range(at: 1), in: text)!]))
            }
        }
        #expect(used.count > 100)
        for language in ["id", "en"] {
            let data = try Data(contentsOf: resources.appendingPathComponent("Catalog/\(language).json"))
            let keys = Set(try JSONDecoder().decode([String: String].self, from: data).keys)
            #expect(used.subtracting(keys).isEmpty, "\(language) lacks \(used.subtracting(keys).sorted())")
        }
    }
}
