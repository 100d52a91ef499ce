import DoorKit
import Audit
import Foundation
import Hummingbird
import Operations

/// `/v1/reports/sla` and `/v1/audit`: what the auditor (and the Admin PPE) read.
struct ReportsController: Sendable {
    let operations: Operations

    struct VerifyView: Encodable, Sendable {
        let intact: Bool
        let rowsChecked: Int
        let firstBrokenRow: Int64?
        let reason: String?
        enum CodingKeys: String, CodingKey { case intact, rowsChecked = "rows_checked", firstBrokenRow = "first_broken_row", reason }
    }

    func addRoutes(to router: Router<DoorContext>) {
        router.get("v1/reports/sla") { request, context -> Response in
            let caller = try context.caller()
            let format = try request.form["format"] ?? "json"
            guard format == "json" || format == "csv" else { throw DoorError.badRequest("format must be json or csv") }
            let lines = try await operations.slaReport(try Self.period(request), by: caller)
            if format == "json" { return try JSONResponse(lines).response(from: request, context: context) }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: try Operations.csv(lines))))
        }
        router.get("v1/audit") { request, context -> JSONResponse<[AuditRecord]> in
            let caller = try context.caller()
            let query = request.form
            let records = try await operations.auditRecords(
                AuditForm(period: try Self.period(request), actor: try query["actor"], action: try query["action"], subject: try query["subject"],
                          request: try query["request"], after: try query["after"]),
                limit: 1000, export: false, by: caller)
            return JSONResponse(records)
        }
        router.get("v1/audit/verify") { _, context -> JSONResponse<VerifyView> in
            let result = try await operations.verifyAudit(by: try context.caller())
            return JSONResponse(VerifyView(intact: result.isIntact, rowsChecked: result.rowsChecked, firstBrokenRow: result.firstBrokenRow, reason: result.reason))
        }
    }

    static func period(_ request: Request) throws -> PeriodForm {
        PeriodForm(from: try request.form["from"], to: try request.form["to"])
    }
}
