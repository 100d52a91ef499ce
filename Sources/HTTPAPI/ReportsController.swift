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

    func addRoutes(to router: Router<APIContext>) {
        router.get("v1/reports/sla") { request, context -> Response in
            let caller = try context.caller()
            let format = request.uri.queryParameters["format"].map(String.init) ?? "json"
            guard format == "json" || format == "csv" else { throw APIError.badRequest("format must be json or csv") }
            let lines = try await operations.slaReport(Self.period(request), by: caller)
            if format == "json" { return try JSONResponse(lines).response(from: request, context: context) }
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: try Operations.csv(lines))))
        }
        router.get("v1/audit") { request, context -> JSONResponse<[AuditRecord]> in
            let query = request.uri.queryParameters
            let records = try await operations.auditRecords(
                AuditForm(period: Self.period(request), actor: query["actor"].map(String.init), action: query["action"].map(String.init)),
                limit: 1000, export: false, by: try context.caller())
            return JSONResponse(records)
        }
        router.get("v1/audit/verify") { _, context -> JSONResponse<VerifyView> in
            let result = try await operations.verifyAudit(by: try context.caller())
            return JSONResponse(VerifyView(intact: result.isIntact, rowsChecked: result.rowsChecked, firstBrokenRow: result.firstBrokenRow, reason: result.reason))
        }
    }

    static func period(_ request: Request) -> PeriodForm {
        PeriodForm(from: request.uri.queryParameters["from"].map(String.init), to: request.uri.queryParameters["to"].map(String.init))
    }
}
