import Accounts
import Audit
import CSV
import Foundation
import Gate
import Inputs

/// A period as a door received it.
public struct PeriodForm: Sendable {
    public var from: String?
    public var to: String?
    public init(from: String? = nil, to: String? = nil) {
        self.from = from
        self.to = to
    }
}

/// Audit filters as a door received them.
public struct AuditForm: Sendable {
    public var period: PeriodForm
    public var actor: String?
    public var action: String?
    public var subject: String?
    public var request: String?
    /// The last row id of the previous page.
    public var after: String?
    public init(period: PeriodForm = PeriodForm(), actor: String? = nil, action: String? = nil, subject: String? = nil,
                request: String? = nil, after: String? = nil) {
        self.period = period
        self.actor = actor
        self.action = action
        self.subject = subject
        self.request = request
        self.after = after
    }
}

extension Operations {
    public func slaReport(_ form: PeriodForm, by caller: Caller) async throws -> [SLAReportLine] {
        try AccessPolicy.require(caller.role, .readSLAReports)
        return try await gate.slaReport(try Period(parsingFrom: form.from, to: form.to, now: clock.now))
    }

    /// The SLA report as CSV (RFC 4180), the same over HTTP and from the CLI.
    public static func csv(_ lines: [SLAReportLine]) throws -> String {
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream)
        try writer.write(row: [
            "step", "actor", "priority", "status", "count", "median_seconds", "p90_seconds", "breaches", "limit_minutes", "explained", "unexplained",
        ])
        for line in lines {
            try writer.write(row: [
                String(line.step), line.actor, line.priority, line.status, String(line.count), String(line.medianSeconds), String(line.p90Seconds),
                String(line.breaches), line.limitMinutes.map(String.init) ?? "", String(line.explained), String(line.unexplained),
            ])
        }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Audit rows of a period, oldest first, at most `limit`; the reading is itself audited
    /// (`audit.list`, or `audit.export` for a whole export) in the same transaction.
    public func auditRecords(_ form: AuditForm, limit: Int, export: Bool, by caller: Caller) async throws -> [AuditRecord] {
        try AccessPolicy.require(caller.role, .readAudit)
        let period = try Period(parsingFrom: form.period.from, to: form.period.to, now: clock.now)
        let filter = AuditTrail.Filter(
            from: period.from, to: period.to,
            actor: try FreeText.optional(form.actor, field: "actor", maxLength: 64)?.value,
            action: try FreeText.optional(form.action, field: "action", maxLength: 64)?.value,
            subject: try FreeText.optional(form.subject, field: "subject", maxLength: 64)?.value,
            requestID: try FreeText.optional(form.request, field: "request", maxLength: 64)?.value,
            afterID: try Self.rowID(form.after))
        let iso = ISO8601DateFormatter()
        return try await pool.withTransaction { connection in
            let records = try await audit.list(filter, limit: limit, on: connection)
            var details: [String: AuditValue] = [
                "from": .string(iso.string(from: period.from)), "to": .string(iso.string(from: period.to)), "rows": .int(records.count),
            ]
            if let actor = filter.actor { details["actor"] = .string(actor) }
            if let action = filter.action { details["action"] = .string(action) }
            if let subject = filter.subject { details["subject"] = .string(subject) }
            if let request = filter.requestID { details["request"] = .string(request) }
            if let after = filter.afterID { details["after"] = .int(Int(after)) }
            try await audit.record(
                AuditEvent(occurredAt: clock.now, actor: caller.userID.value, action: export ? "audit.export" : "audit.list", details: details),
                on: connection)
            return records
        }
    }

    /// An audit row id from a door: digits only, within a bigint.
    static func rowID(_ text: String?) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard text.utf8.count <= 19, text.utf8.allSatisfy({ (48...57).contains($0) }), let id = Int64(text) else {
            throw InputError(field: "after", reason: "must be an audit row number")
        }
        return id
    }

    public func verifyAudit(by caller: Caller) async throws -> AuditTrail.Verification {
        try AccessPolicy.require(caller.role, .readAudit)
        return try await pool.withConnection { try await audit.sealAndVerify(on: $0) }
    }
}
