import Accounts
import Foundation
import Gate
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Operations
import Testing
import TestSupport

/// A public filing's multipart body: the fields, and each document by its part name.
func publicFiling(_ fields: [String: String], documents: [String: [UInt8]] = ["surat_permohonan": pdfBytes, "sk_pengangkatan": pdfBytes],
                  boundary: String = "spse-public-boundary") -> ByteBuffer {
    var bytes: [UInt8] = []
    for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
    }
    for (name, content) in documents.sorted(by: { $0.key < $1.key }) {
        bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(name).pdf\"\r\nContent-Type: application/pdf\r\n\r\n".utf8)
        bytes += content + Array("\r\n".utf8)
    }
    bytes += Array("--\(boundary)--\r\n".utf8)
    return ByteBuffer(bytes: bytes)
}

@Suite("HTTP: the public door (a locked-out requester files and follows their own request)")
struct PublicDoorAPITests {
    static let sekar: [String: String] = [
        "kinds": "reset_password", "full_name": "Sekar Ayu Wulandari", "nip": "196102251986031010", "email": "sekar@purbalinggakab.go.id",
        "phone": "+62 812-2700-1234", "agency": "Dinas Komunikasi dan Informatika", "role": "helpdesk",
    ]
    static let multipart: HTTPFields = [.contentType: "multipart/form-data; boundary=spse-public-boundary"]
    /// The multipart headers with a tracking code, or a language.
    static func multipart(code: String? = nil, language: String? = nil) -> HTTPFields {
        var headers = multipart
        if let code { headers[.init("X-Tracking-Code")!] = code }
        if let language { headers[.acceptLanguage] = language }
        return headers
    }

