import Accounts
import Audit
import Crypto
import Foundation
import Inputs
import Postgres

/// The public door's part of the gate: step 1 filed by the requester themself, and the request
/// opened again by its number and tracking code. Everything after is the gate as for any door.
extension GateService {
    /// Serializes only online filings among themselves, so the cap on open ones holds.
    static let onlineFilingLock: Int64 = 0x5350_5345_4f4e_4c49  // "SPSEONLI"

    /// Step 1 through the public door: the request in `submitted` with channel `online`, no
    /// requester account (matching is the Admin PPE's, at step 5), its documents in the same
    /// transaction, and the tracking code's digest. Refused when `maxOpen` online requests are open.
    public func submitOnline(_ new: NewRequest, documents: [DocumentUpload], trackingDigest: [UInt8], maxOpen: Int) async throws -> Request {
        let hint = try new.subject.validated()
        let (name, contact) = (try FreeText(new.requesterName, field: "requester_name").value, try FreeText(new.requesterContact, field: "requester_contact").value)
        var online = new
        online.channel = .online
        let now = clock.now
        return try await pool.withTransaction { connection in
            try await connection.execute("SELECT pg_advisory_xact_lock($1)", [Self.onlineFilingLock])
            let open = try await connection.query(
                "SELECT count(*)::int AS open FROM requests WHERE channel = 'online' AND state NOT IN ('rejected', 'archived')")
            guard try Self.first(open).decode(Int.self, column: "open") < maxOpen else { throw GateError.onlineQueueFull(retryAfter: 3600) }
            let request = try await insert(online, hint: hint, name: name, contact: contact, requester: nil, by: .online, tracking: trackingDigest,
                                           documents: documents, at: now, on: connection)
            let notice = Notice.onlineReceipt(number: request.number)
            try await connection.execute(
                """
                INSERT INTO outbox (request_id, step, recipient, channel, subject_id, body_id, subject_en, body_en, created_at, next_attempt_at, queued_by)
                VALUES ($1, 1, $2, 'online', $3, $4, $5, $6, $7, $7, $8)
                """, [request.id, request.noticeRecipient, notice.subjectID, notice.bodyID, notice.subjectEN, notice.bodyEN, now, Actor.online.userID])
            return request
        }
    }

    /// The online request `number` when `trackingDigest` is its tracking code's, else
    /// `requestNotFound` — the same for a wrong code, an unknown number and a request filed at
    /// another door, after the same work (one read, one constant-time comparison).
    public func onlineSnapshot(_ number: String, trackingDigest: [UInt8]) async throws -> RequestSnapshot {
        let snapshot = try await pool.withConnection { connection -> RequestSnapshot? in
            let rows = try await connection.query("SELECT id, tracking_digest FROM requests WHERE number = $1", [number])
            let stored = try rows.first?.decode([UInt8]?.self, column: "tracking_digest") ?? nil
            let expected = stored ?? Array(repeating: 0, count: 32)
            guard Self.constantTimeEqual(expected, trackingDigest), stored != nil, let id = try rows.first?.decode(Int64.self, column: "id") else {
                return nil
            }
            return try await Self.loadSnapshot(.id(id), on: connection)
        }
        guard let snapshot else { throw GateError.requestNotFound }
        return snapshot
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Records a public door event that changes nothing else (a tracking view, a refusal) in the trail.
    public func recordPublic(_ action: String, number: String?, details: [String: AuditValue]) async throws {
        try await pool.withTransaction { connection in
            try await audit.record(
                AuditEvent(occurredAt: clock.now, actor: Actor.online.userID, action: action, subject: number, requestID: number, details: details),
                on: connection)
        }
    }
}
