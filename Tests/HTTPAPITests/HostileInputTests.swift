import Accounts
import Foundation
import Gate
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import Synchronization
import Testing
import TestSupport

/// An admin and a staf with their own passwords and bearer tokens, on the in-process router.
func withOperators(_ body: @escaping @Sendable (AccountsFixture, any TestClientProtocol, String, String) async throws -> Void) async throws {
    try await AccountsFixture.with { f in
        var tokens: [String] = []
        for (id, role) in [("admin.ppe", Role.adminPPE), ("staf.adm", .stafAdministrasi)] {
            let account = try await f.directory.create(
                NewAccount(userID: try UserID(id), role: role, fullName: try FullName("Pegawai \(id)"), nip: nil,
                           email: try EmailAddress("\(id)@purbalinggakab.go.id"), agency: try Agency("LPSE Kabupaten Purbalingga")),
                by: f.admin)
            _ = try await f.firstLogin(id, temporary: try await f.reset(account), password: "kopi jahe hangat sekali")
            tokens.append(try #require(try await f.credentials.login(userID: id, password: "kopi jahe hangat sekali").token))
        }
        let services = try await apiServices(f.pool, clock: f.clock)
        let (admin, staf) = (tokens[0], tokens[1])
        try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
            try await body(f, client, admin, staf)
        }
    }
}

/// Step 1 over HTTP as the staf, for a helpdesk01 reset; the new request's number.
func submitRequest(_ client: any TestClientProtocol, _ staf: String) async throws -> String {
    let number = Mutex("")
    try await client.post("/v1/requests", [
        "kinds": ["reset_password"], "subject": ["user_id": "helpdesk01"],
        "requester_name": "Sekar", "requester_contact": "sekar@purbalinggakab.go.id", "channel": "hardcopy",
    ], token: staf) { response in
        #expect(response.status == .created)
        number.withLock { $0 = response.body.json["number"] as? String ?? "" }
    }
    return number.withLock { $0 }
}

extension LoginOutcome {
    var token: String? {
        if case .ok(let token, _) = self { return token.value }
        return nil
    }
}