    func withPublicAPI(limits: PublicBudget.Limits = PublicBudget.Limits(),
                       _ body: @escaping @Sendable (any TestClientProtocol, AccountsFixture, APIServices) async throws -> Void) async throws {
        try await AccountsFixture.with { f in
            let services = try await apiServices(f.pool, clock: f.clock, publicLimits: limits)
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
                try await body(client, f, services)
            }
        }
    }

    /// Files `fields` and returns (status, number, code).
    static func file(_ client: any TestClientProtocol, _ fields: [String: String] = sekar,
                     documents: [String: [UInt8]] = ["surat_permohonan": pdfBytes, "sk_pengangkatan": pdfBytes]) async throws -> (HTTPResponse.Status, String, String, String) {
        try await client.execute(uri: "/v1/public/requests", method: .post, headers: multipart, body: publicFiling(fields, documents: documents)) { response in
            (response.status, response.body.json["number"] as? String ?? "", response.body.json["tracking_code"] as? String ?? "", String(buffer: response.body))
        }
    }

    static func track(_ client: any TestClientProtocol, _ number: String, _ code: String?) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [:]
        if let code { headers[.init("X-Tracking-Code")!] = code }
        return try await client.execute(uri: "/v1/public/requests/\(number)", method: .get, headers: headers) { ($0.status, $0.body.json) }
    }

    @Test("a filing without a session is a receipt (number, 130-bit code shown once), the request is online and submitted with both documents, the code stored only as a digest")
    func fileAndTrack() async throws {
        try await withPublicAPI { client, f, _ in
            let (status, number, code, body) = try await Self.file(client)
            #expect(status == .created, "\(body)")
            #expect(number.hasPrefix("REQ-") && code.count == 31 && code.wholeMatch(of: /[0-9A-HJKMNP-TV-Z\-]+/) != nil)
            #expect(try await f.count("SELECT count(*) FROM requests WHERE number = $1 AND channel = 'online' AND state = 'submitted' AND requester_user_id IS NULL", [number]) == 1)
            #expect(try await f.count("SELECT count(*) FROM request_documents d JOIN requests r ON r.id = d.request_id WHERE r.number = $1", [number]) == 2)
            #expect(try await f.count("SELECT count(*) FROM requests WHERE position(convert_to($1, 'UTF8') IN coalesce(tracking_digest, '')) > 0", [code]) == 0)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'", [code.replacingOccurrences(of: "-", with: "")]) == 0)
            let (tracked, view) = try await Self.track(client, number, code.lowercased().replacingOccurrences(of: "-", with: " "))
            #expect(tracked == .ok)
            #expect(view["state"] as? String == "submitted" && view["due_step"] as? Int == 2 && view["due_by"] != nil)
            #expect(view["may_supplement"] as? Bool == false)
            for secretive in ["subject", "user_id", "account", "submitted_by", "executed_by", "temporary_password"] { #expect(view[secretive] == nil) }
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'public.track' AND request_id = $1", [number]) == 1)
            // The confirmation e-mail: one step-1 notice in the outbox, to the e-mail alone (not
            // the phone beside it), naming the number and never the tracking code.
            #expect(try await f.count(
                """
                SELECT count(*) FROM outbox o JOIN requests r ON r.id = o.request_id
                WHERE r.number = $1 AND o.step = 1 AND o.recipient = 'sekar@purbalinggakab.go.id' AND o.body_id LIKE '%' || $1 || '%'
                """, [number]) == 1)
            let bare = code.replacingOccurrences(of: "-", with: "")
            #expect(try await f.count("SELECT count(*) FROM outbox WHERE replace(body_id || body_en || subject_id || subject_en, '-', '') LIKE '%' || $1 || '%'",
                                      [bare]) == 0)
        }
    }

    @Test("a wrong code, an unknown number, a malformed one and another door's request are the same 404; one code opens no other request")
    func noOtherDoor() async throws {
        try await withPublicAPI { client, _, services in
            let (_, first, firstCode, _) = try await Self.file(client)
            var other = Self.sekar
            other["email"] = "budi@purbalinggakab.go.id"
            let (_, second, _, _) = try await Self.file(client, other)
            let staffed = try await services.graph.gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy),
                by: Actor(userID: "staf.adm", role: .stafAdministrasi))
            var answers: [String] = []
            for (number, code) in [(second, firstCode), (first, "0000000000000000000000000"), (first, nil), ("REQ-2099-999999", firstCode),
                                   ("..%2F..%2Fv1%2Faccounts", firstCode), ("REQ-2026-00000%00", firstCode), (staffed.number, firstCode), (first, "é" + firstCode)] as [(String, String?)] {
                let (status, body) = try await Self.track(client, number, code)
                #expect(status == .notFound, "\(number) \(code ?? "-"): \(status) \(body)")
                answers.append((body["detail"] as? String) ?? "")
            }
            #expect(Set(answers).count == 1, "\(answers)")
            #expect(try await Self.track(client, first, firstCode).0 == .ok)
        }
    }

    @Test("the receipt is the same for a NIP and e-mail of a real account and for unknown ones: nothing is matched before step 5")
    func noEnumeration() async throws {
        try await withPublicAPI { client, f, _ in
            let account = try await f.directory.create(
                NewAccount(userID: try UserID("sekar01"), role: .helpdesk, fullName: try FullName("Sekar Ayu Wulandari"), nip: try NIP("196102251986031010"),
                           email: try EmailAddress("sekar@purbalinggakab.go.id"), agency: try Agency("Diskominfo")), by: f.admin)
            var unknown = Self.sekar
            unknown["nip"] = "199001012020121001"
            unknown["email"] = "tidak.ada@purbalinggakab.go.id"
            let (knownStatus, _, _, knownBody) = try await Self.file(client)
            let (unknownStatus, _, _, unknownBody) = try await Self.file(client, unknown)
            #expect(knownStatus == .created && unknownStatus == .created)
            func shape(_ body: String) -> [String] {
                ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]).map { Array($0.keys).sorted() } ?? []
            }
            #expect(shape(knownBody) == shape(unknownBody))
            #expect(try await f.count("SELECT count(*) FROM requests WHERE subject_account_id = $1", [account.id]) == 0)
        }
    }

    @Test("refused filings leave nothing: a missing document, a fake PDF, NUL in a field, a bad NIP or e-mail, a huge field, an oversized document or body, a truncated body")
    func refusedFilings() async throws {
        try await withPublicAPI(limits: { var l = PublicBudget.Limits(); l.filingsPerAddress = 1000; l.filingsPerEmail = 1000; return l }()) { client, f, _ in
            var cases: [(String, [String: String], [String: [UInt8]])] = []
            cases.append(("no SK", Self.sekar, ["surat_permohonan": pdfBytes]))
            cases.append(("fake PDF", Self.sekar, ["surat_permohonan": pdfBytes, "sk_pengangkatan": Array("<html>bukan pdf</html>".utf8)]))
            for (field, value) in [("full_name", "Sekar\u{0}Ayu"), ("nip", "19610225198603101X"), ("email", "bukan-email"), ("agency", String(repeating: "x", count: 5000)),
                                   ("kinds", "hapus_akun"), ("role", "admin_ppe"), ("phone", "<script>"), ("full_name", ""), ("user_id", "../etc")] {
                var fields = Self.sekar
                fields[field] = value
                cases.append((field, fields, ["surat_permohonan": pdfBytes, "sk_pengangkatan": pdfBytes]))
            }
            for (label, fields, documents) in cases {
                let (status, _, _, body) = try await Self.file(client, fields, documents: documents)
                #expect(status == .unprocessableContent, "\(label): \(status) \(body)")
            }
            var truncated = publicFiling(Self.sekar)
            truncated.moveWriterIndex(to: truncated.writerIndex - 30)
            let status = try await client.execute(uri: "/v1/public/requests", method: .post, headers: Self.multipart, body: truncated) { $0.status }
            #expect(status == .badRequest || status == .unprocessableContent, "\(status)")
            // A document over 10 MiB, and a body over the door's limit: refused, nothing kept.
            let big = pdfBytes + Array(repeating: 0x20, count: 10 * 1024 * 1024)
            let (oversized, _, _, oversizedBody) = try await Self.file(client, Self.sekar, documents: ["surat_permohonan": pdfBytes, "sk_pengangkatan": big])
            #expect(oversized == .unprocessableContent || oversized == .contentTooLarge, "\(oversized) \(oversizedBody)")
            let huge = pdfBytes + Array(repeating: 0x20, count: 12 * 1024 * 1024)
            let (tooLarge, _, _, _) = try await Self.file(client, Self.sekar, documents: ["surat_permohonan": pdfBytes, "sk_pengangkatan": huge])
            #expect(tooLarge == .contentTooLarge || tooLarge == .unprocessableContent, "\(tooLarge)")
            let json = try await client.execute(uri: "/v1/public/requests", method: .post, headers: [.contentType: "application/json"],
                                                body: ByteBuffer(string: "{}")) { $0.status }
            #expect(json == .badRequest)
            #expect(try await f.count("SELECT count(*) FROM requests") == 0)
            #expect(try await f.count("SELECT count(*) FROM request_documents") == 0)
            #expect(try await f.count("SELECT count(*) FROM outbox") == 0, "a refused filing sends no e-mail")
        }
    }

    @Test("budgets: filings per address and per e-mail, open online requests, and tracking attempts per number are 429 with Retry-After in the requester's language")
    func budgets() async throws {
        var limits = PublicBudget.Limits()
        (limits.filingsPerAddress, limits.filingsPerEmail, limits.openOnline, limits.trackingPerRequest) = (3, 2, 100, 4)
        try await withPublicAPI(limits: limits) { client, f, _ in
            let (_, number, code, _) = try await Self.file(client)
            #expect(try await Self.file(client).0 == .created)
            let (sameEmail, _, _, body) = try await Self.file(client)  // the e-mail's third
            #expect(sameEmail == .tooManyRequests, "\(body)")
            var other = Self.sekar
            other["email"] = "lain@purbalinggakab.go.id"
            #expect(try await Self.file(client, other).0 == .tooManyRequests)  // the address's fourth
            let refused = try await client.execute(uri: "/v1/public/requests", method: .post,
                                                   headers: Self.multipart(language: "en"), body: publicFiling(other)) { response in
                (response.status, response.headers[.retryAfter], response.body.json["detail"] as? String ?? "")
            }
            #expect(refused.0 == .tooManyRequests && Int(refused.1 ?? "") ?? 0 > 0 && refused.2.contains("Too many attempts"))
            // The confirmations are bounded by the same budgets: one per accepted filing, none for a refused one.
            #expect(try await f.count("SELECT count(*) FROM outbox WHERE step = 1 AND recipient = 'sekar@purbalinggakab.go.id'") == 2)
            #expect(try await f.count("SELECT count(*) FROM outbox WHERE step = 1 AND recipient = 'lain@purbalinggakab.go.id'") == 0)
            // Tracking: every attempt counts, right or wrong; the right code is refused too once spent.
            for _ in 0..<3 { #expect(try await Self.track(client, number, "WRONG-WRONG-WRONG-WRONG-WRONG-W").0 == .notFound) }
            #expect(try await Self.track(client, number, code).0 == .ok)
            #expect(try await Self.track(client, number, code).0 == .tooManyRequests)
            f.clock.advance(3601)
            #expect(try await Self.track(client, number, code).0 == .ok)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action IN ('public.file_refused', 'public.track_refused')") >= 5)
        }
    }

    @Test("the open online requests of the service are capped: past the cap a filing is refused, and nothing is filed")
    func openCap() async throws {
        var limits = PublicBudget.Limits()
        (limits.filingsPerAddress, limits.filingsPerEmail, limits.openOnline) = (100, 100, 2)
        try await withPublicAPI(limits: limits) { client, f, _ in
            for index in 0..<2 {
                var fields = Self.sekar
                fields["email"] = "orang\(index)@purbalinggakab.go.id"
                #expect(try await Self.file(client, fields).0 == .created)
            }
            let (status, _, _, body) = try await Self.file(client)
            #expect(status == .tooManyRequests && body.contains("online_queue_full"))
            #expect(try await f.count("SELECT count(*) FROM requests") == 2)
        }
    }

    @Test("step 3 to 4 from the tracking page: 'belum lengkap' is shown, the requester uploads a new SK and sends the supplement, and the file is back at step 2")
    func supplementLoop() async throws {
        try await withPublicAPI { client, f, services in
            let (_, number, code, _) = try await Self.file(client)
            let staf = try await f.directory.create(
                NewAccount(userID: try UserID("staf.adm"), role: .stafAdministrasi, fullName: try FullName("Rina Marlina"), nip: nil,
                           email: try EmailAddress("rina@purbalinggakab.go.id"), agency: try Agency("LPSE")), by: f.admin)
            let stafActor = Actor(userID: staf.userID.value, role: .stafAdministrasi)
            let id = try #require(try await services.graph.gate.requests(involving: "(online)").first { $0.number == number }?.id)
            // Supplement before one is asked: refused, nothing filed.
            let early = try await client.execute(uri: "/v1/public/requests/\(number)/supplement", method: .post,
                                                 headers: Self.multipart(code: code),
                                                 body: publicFiling([:], documents: ["sk_pengangkatan": pdfBytes])) { $0.status }
            #expect(early == .conflict)
            // Both documents are on file: step 2 names the unreadable SK as what is missing.
            f.clock.advance(60)
            _ = try await services.graph.gate.act(.completeness(complete: false, note: "SK pengangkatan tidak terbaca", wanting: [.skPengangkatan]),
                                                  on: id, by: stafActor)
            _ = try await services.graph.gate.act(.notify, on: id, by: stafActor)
            let (_, waiting) = try await Self.track(client, number, code)
            #expect(waiting["state"] as? String == "awaiting_supplement", "\(waiting)")
            #expect(waiting["completeness_note"] as? String == "SK pengangkatan tidak terbaca", "the requester reads what step 2 found")
            #expect(waiting["may_supplement"] as? Bool == true)
            #expect(waiting["missing_documents"] as? [String] == ["sk_pengangkatan"], "the SK on file yet found unreadable is still due")
            #expect(try await f.count("SELECT count(*) FROM outbox WHERE request_id = $1 AND step = 3 AND recipient = 'sekar@purbalinggakab.go.id'", [id]) == 1,
                    "step 3's notice goes to the e-mail given, not to 'e-mail · phone'")
            f.clock.advance(60)
            let sent = try await client.execute(uri: "/v1/public/requests/\(number)/supplement", method: .post,
                                                headers: Self.multipart(code: code),
                                                body: publicFiling([:], documents: ["sk_pengangkatan": pdfBytes])) { ($0.status, $0.body.json) }
            #expect(sent.0 == .ok, "\(sent.1)")
            #expect(sent.1["state"] as? String == "submitted" && sent.1["due_step"] as? Int == 2)
            #expect(sent.1["missing_documents"] as? [String] == [], "\(sent.1)")
            #expect(try await f.count("SELECT count(*) FROM request_documents d JOIN requests r ON r.id = d.request_id WHERE r.number = $1", [number]) == 3)
            // Another request's code sends nothing to this one.
            let wrong = try await client.execute(uri: "/v1/public/requests/\(number)/supplement", method: .post,
                                                 headers: Self.multipart(code: "0000000000000000000000000A"),
                                                 body: publicFiling([:], documents: ["sk_pengangkatan": pdfBytes])) { $0.status }
            #expect(wrong == .notFound)
        }
    }

    @Test("step 2 can dismiss an online filing as spam or a duplicate (Staf Administrasi only, online filings only); the tracking page says rejected")
    func dismiss() async throws {
        try await withPublicAPI { client, f, services in
            let (_, number, code, _) = try await Self.file(client)
            let gate = services.graph.gate
            let online = try #require(try await gate.requests(involving: "(online)").first { $0.number == number })
            let staf = Actor(userID: "staf.adm", role: .stafAdministrasi)
            #expect(online.actions(for: staf).contains(.dismiss))
            #expect(!online.actions(for: Actor(userID: "admin.ppe", role: .adminPPE)).contains(.dismiss))
            #expect(!online.actions(for: .online).contains(.dismiss), "the requester does not dismiss their own filing")
            let paper = try await gate.submit(
                NewRequest(kinds: [.resetPassword], subject: SubjectHint(userID: "helpdesk01"), requesterName: "Sekar",
                           requesterContact: "sekar@purbalinggakab.go.id", channel: .hardcopy), by: staf)
            #expect(!paper.actions(for: staf).contains(.dismiss), "a paper file is checked, never dismissed")
            await #expect(throws: GateError.self) { try await gate.act(.dismiss(.spam), on: paper.id, by: staf) }
            let result = try await gate.act(.dismiss(.duplicate), on: online.id, by: staf)
            #expect(result.request.state == .rejected && result.request.rejectionReason == "duplicate")
            let (_, view) = try await Self.track(client, number, code)
            #expect(view["state"] as? String == "rejected" && view["rejection_reason"] as? String == "duplicate")
            #expect(try await f.count("SELECT count(*) FROM outbox o JOIN requests r ON r.id = o.request_id WHERE r.number = $1 AND o.step <> 1", [number]) == 0,
                    "beyond the filing's own receipt, no notice to an address nobody vouched for")
        }
    }
}
