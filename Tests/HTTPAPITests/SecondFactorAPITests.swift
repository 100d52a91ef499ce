import Accounts
import Crypto
import Foundation
import Gate
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import Testing
import TestSupport

func appCode(_ key: String, at date: Date) -> String { AuthenticatorApp.code(key, at: date) }

@Suite("HTTP: the operators' second factor")
struct SecondFactorAPITests {
    @Test("enrol with a first code, then every login answers totp_required until the code; step 6 wants a fresh step-up; a replay is refused")
    func flow() async throws {
        try await AccountsFixture.with { f in
            let graph = try await ServiceGraph.make(testSettings(operatorTOTP: true), pool: f.pool, clock: f.clock.serviceClock, hashingPool: sharedPool)
            let services = APIServices(graph: graph, migrator: projectMigrations)
            let account = try await f.directory.create(
                NewAccount(userID: try UserID("admin.dua"), role: .adminPPE, fullName: try FullName("Dua Admin"), nip: nil,
                           email: try EmailAddress("dua@purbalinggakab.go.id"), agency: try Agency("LPSE")), by: f.admin)
            let temporary = try await f.reset(account).reveal
            // An approved request for helpdesk01, through the gate directly (its operators are not under test here).
            _ = try await f.helpdesk()
            let staf = Actor(userID: "staf.adm", role: .stafAdministrasi)
            let request = try await graph.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01", fullName: "Sekar Ayu Wulandari"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy), by: staf)
            for type in [DocumentType.suratPermohonan, .skPengangkatan] {
                _ = try await graph.gate.addDocument(
                    try DocumentUpload(type: type, fileName: "d.pdf", mediaType: "application/pdf", content: pdfBytes, limit: 1 << 20), to: request.id, by: staf)
            }
            _ = try await graph.gate.act(.completeness(complete: true), on: request.id, by: staf)
            _ = try await graph.gate.act(.validity(valid: true, subject: "helpdesk01"), on: request.id, by: Actor(userID: "admin.tiga", role: .adminPPE))
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
                func login(_ password: String) async throws -> [String: Any] {
                    var answer: [String: Any] = [:]
                    try await client.post("/v1/auth/login", ["user_id": "admin.dua", "password": password]) { answer = $0.body.json }
                    return answer
                }
                // Forced change, then the session may only enrol.
                let first = try #require(try await login(temporary)["token"] as? String)
                try await client.post("/v1/auth/password", ["current_password": temporary, "new_password": "kopi jahe hangat sekali"], token: first) {
                    #expect($0.status == .noContent)
                }
                try await client.get("/v1/requests", token: first) { response in
                    #expect(response.status == .forbidden && response.body.json["code"] as? String == "totp_enrolment_required")
                }
                var key = ""
                try await client.post("/v1/auth/totp/enrol", nil, token: first) { response in
                    #expect(response.status == .ok && response.headers[.cacheControl] == "no-store")
                    key = response.body.json["secret"] as? String ?? ""
                    #expect((response.body.json["otpauth_uri"] as? String)?.contains("secret=\(key)") == true)
                }
                try await client.post("/v1/auth/totp/confirm", ["code": appCode(key, at: f.clock.now)], token: first) { response in
                    #expect(response.status == .ok && response.headers[.cacheControl] == "no-store")
                    #expect((response.body.json["recovery_codes"] as? [String])?.count == 10)
                }
                try await client.get("/v1/requests", token: first) { #expect($0.status == .ok) }

                // A new login: the password alone is a challenge, not a session.
                f.clock.advance(30)
                let challenged = try await login("kopi jahe hangat sekali")
                #expect(challenged["outcome"] as? String == "totp_required" && challenged["token"] == nil)
                let challenge = try #require(challenged["challenge"] as? String)
                let code = appCode(key, at: f.clock.now)
                var token = ""
                try await client.post("/v1/auth/login/totp", ["challenge": challenge, "code": code]) { response in
                    #expect(response.status == .ok && response.body.json["outcome"] as? String == "ok")
                    token = response.body.json["token"] as? String ?? ""
                }
                let replay = try #require(try await login("kopi jahe hangat sekali")["challenge"] as? String)
                try await client.post("/v1/auth/login/totp", ["challenge": replay, "code": code]) { response in
                    #expect(response.status == .unauthorized && response.body.json["code"] as? String == "invalid_credentials")
                }
                // Step 6 long after the login: refused until a step-up.
                f.clock.advance(600)
                try await client.post("/v1/requests/\(request.number)/execute", nil, token: token) { response in
                    #expect(response.status == .forbidden && response.body.json["code"] as? String == "step_up_required")
                    #expect(response.body.json["temporary_password"] == nil)
                }
                try await client.post("/v1/auth/step-up", ["code": "000000"], token: token) { #expect($0.status == .unauthorized) }
                try await client.post("/v1/auth/step-up", ["code": appCode(key, at: f.clock.now)], token: token) { response in
                    #expect(response.status == .ok && response.body.json["stepped_up_at"] != nil)
                }
                try await client.post("/v1/requests/\(request.number)/execute", nil, token: token) { response in
                    #expect(response.status == .ok && (response.body.json["temporary_password"] as? String)?.count == 24)
                }
            }
        }
    }
}
