import Accounts
import Audit
import Foundation
import Gate
import Hummingbird
import Postgres

/// `/v1/reports/sla` and `/v1/audit`: what the auditor (and the Admin PPE) read.
struct ReportsController: Sendable {
    let gate: GateService
    let pool: ConnectionPool

    static let readers: Set<Role> = [.adminPPE, .stafAdministrasi, .auditor]
    static let auditReaders: Set<Role> = [.adminPPE, .auditor]

    struct VerifyView: Encodable, Sendable {
        let intact: Bool
        let rowsChecked: Int
        let firstBrokenRow: Int64?
        let reason: String?
        enum CodingKeys: String, CodingKey { case intact, rowsChecked = "rows_checked", firstBrokenRow = "first_broken_row", reason }
    }

    func addRoutes(to router: Router<APIContext>) {
        router.get("v1/reports/sla") { request, context -> Response in
            _ = try context.require(Self.readers)
            let (from, to) = try Self.period(request)
            let lines = try await gate.slaReport(from: from, to: to)
            switch request.uri.queryParameters["format"].map(String.init) ?? "json" {
            case "json":
                return try JSONResponse(lines).response(from: request, context: context)
            case "csv":
                var csv = "step,actor,count,median_seconds,p90_seconds,breaches,limit_minutes\n"
                for line in lines {
                    csv += "\(line.step),\(Self.csvField(line.actor)),\(line.count),\(line.medianSeconds),\(line.p90Seconds),\(line.breaches),\(line.limitMinutes.map(String.init) ?? "")\n"
                }
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: csv)))
            case let other:
                throw APIError.badRequest("format must be json or csv, not \(other)")
            }
        }
        router.get("v1/audit") { request, context -> JSONResponse<[AuditRecord]> in
            _ = try context.require(Self.auditReaders)
            let (from, to) = try Self.period(request)
            let query = request.uri.queryParameters
            let records = try await pool.withConnection { connection in
                try await AuditTrail().list(from: from, to: to, actor: query["actor"].map(String.init), action: query["action"].map(String.init),
                                            limit: 1000, on: connection)
            }
            return JSONResponse(records)
        }
        router.get("v1/audit/verify") { _, context -> JSONResponse<VerifyView> in
            _ = try context.require(Self.auditReaders)
            let result = try await pool.withConnection { try await AuditTrail().verify(on: $0) }
            return JSONResponse(VerifyView(intact: result.isIntact, rowsChecked: result.rowsChecked, firstBrokenRow: result.firstBrokenRow, reason: result.reason))
        }
    }

    /// `from` and `to` as ISO 8601 instants or dates; default: the last 30 days.
    static func period(_ request: Request) throws -> (Date, Date) {
        let query = request.uri.queryParameters
        func parse(_ name: String) throws -> Date? {
            guard let text = query[Substring(name)].map(String.init) else { return nil }
            if let instant = ISO8601DateFormatter().date(from: text) { return instant }
            let dateOnly = ISO8601DateFormatter()
            dateOnly.formatOptions = [.withFullDate]
            if let day = dateOnly.date(from: text) { return day }
            throw APIError.badRequest("\(name) must be an ISO 8601 date or instant, not \(text)")
        }
        let to = try parse("to") ?? Date()
        let from = try parse("from") ?? to.addingTimeInterval(-30 * 86_400)
        guard from < to else { throw APIError.badRequest("from must be before to") }
        return (from, to)
    }

    static func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
