import Accounts
import Audit
import Foundation
import Gate
import DoorKit
import Hummingbird
import Operations

/// The SLA report with a chart per step and the caller's own deviations to explain; the audit
/// trail's verification and export.
struct ReportPages {
    let console: Console
    var operations: Operations { console.operations }

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("laporan") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            let period = try Self.period(request)
            let lines = try await operations.slaReport(period, by: caller)
            let steps = Array(Set(lines.filter { $0.status == "done" }.map(\.step))).sorted()
            let charts = steps.map { step -> [String: Any] in
                [
                    "title": console.t("chart_caption", page, ["step": console.t("step_\(step)", page)]),
                    "svg": SLAChart.svg(step: step, lines: lines.filter { $0.step == step }, labels: SLAChart.Labels(
                        limit: console.t("limit", page), breaches: console.t("breaches", page).lowercased(), minutes: console.t("minutes_short", page),
                        median: console.t("median", page), p90: console.t("p90_legend", page), step: console.t("step_\(step)", page),
                        priority: { console.t("priority_\($0)", page) })),
                ]
            }
            let mine = try await operations.deviations(DeviationForm(actor: caller.userID.value, unexplained: "true"), by: caller)
            return console.render("report", page, [
                "from": try request.form["from"] ?? "", "to": try request.form["to"] ?? "", "flash": console.flash(request, page),
                "charts": charts.isEmpty ? nil : charts,
                "lines": lines.map { line -> [String: Any] in
                    ["step": line.step, "actor": line.actor, "priority": console.t("priority_\(line.priority)", page), "count": line.count,
                     "median": Formatting.minutes(line.medianSeconds), "p90": Formatting.minutes(line.p90Seconds),
                     "limit": line.limitMinutes.map(String.init) ?? "-", "breaches": line.breaches, "explained": line.explained,
                     "unexplained": line.unexplained, "open": line.status == "open_overdue"]
                },
                "hasMine": !mine.isEmpty,
                "mine": mine.map { deviation -> [String: Any] in
                    ["id": deviation.id, "request": deviation.requestNumber, "step": deviation.step, "detail": deviation.detail,
                     "kindName": console.t("deviation_\(deviation.kind.rawValue)", page)]
                },
            ])
        }
        group.get("laporan/csv") { request, context -> Response in
            let page = console.page(request, context)
            let lines = try await operations.slaReport(try Self.period(request), by: try page.caller())
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: ContentDisposition.attachment("sla.csv")],
                            body: .init(byteBuffer: ByteBuffer(string: try Operations.csv(lines))))
        }
        group.post("penyimpangan/:id") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            _ = try await operations.explainDeviation(context.parameters.get("id") ?? "", by: caller) {
                try await ConsoleForm.read(request, page, limit: console.formLimit)["explanation"]
            }
            return console.redirect("/laporan", flash: "explain")
        }
        group.get("audit") { request, context -> Response in
            let page = console.page(request, context)
            let result = try await operations.verifyAudit(by: try page.caller())
            let today = Formatting.day(console.operations.now)
            return console.render("audit", page, [
                "intact": result.isIntact, "rows": result.rowsChecked, "firstBroken": result.firstBrokenRow.map(String.init) ?? "-",
                "reason": result.reason ?? "", "from": Formatting.day(console.operations.now.addingTimeInterval(-30 * 86_400)), "to": today,
            ])
        }
        group.get("audit/ekspor") { request, context -> Response in
            let page = console.page(request, context)
            let records = try await operations.auditRecords(AuditForm(period: try Self.period(request)), limit: 100_000, export: true,
                                                            by: try page.caller())
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            var text = ""
            for record in records { text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n" }
            return Response(status: .ok, headers: [.contentType: "application/jsonl; charset=utf-8",
                                                   .contentDisposition: ContentDisposition.attachment("audit.jsonl")],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// The period from a date picker: `to` is a day, included whole.
    static func period(_ request: Request) throws -> PeriodForm {
        let from = try request.form["from"].flatMap { $0.isEmpty ? nil : $0 }
        var to = try request.form["to"].flatMap { $0.isEmpty ? nil : $0 }
        if let day = to, day.count == 10, let date = ISO8601DateFormatter.dayOnly.date(from: day) {
            to = ISO8601DateFormatter().string(from: date.addingTimeInterval(86_400))
        }
        return PeriodForm(from: from, to: to)
    }
}

extension ISO8601DateFormatter {
    static var dayOnly: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter
    }
}