@Suite("HTTP: hostile and unusual input gets a precise answer")
struct HostileInputTests {
    @Test("query strings are read as forms send them: + is a space; bytes that are not UTF-8 are refused by name")
    func formQuery() async throws {
        try await withOperators { f, client, admin, _ in
            _ = try await f.helpdesk("helpdesk01", name: "Sekar Ayu Wulandari")
            try await client.get("/v1/accounts?q=Sekar+Wulandari&reason=REQ-2026-000001", token: admin) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("helpdesk01"))
            }
            try await client.get("/v1/accounts?q=%FF%FE&reason=r", token: admin) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.body.json["field"] as? String == "q")
            }
        }
    }

    @Test("a lookup reason in the parameter is checked even when the header gives one")
    func reasonTwice() async throws {
        try await withOperators { _, client, admin, _ in
            try await client.execute(uri: "/v1/accounts?q=Sekar&reason=x%01y", method: .get,
                                     headers: [.authorization: "Bearer \(admin)", .init("X-Lookup-Reason")!: "REQ-2026-000001"]) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.body.json["field"] as? String == "reason")
            }
        }
    }

    @Test("an unknown field inside a request's subject is refused like one at the top")
    func nestedUnknownField() async throws {
        try await withOperators { _, client, _, staf in
            try await client.post("/v1/requests", [
                "kinds": ["reset_password"], "subject": ["user_id": "helpdesk01", "password": "x"],
                "requester_name": "Sekar", "requester_contact": "sekar@purbalinggakab.go.id", "channel": "hardcopy",
            ], token: staf) { response in
                #expect(response.status == .badRequest)
                #expect((response.body.json["detail"] as? String)?.contains("subject.password") == true)
            }
            try await client.post("/v1/requests", [
                "kinds": ["reset_password", "everything"], "subject": ["user_id": "helpdesk01"],
                "requester_name": "Sekar", "requester_contact": "sekar@purbalinggakab.go.id", "channel": "hardcopy",
            ], token: staf) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.body.json["field"] as? String == "kinds")
            }
        }
    }

    @Test("names refuse bidi overrides and replacement characters; a file without its documents is a conflict, not bad input")
    func namesAndConflicts() async throws {
        try await withOperators { _, client, admin, staf in
            for name in ["Sekar \u{202E}ayU", "Sekar \u{FFFD}"] {
                try await client.post("/v1/accounts", ["user_id": "helpdesk02", "role": "helpdesk", "full_name": name,
                                                       "email": "hd02@purbalinggakab.go.id", "agency": "Diskominfo"], token: admin) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.body.json["field"] as? String == "full_name")
                }
            }
            let number = try await submitRequest(client, staf)
            try await client.post("/v1/requests/\(number)/completeness", ["complete": true], token: staf) { response in
                #expect(response.status == .conflict)
                #expect(response.body.json["code"] as? String == "missing_documents")
            }
        }
    }

    @Test("a stored file name cannot add a parameter to Content-Disposition (RFC 6266, filename*)")
    func contentDisposition() async throws {
        try await withOperators { _, client, _, staf in
            let number = try await submitRequest(client, staf)
            var documentID = 0
            try await client.execute(uri: "/v1/requests/\(number)/documents?type=other", method: .post,
                                     headers: [.authorization: "Bearer \(staf)", .contentType: "application/pdf",
                                               .init("X-File-Name")!: #"a"; filename="evil.html"#],
                                     body: ByteBuffer(bytes: pdfBytes)) { response in
                #expect(response.status == .created)
                documentID = response.body.json["id"] as? Int ?? 0
            }
            try await client.get("/v1/requests/\(number)/documents/\(documentID)", token: staf) { response in
                let header = response.headers[.contentDisposition] ?? ""
                #expect(header == #"attachment; filename="a__ filename__evil.html"; filename*=UTF-8''a%22%3B%20filename%3D%22evil.html"#)
                #expect(header.components(separatedBy: "filename=").count == 2, "one filename parameter: \(header)")
            }
        }
    }

    @Test("a multipart/form-data upload (a browser's or a generated client's) is accepted for documents and batches")
    func multipart() async throws {
        try await withOperators { _, client, admin, staf in
            let number = try await submitRequest(client, staf)
            let boundary = "spse-boundary-7MA4YWxk"
            var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nsurat_permohonan\r\n"
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"surat.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            var bytes = Array(body.utf8) + pdfBytes + Array("\r\n--\(boundary)--\r\n".utf8)
            try await client.execute(uri: "/v1/requests/\(number)/documents", method: .post,
                                     headers: [.authorization: "Bearer \(staf)", .contentType: "multipart/form-data; boundary=\(boundary)"],
                                     body: ByteBuffer(bytes: bytes)) { response in
                #expect(response.status == .created)
                #expect(response.body.json["file_name"] as? String == "surat.pdf")
                #expect(response.body.json["type"] as? String == "surat_permohonan")
            }
            let csv = "user_id,role,full_name,nip,email,agency\nverif01,verifikator,Pegawai Satu,,verif01@purbalinggakab.go.id,Diskominfo\n"
            body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\ntrue\r\n"
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"akun.csv\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
            bytes = Array(body.utf8)
            try await client.execute(uri: "/v1/provisioning/batches", method: .post,
                                     headers: [.authorization: "Bearer \(admin)", .contentType: "multipart/form-data; boundary=\(boundary)"],
                                     body: ByteBuffer(bytes: bytes)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
                #expect(response.body.json["dry_run"] as? Bool == true)
            }
            try await client.execute(uri: "/v1/provisioning/batches", method: .post,
                                     headers: [.authorization: "Bearer \(admin)", .contentType: "multipart/form-data; boundary="],
                                     body: ByteBuffer(bytes: bytes)) { #expect($0.status == .badRequest) }
        }
    }
}
