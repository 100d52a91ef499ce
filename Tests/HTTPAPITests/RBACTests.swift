import Accounts
import Foundation
import Gate
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

@Suite("HTTP: RBAC route by route")
struct RBACTests {
    static let public_: Set<String> = ["GET /healthz", "GET /readyz", "GET /metrics", "POST /v1/auth/login", "POST /v1/auth/login/totp",
                                         // The public door: the tracking code, not a session.
                                         "POST /v1/public/requests", "GET /v1/public/requests/{number}", "POST /v1/public/requests/{number}/supplement"]
    /// What an auditor may do: read audit and reports, and manage their own session.
    /// The auditor reads audit and reports and, like every managed role, files their own requests.
    static let auditorMay: Set<String> = [
        "GET /v1/reports/sla", "GET /v1/audit", "GET /v1/audit/verify", "POST /v1/auth/password", "POST /v1/auth/logout", "POST /v1/requests",
        // The standards and the deviations, as readers of the SLA report; they explain their own.
        "GET /v1/standards/priorities", "GET /v1/deviations", "POST /v1/deviations/{id}/explanation",
        // Any role may enrol an authenticator and step up with it.
        "POST /v1/auth/totp/enrol", "POST /v1/auth/totp/confirm", "POST /v1/auth/step-up",
        // Every role reads its own account and ends its own other sessions.
        "GET /v1/me", "DELETE /v1/me/sessions", "DELETE /v1/me/sessions/{handle}",
    ]

    @Test("every route of the spec: no session is 401; an auditor is 403 outside audit and reports, and finds no request that is not theirs")
    func everyRoute() async throws {
        let operations = try OpenAPISpecTests.specOperations()
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock)
            // One request (id 1) with a document (id 1), so that refusals are about roles, not missing rows.
            let request = try await services.graph.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy),
                by: Actor(userID: "staf.adm", role: .stafAdministrasi))
            _ = try await services.graph.gate.addDocument(
                try DocumentUpload(type: .suratPermohonan, fileName: "s.pdf", mediaType: "application/pdf", content: pdfBytes, limit: 4096),
                to: request.id, by: Actor(userID: "staf.adm", role: .stafAdministrasi))
            let auditorAccount = try await f.directory.create(
                NewAccount(userID: try UserID("auditor01"), role: .auditor, fullName: try FullName("Rina Auditor"), nip: nil,
                           email: try EmailAddress("rina@purbalinggakab.go.id"), agency: try Agency("Inspektorat")), by: f.admin)
            let auditor = try await f.firstLogin("auditor01", temporary: try await f.reset(auditorAccount), password: "laporan tahunan rapi sekali").value

            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
                for operation in operations.sorted() where !Self.public_.contains(operation) {
                    let parts = operation.split(separator: " ", maxSplits: 1)
                    let method: HTTPRequest.Method = parts[0] == "GET" ? .get : parts[0] == "PUT" ? .put : parts[0] == "DELETE" ? .delete : .post
                    let uri = parts[1].replacingOccurrences(of: "{userId}", with: "admin.ppe").replacingOccurrences(of: "{priority}", with: "normal")
                        .replacingOccurrences(of: "{id}", with: String(request.id)).replacingOccurrences(of: "{docId}", with: "1")
                        .replacingOccurrences(of: "{handle}", with: "0123456789abcdef")
                    let query = uri.contains("/documents") && method == .post ? "?type=other&file_name=x.pdf" : (uri == "/v1/accounts" ? "?q=x&reason=r" : "")
                    try await client.execute(uri: uri + query, method: method) { response in
                        #expect(response.status == .unauthorized, "\(operation) without a session")
                    }
                    if Self.auditorMay.contains(operation) { continue }
                    try await client.execute(uri: uri + query, method: method, headers: [.authorization: "Bearer \(auditor)", .contentType: "application/json"],
                                             body: ByteBuffer(string: "{}")) { response in
                        // Someone else's request does not exist for the auditor: no state, no role, no existence revealed.
                        let expected: HTTPResponse.Status = operation.contains("{id}") && !operation.hasSuffix("/export") ? .notFound : .forbidden
                        #expect(response.status == expected, "\(operation) as auditor: \(response.status) \(String(buffer: response.body))")
                    }
                }
                try await client.execute(uri: "/v1/audit/verify", method: .get, headers: [.authorization: "Bearer \(auditor)"]) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    @Test("a request's your_actions is the gate's own answer for the caller: the Staf's completeness, then the Admin PPE's validity, never the requester's own")
    func yourActions() async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock)
            func session(_ userID: String, _ role: Role) async throws -> String {
                let account = try await f.directory.create(
                    NewAccount(userID: try UserID(userID), role: role, fullName: try FullName("Pegawai \(userID)"), nip: nil,
                               email: try EmailAddress("\(userID)@purbalinggakab.go.id"), agency: try Agency("LPSE")), by: f.admin)
                return try await f.firstLogin(userID, temporary: try await f.reset(account), password: "laporan tahunan rapi sekali").value
            }
            let (staf, admin, helpdesk) = (try await session("staf.adm", .stafAdministrasi), try await session("admin.ppe", .adminPPE),
                                           try await session("helpdesk01", .helpdesk))
            let request = try await services.graph.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy),
                by: Actor(userID: "helpdesk01", role: .helpdesk))
            for type in [DocumentType.suratPermohonan, .skPengangkatan] {
                _ = try await services.graph.gate.addDocument(
                    try DocumentUpload(type: type, fileName: "d.pdf", mediaType: "application/pdf", content: pdfBytes, limit: 4096),
                    to: request.id, by: Actor(userID: "helpdesk01", role: .helpdesk))
            }
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
                func yours(_ token: String) async throws -> [String]? {
                    try await client.execute(uri: "/v1/requests/\(request.id)", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                        let body = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
                        return body?["your_actions"] as? [String]
                    }
                }
                #expect(try await yours(staf) == ["completeness"])
                #expect(try await yours(admin) == [])
                #expect(try await yours(helpdesk) == [], "the requester never processes their own request")
                _ = try await services.graph.gate.act(.completeness(complete: true), on: request.id, by: Actor(userID: "staf.adm", role: .stafAdministrasi))
                #expect(try await yours(staf) == [])
                #expect(try await yours(admin) == ["validity"])
            }
        }
    }
}
