import Accounts
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

@Suite("HTTP: auth and accounts")
struct AuthAndAccountsAPITests {
    /// Runs `body` against the router with a bootstrapped admin who has changed their password.
    func withAPI(_ body: @escaping @Sendable (any TestClientProtocol, AccountsFixture, String) async throws -> Void) async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock)
            let (_, temporary, _) = try await Bootstrap(pool: f.pool, directory: f.directory, credentials: services.graph.credentials).createFirstAdmin(
                userID: try UserID("admin.ppe"), fullName: try FullName("Budi Santoso"), email: try EmailAddress("budi@purbalinggakab.go.id"),
                agency: try Agency("LPSE Kabupaten Purbalingga"), nip: nil)
            let app = Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                var token = ""
                try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": temporary.reveal]) { response in
                    #expect(response.status == .ok)
                    #expect(response.body.json["outcome"] as? String == "password_change_required")
                    token = response.body.json["token"] as? String ?? ""
                }
                try await client.get("/v1/accounts?q=budi&reason=test", token: token) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.body.json["code"] as? String == "password_change_required")
                }
                try await client.post("/v1/auth/password", ["current_password": temporary.reveal, "new_password": "kopi jahe hangat sekali"], token: token) { response in
                    #expect(response.status == .noContent)
                }
                try await body(client, f, token)
            }
        }
    }

    @Test("first login of the bootstrap admin is forced through a password change, then the session is full")
    func firstLogin() async throws {
        try await withAPI { client, _, token in
            try await client.get("/v1/accounts/admin.ppe?reason=self", token: token) { response in
                #expect(response.status == .ok)
                #expect(response.body.json["must_change_password"] as? Bool == false)
            }
        }
    }

    @Test("POST /v1/applications registers an OpenID client: a confidential one's secret once, a JWKS one by private_key_jwt with no secret; a bad URI named at its field, a taken id 409, a helpdesk 403 before its body is read")
    func registerApplications() async throws {
        try await withAPI { client, f, token in
            let body: [String: Any] = ["client_id": "tiket-helpdesk", "name": "Tiket Helpdesk LPSE", "confidential": true,
                                       "redirect_uris": ["https://tiket.example.go.id/oidc/callback"],
                                       "post_logout_redirect_uris": ["https://tiket.example.go.id/"]]
            var secret = ""
            try await client.post("/v1/applications", body, token: token) { response in
                #expect(response.status == .created && response.headers[.cacheControl] == "no-store")
                #expect(response.body.json["token_endpoint_auth_method"] as? String == "client_secret_basic")
                secret = response.body.json["client_secret"] as? String ?? ""
            }
            #expect(secret.count >= 40)
            try await client.get("/v1/applications", token: token) { response in
                let listed = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [[String: Any]] ?? []
                #expect(response.status == .ok && listed.map { $0["client_id"] as? String } == ["tiket-helpdesk"])
                #expect(listed.first?["client_secret"] == nil, "a secret is shown once")
            }
            try await client.post("/v1/applications", body, token: token) { response in
                #expect(response.status == .conflict && response.body.json["code"] as? String == "client_exists")
            }
            try await client.post("/v1/applications", ["client_id": "lain", "name": "Lain", "redirect_uris": ["http://lain.example/cb"]], token: token) { response in
                #expect(response.status == .unprocessableContent && response.body.json["field"] as? String == "redirect_uris")
            }
            let jwks: [String: Any] = ["keys": [["kty": "EC", "crv": "P-256", "kid": "k1",
                                                 "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"]]]
            try await client.post("/v1/applications", ["client_id": "portal", "name": "Portal LPSE", "redirect_uris": ["https://portal.example.go.id/cb"],
                                                       "jwks": jwks], token: token) { response in
                #expect(response.status == .created && response.body.json["token_endpoint_auth_method"] as? String == "private_key_jwt")
                #expect(response.body.json["client_secret"] == nil)
            }
            var temporary = ""
            try await client.post("/v1/accounts", ["user_id": "helpdesk01", "role": "helpdesk", "full_name": "YONATHAN EKO NUGROHO",
                                                   "email": "yonathan@purbalinggakab.go.id", "agency": "Diskominfo"], token: token) { response in
                temporary = response.body.json["temporary_password"] as? String ?? ""
            }
            var helpdesk = ""
            try await client.post("/v1/auth/login", ["user_id": "helpdesk01", "password": temporary]) { helpdesk = $0.body.json["token"] as? String ?? "" }
            try await client.post("/v1/auth/password", ["current_password": temporary, "new_password": "nasi goreng kambing enak"], token: helpdesk) {
                #expect($0.status == .noContent)
            }
            try await client.post("/v1/applications", ["not": "even a registration"], token: helpdesk) { response in
                #expect(response.status == .forbidden && response.body.json["code"] as? String == "not_permitted")
            }
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'oidc.client_register'") == 2)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'", [secret]) == 0)
        }
    }

    @Test("GET /v1/me lists my sessions, this one first; DELETE ends another by handle or all others, and a handle not mine is 404")
    func mySessions() async throws {
        try await withAPI { client, _, token in
            var second = ""
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "kopi jahe hangat sekali"]) { response in
                second = response.body.json["token"] as? String ?? ""
            }
            var secondHandle = ""
            try await client.get("/v1/me", token: second) { response in
                #expect(response.status == .ok)
                let sessions = response.body.json["sessions"] as? [[String: Any]] ?? []
                #expect(sessions.count >= 2 && sessions.first?["current"] as? Bool == true)
                #expect((response.body.json["account"] as? [String: Any])?["user_id"] as? String == "admin.ppe")
                secondHandle = sessions.first?["handle"] as? String ?? ""
            }
            try await client.execute(uri: "/v1/me/sessions/\(secondHandle)", method: .delete, headers: [.authorization: "Bearer \(second)"]) {
                #expect($0.status == .notFound)  // the asking session is not "another"
            }
            try await client.execute(uri: "/v1/me/sessions/\(secondHandle)", method: .delete, headers: [.authorization: "Bearer \(token)"]) {
                #expect($0.status == .ok)
                #expect($0.body.json["ended"] as? Int == 1)
            }
            try await client.get("/v1/me", token: second) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/me/sessions/zz%00", method: .delete, headers: [.authorization: "Bearer \(token)"]) {
                #expect($0.status == .notFound)
                #expect($0.body.json["code"] as? String == "session_not_found")
            }
            try await client.execute(uri: "/v1/me/sessions", method: .delete, headers: [.authorization: "Bearer \(token)"]) {
                #expect($0.status == .ok)
            }
            try await client.get("/v1/me", token: token) { response in
                #expect((response.body.json["sessions"] as? [[String: Any]])?.count == 1)
            }
            try await client.get("/v1/me") { #expect($0.status == .unauthorized) }
        }
    }

    @Test("create a helpdesk account, look it up, disable and enable it")
    func accounts() async throws {
        try await withAPI { client, _, token in
            let helpdesk: [String: Any] = ["user_id": "helpdesk01", "role": "helpdesk", "full_name": "YONATHAN EKO NUGROHO",
                                           "nip": "198507172010011003", "email": "yonathan@purbalinggakab.go.id", "agency": "Diskominfo"]
            try await client.post("/v1/accounts", helpdesk, token: token) { response in
                #expect(response.status == .created)
                #expect(response.headers[.cacheControl] == "no-store")
                #expect((response.body.json["account"] as? [String: Any])?["user_id"] as? String == "helpdesk01")
                #expect((response.body.json["temporary_password"] as? String)?.count == 24)
            }
            try await client.post("/v1/accounts", helpdesk, token: token) { response in
                #expect(response.status == .conflict)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.body.json["code"] as? String == "conflict")
            }
            try await client.get("/v1/accounts?q=Yonatan%20Eko&reason=REQ-2026-000001", token: token) { response in
                #expect(response.status == .ok)
                let accounts = response.body.json["accounts"] as? [[String: Any]]
                #expect(accounts?.first?["user_id"] as? String == "helpdesk01")
            }
            try await client.post("/v1/accounts/helpdesk01/disable", nil, token: token) { #expect($0.status == .noContent) }
            try await client.get("/v1/accounts/helpdesk01?reason=check", token: token) { response in
                #expect(response.body.json["status"] as? String == "disabled")
            }
            try await client.post("/v1/accounts/helpdesk01/enable", nil, token: token) { #expect($0.status == .noContent) }
            try await client.post("/v1/accounts/nobody/unlock", nil, token: token) { #expect($0.status == .notFound) }
        }
    }

    @Test("no session is 401; the wrong role is 403; a bad token is 401")
    func rbac() async throws {
        try await withAPI { client, f, token in
            try await client.get("/v1/accounts?q=x&reason=r") { #expect($0.status == .unauthorized) }
            try await client.get("/v1/accounts?q=x&reason=r", token: "not-a-real-token") { #expect($0.status == .unauthorized) }
            try await client.post("/v1/accounts", ["user_id": "staf.adm", "role": "staf_administrasi", "full_name": "Dewi", "email": "dewi@purbalinggakab.go.id", "agency": "LPSE"], token: token) {
                #expect($0.status == .created)
            }
            // Give the staf a password through a reset and log in as them.
            let staf = try await f.directory.show(try UserID("staf.adm"), by: f.admin, reason: "test")
            let temporary = try await f.reset(staf)
            let stafToken = try await f.firstLogin("staf.adm", temporary: temporary, password: "nasi goreng kambing enak")
            try await client.post("/v1/accounts", ["user_id": "x.y", "role": "helpdesk", "full_name": "X", "email": "x@purbalinggakab.go.id", "agency": "A"], token: stafToken.value) { response in
                #expect(response.status == .forbidden)
                #expect(response.body.json["code"] as? String == "not_permitted")
            }
            try await client.get("/v1/accounts?q=Dewi&reason=r", token: stafToken.value) { #expect($0.status == .ok) }
        }
    }

    @Test("malformed bodies are precise 400s, never 500s; problems speak Indonesian or English")
    func badInput() async throws {
        try await withAPI { client, _, token in
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe"]) { response in
                #expect(response.status == .badRequest)
                #expect(response.body.json["detail"] as? String == "missing field: password")
            }
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": 5]) { response in
                #expect(response.body.json["detail"] as? String == "field password must be a string")
            }
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "x", "admin": true]) { response in
                #expect(response.body.json["detail"] as? String == "unknown field(s): admin")
            }
            try await client.execute(uri: "/v1/auth/login", method: .post, body: ByteBuffer(bytes: [0x7B, 0xFF, 0x7D])) { response in
                #expect(response.status == .badRequest)
                #expect(response.body.json["detail"] as? String == "the body is not valid UTF-8")
            }
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "wrong password"]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.body.json["code"] as? String == "invalid_credentials")
                #expect(response.body.json["detail"] as? String == "User ID atau password salah.")
                #expect(response.body.json["request_id"] as? String != nil)
            }
            try await client.post("/v1/auth/login", ["user_id": "nobody.at.all", "password": "wrong password"], language: "en-US,en;q=0.9,id;q=0.5") { response in
                #expect(response.status == .unauthorized)
                #expect(response.body.json["detail"] as? String == "Invalid user ID or password.")
            }
            try await client.post("/v1/accounts", ["user_id": "helpdesk02", "role": "helpdesk", "full_name": "A", "nip": "196102311986031010", "email": "a@purbalinggakab.go.id", "agency": "A"], token: token) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.body.json["field"] as? String == "nip")
            }
            try await client.get("/v1/accounts/Not%20An%20ID?reason=r", token: token) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.body.json["field"] as? String == "user_id")
            }
            try await client.get("/v1/nowhere", token: token) { #expect($0.status == .notFound) }
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": String(repeating: "x", count: 5000)]) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.body.json["code"] as? String == "body_too_large")
            }
        }
    }

    @Test("GET /metrics counts requests by route and status and login outcomes")
    func metrics() async throws {
        try await withAPI { client, _, _ in
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "kopi jahe hangat sekali"]) { #expect($0.status == .ok) }
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "not it"]) { #expect($0.status == .unauthorized) }
            try await client.get("/metrics") { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"spse_login_outcomes_total{outcome="ok"} 1"#))
                #expect(text.contains(#"spse_login_outcomes_total{outcome="invalid_credentials"} 1"#))
                #expect(text.contains(#"spse_http_requests_total{method="POST",route="/v1/auth/login",status="401"} 1"#))
                // Other suites share the hashing pool, so only the gauge's presence is certain here.
                #expect(text.split(separator: "\n").contains { $0.hasPrefix("spse_hash_queue_depth ") && Double($0.split(separator: " ")[1]) != nil })
                #expect(text.contains(#"spse_requests_open{step="2"} 0"#))
            }
        }
    }

    @Test("the per-address limiter answers 429 with Retry-After before any password work")
    func addressLimit() async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock, loginBudget: (burst: 2, perMinute: 6))
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.live) { client in
                for _ in 0..<2 {
                    try await client.post("/v1/auth/login", ["user_id": "nobody.here", "password": "x"]) { #expect($0.status == .unauthorized) }
                }
                try await client.post("/v1/auth/login", ["user_id": "nobody.here", "password": "x"]) { response in
                    #expect(response.status == .tooManyRequests)
                    #expect(response.headers[.retryAfter] == "10")
                    #expect(response.body.json["code"] as? String == "too_many_requests")
                }
            }
        }
    }

    @Test("repeated failures lock with 429 and Retry-After; logout ends the session")
    func lockoutAndLogout() async throws {
        try await withAPI { client, _, token in
            for _ in 0..<5 {
                try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "wrong password"]) { #expect($0.status == .unauthorized) }
            }
            try await client.post("/v1/auth/login", ["user_id": "admin.ppe", "password": "kopi jahe hangat sekali"]) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.headers[.retryAfter] == "60")
                #expect(response.body.json["code"] as? String == "locked")
            }
            try await client.post("/v1/auth/logout", nil, token: token) { #expect($0.status == .noContent) }
            try await client.get("/v1/accounts/admin.ppe?reason=r", token: token) { #expect($0.status == .unauthorized) }
        }
    }

    @Test("a provisioning batch over HTTP: bad rows are all reported as 422, a dry run writes nothing, the batch answers its passwords once")
    func provisioningBatch() async throws {
        try await withAPI { client, f, token in
            func send(_ csv: String, dryRun: Bool = false, _ check: @escaping (TestResponse) async throws -> Void) async throws {
                try await client.execute(
                    uri: "/v1/provisioning/batches\(dryRun ? "?dry_run=true" : "")", method: .post,
                    headers: [.contentType: "text/csv; charset=utf-8", .authorization: "Bearer \(token)"], body: ByteBuffer(string: csv)
                ) { try await check($0) }
            }
            let header = "user_id,role,full_name,nip,email,agency\n"
            let good = header + "ver01,verifikator,Wahyu Nugroho,198503152010121001,ver01@purbalinggakab.go.id,BPKAD\n"
                + "aud01,auditor,\"Yuni Astuti, S.E.\",,aud01@purbalinggakab.go.id,Inspektorat\n"
            try await send(header + "x,helpdesk,A,123,a@b.go.id,D\nver01,root,B,,b@b.go.id,D\n") { response in
                #expect(response.status == .unprocessableContent)
                let problems = (response.body.json["problems"] as? [[String: Any]]) ?? []
                #expect(problems.map { "\($0["line"] ?? ""):\($0["rule"] ?? "")" } == ["2:bad_user_id", "2:bad_nip", "3:bad_role"])
            }
            try await send(good, dryRun: true) { response in
                #expect(response.status == .ok)
                #expect(response.body.json["credentials"] == nil || response.body.json["credentials"] is NSNull)
            }
            #expect(try await f.count("SELECT count(*) FROM accounts WHERE user_id IN ('ver01', 'aud01')") == 0)
            try await send(good) { response in
                #expect(response.status == .created)
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.body.json["created"] as? Int == 2)
                let credentials = (response.body.json["credentials"] as? [[String: Any]]) ?? []
                #expect(credentials.compactMap { $0["user_id"] as? String } == ["ver01", "aud01"])
                #expect(credentials.allSatisfy { ($0["temporary_password"] as? String)?.count == 24 })
            }
            try await send(good) { response in
                #expect(response.status == .created)
                #expect(response.body.json["unchanged"] as? Int == 2)
                #expect((response.body.json["credentials"] as? [Any])?.isEmpty == true)
            }
            try await client.execute(uri: "/v1/provisioning/batches", method: .post,
                                     headers: [.contentType: "application/json", .authorization: "Bearer \(token)"], body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
