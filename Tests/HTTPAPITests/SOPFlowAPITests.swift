import Accounts
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

let pdfBytes = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".utf8)

@Suite("HTTP: the SOP flow end to end on a live socket")
struct SOPFlowAPITests {
    @Test("admin bootstrap, accounts, full SOP flow with documents, helpdesk first login, rejection path, SLA report, audit verify")
    func endToEnd() async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock)
            let (_, adminTemporary, _) = try await Bootstrap(pool: f.pool, directory: f.directory, credentials: services.graph.credentials).createFirstAdmin(
                userID: try UserID("admin.ppe"), fullName: try FullName("Budi Santoso"), email: try EmailAddress("budi@purbalinggakab.go.id"),
                agency: try Agency("LPSE Kabupaten Purbalingga"), nip: nil)
            let app = Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test"))
            try await app.test(.live) { client in
                // The bootstrap admin's first login and forced change.
                let admin = try await login(client, "admin.ppe", adminTemporary.reveal, expect: "password_change_required")
                try await client.post("/v1/auth/password", ["current_password": adminTemporary.reveal, "new_password": "kopi jahe hangat sekali"], token: admin) {
                    #expect($0.status == .noContent)
                }
                // Accounts: a staf, a second admin (validator ≠ completeness checker is the staf anyway), the helpdesk.
                var stafTemporary = ""
                for (id, role) in [("staf.adm", "staf_administrasi"), ("helpdesk01", "helpdesk")] {
                    try await client.post("/v1/accounts", ["user_id": id, "role": role, "full_name": "Pegawai \(id)", "email": "\(id)@purbalinggakab.go.id", "agency": "Diskominfo"], token: admin) {
                        #expect($0.status == .created)
                        if id == "staf.adm" { stafTemporary = $0.body.json["temporary_password"] as? String ?? "" }
                    }
                }
                let stafFirst = try await login(client, "staf.adm", stafTemporary, expect: "password_change_required")
                try await client.post("/v1/auth/password", ["current_password": stafTemporary, "new_password": "nasi goreng kambing enak"], token: stafFirst) {
                    #expect($0.status == .noContent)
                }
                let staf = stafFirst

                // Step 1 by the staf, documents as raw bodies.
                var requestID = 0
                try await client.post("/v1/requests", [
                    "kinds": ["reset_password", "user_id_info"], "subject": ["full_name": "Pegawai Helpdesk Satu"],
                    "requester_name": "Pegawai helpdesk01", "requester_contact": "helpdesk01@purbalinggakab.go.id", "channel": "hardcopy",
                ], token: staf) { response in
                    #expect(response.status == .created)
                    requestID = response.body.json["id"] as? Int ?? 0
                    #expect((response.body.json["number"] as? String)?.hasPrefix("REQ-2026-") == true)
                }
                for type in ["surat_permohonan", "sk_pengangkatan"] {
                    try await client.execute(uri: "/v1/requests/\(requestID)/documents?type=\(type)", method: .post,
                                             headers: [.authorization: "Bearer \(staf)", .contentType: "application/pdf", .init("X-File-Name")!: "\(type).pdf"],
                                             body: ByteBuffer(bytes: pdfBytes)) { #expect($0.status == .created) }
                }
                try await client.execute(uri: "/v1/requests/\(requestID)/documents?type=other", method: .post,
                                         headers: [.authorization: "Bearer \(staf)", .contentType: "application/pdf", .init("X-File-Name")!: "x.pdf"],
                                         body: ByteBuffer(string: "MZ not a pdf")) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.body.json["code"] as? String == "document_refused")
                }
                // Wrong role and wrong state answer with what is allowed now.
                try await client.post("/v1/requests/\(requestID)/completeness", ["complete": true], token: admin) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.post("/v1/requests/\(requestID)/execute", nil, token: admin) { response in
                    #expect(response.status == .conflict)
                    #expect(response.body.json["code"] as? String == "wrong_state")
                    #expect(response.body.json["state"] as? String == "submitted")
                }
                try await client.post("/v1/requests/\(requestID)/completeness", ["complete": true], token: staf) { #expect($0.status == .ok) }
                // The requester wrote "Pegawai Helpdesk Satu"; the account is "Pegawai helpdesk01". The Admin PPE must say why it is the right one.
                try await client.post("/v1/requests/\(requestID)/validity", ["valid": true, "subject_user_id": "helpdesk01"], token: admin) { response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.body.json["code"] as? String == "hint_mismatch" && response.body.json["fields"] as? String == "full_name")
                }
                try await client.post("/v1/requests/\(requestID)/validity",
                                      ["valid": true, "subject_user_id": "helpdesk01", "acknowledgement": "SK names her; the letter used the post title"],
                                      token: admin) { #expect($0.status == .ok) }
                var temporary = ""
                try await client.post("/v1/requests/\(requestID)/execute", nil, token: admin) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.cacheControl] == "no-store")
                    temporary = response.body.json["temporary_password"] as? String ?? ""
                    #expect(response.body.json["user_id"] as? String == "helpdesk01")
                }
                try await client.post("/v1/requests/\(requestID)/notify", nil, token: admin) { #expect($0.status == .ok) }
                try await client.post("/v1/requests/\(requestID)/handover", ["channel": "carrier pigeon", "recipient": "Sekar"], token: admin) { response in
                    #expect(response.status == .unprocessableContent && response.body.json["field"] as? String == "channel")
                }
                try await client.post("/v1/requests/\(requestID)/handover", ["channel": "phone", "recipient": "Sekar", "handed_at": "2999-01-01T00:00:00Z"],
                                      token: admin) { #expect($0.status == .unprocessableContent) }
                try await client.post("/v1/requests/\(requestID)/handover", ["channel": "phone", "recipient": "Sekar Ayu Wulandari"], token: admin) { response in
                    #expect(response.status == .ok)
                    #expect((response.body.json["request"] as? [String: Any])?["state"] as? String == "notified")
                }

                // The helpdesk: temporary password, forced change (which confirms receipt), normal login.
                let helpdesk = try await login(client, "helpdesk01", temporary, expect: "password_change_required")
                try await client.post("/v1/auth/password", ["current_password": temporary, "new_password": "soto sokaraja pedas"], token: helpdesk) {
                    #expect($0.status == .noContent)
                }
                _ = try await login(client, "helpdesk01", "soto sokaraja pedas", expect: "ok")
                try await client.post("/v1/requests/\(requestID)/archive", nil, token: staf) { response in
                    #expect(response.status == .ok)
                    #expect((response.body.json["request"] as? [String: Any])?["state"] as? String == "archived")
                }
                try await client.get("/v1/requests/\(requestID)/export", token: staf) { response in
                    #expect(response.headers[.contentType] == "application/x-tar")
                    #expect(String(buffer: response.body).contains("manifest.json"))
                }

                // The rejection path: complete, but the SK does not name the requester.
                var rejected = 0
                try await client.post("/v1/requests", ["kinds": ["user_id_info"], "subject": ["nip": "196102251986031010"], "requester_name": "X",
                                                       "requester_contact": "x@purbalinggakab.go.id", "channel": "email"], token: staf) {
                    rejected = $0.body.json["id"] as? Int ?? 0
                }
                for type in ["surat_permohonan", "sk_pengangkatan"] {
                    try await client.execute(uri: "/v1/requests/\(rejected)/documents?type=\(type)&file_name=\(type).pdf", method: .post,
                                             headers: [.authorization: "Bearer \(staf)", .contentType: "application/pdf"],
                                             body: ByteBuffer(bytes: pdfBytes)) { #expect($0.status == .created) }
                }
                try await client.post("/v1/requests/\(rejected)/completeness", ["complete": true], token: staf) { #expect($0.status == .ok) }
                try await client.post("/v1/requests/\(rejected)/validity", ["valid": false, "reason": "SK tidak atas nama pemohon"], token: admin) {
                    #expect($0.status == .ok)
                }
                try await client.get("/v1/requests?state=invalid", token: staf) { response in
                    let entries = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [[String: Any]]
                    #expect(entries?.map { $0["id"] as? Int } == [rejected])
                    #expect(entries?.first?["step"] as? Int == 7)
                }
                try await client.post("/v1/requests/\(rejected)/notify", nil, token: admin) { response in
                    #expect((response.body.json["request"] as? [String: Any])?["state"] as? String == "rejected")
                }
                try await client.post("/v1/requests/\(rejected)/archive", nil, token: staf) { #expect($0.status == .ok) }

                // SLA report and audit verify.
                try await client.get("/v1/reports/sla?format=csv&from=2026-11-01&to=2026-12-01", token: admin) { response in
                    #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                    let csv = String(buffer: response.body)
                    #expect(csv.hasPrefix("step,actor,priority,status,count,median_seconds,p90_seconds,breaches,limit_minutes,explained,unexplained\n"))
                    #expect(csv.contains("\n2,staf.adm,normal,done,2,0.0,0.0,0,5,0,0\n") && csv.contains("\n6,admin.ppe,normal,done,1,0.0,0.0,0,15,0,0\n"))
                }
                try await client.get("/v1/audit/verify", token: admin) { response in
                    #expect(response.body.json["intact"] as? Bool == true)
                }
                try await client.get("/v1/audit?action=password.reset&from=2026-11-01&to=2026-12-01", token: admin) { response in
                    let rows = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [[String: Any]]
                    #expect(rows?.count == 4, "the bootstrap, the two new accounts' first passwords, and the gate's reset")
                    #expect(!String(buffer: response.body).contains(temporary))
                }
                try await client.get("/v1/audit/verify", token: staf) { #expect($0.status == .forbidden) }
            }
        }
    }

    func login(_ client: any TestClientProtocol, _ userID: String, _ password: String, expect outcome: String) async throws -> String {
        var token = ""
        try await client.post("/v1/auth/login", ["user_id": userID, "password": password]) { response in
            #expect(response.status == .ok)
            #expect(response.body.json["outcome"] as? String == outcome)
            token = response.body.json["token"] as? String ?? ""
        }
        return token
    }
}
