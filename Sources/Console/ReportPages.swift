import Accounts
import Audit
import Foundation
import Gate
import DoorKit
import Hummingbird
import Inputs
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
            try await auditPage(request, console.page(request, context))
        }
        group.get("audit/ekspor") { request, context -> Response in
            let page = console.page(request, context)
            let records = try await operations.auditRecords(try Self.auditForm(request, after: false), limit: 100_000, export: true,
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

    /// The audit trail's page: the chain's state, then the events the filters find, a page at a
    /// time (oldest first, like the chain), and the export of the same filters.
    func auditPage(_ request: Request, _ page: Page) async throws -> Response {
        let caller = try page.caller()
        let result = try await operations.verifyAudit(by: caller)
        func value(_ name: String) throws -> String { try request.form[name] ?? "" }
        var data: [String: Any?] = [
            "intact": result.isIntact, "rows": result.rowsChecked, "firstBroken": result.firstBrokenRow.map(String.init) ?? "-",
            "reason": result.reason ?? "",
            "from": try request.form["from"] ?? Formatting.day(operations.now.addingTimeInterval(-30 * 86_400)),
            "to": try request.form["to"] ?? Formatting.day(operations.now),
            "actor": try value("actor"), "action": try value("action"), "subject": try value("subject"), "request": try value("request"),
        ]
        var form = try Self.auditForm(request, after: true)
        if try request.form["from"] == nil, try request.form["to"] == nil {
            form.period = PeriodForm(from: data["from"] as? String, to: data["to"] as? String)
        }
        do {
            let pageSize = 100
            let records = try await operations.auditRecords(form, limit: pageSize + 1, export: false, by: caller)
            data["hasEvents"] = !records.isEmpty
            data["events"] = records.prefix(pageSize).map { record -> [String: Any] in
                ["id": record.id, "time": Formatting.time(record.occurredAt) ?? "", "actor": record.actor, "action": record.action,
                 "subject": record.subject ?? "", "request": record.requestID ?? "", "details": record.details == "{}" ? "" : record.details,
                 "requestLink": record.requestID.map { $0.hasPrefix("REQ-") } ?? false]
            }
            let filters: [(String, String?)] = [("from", data["from"] as? String), ("to", data["to"] as? String), ("actor", form.actor),
                                                ("action", form.action), ("subject", form.subject), ("request", form.request)]
            data["exportQuery"] = FormQuery.encode(filters)
            if records.count > pageSize, let last = records.prefix(pageSize).last {
                data["next"] = "/audit?" + FormQuery.encode(filters + [("after", String(last.id))])
            }
            if form.after != nil { data["first"] = "/audit?" + (data["exportQuery"] as? String ?? "") }
            return console.render("audit", page, data)
        } catch let error where error is InputError {
            let (problem, text) = console.message(for: error, page)
            data["error"] = text
            return console.render("audit", page, data, status: problem.status)
        }
    }

    /// The audit filters of the page's form (`after`: with the page cursor).
    static func auditForm(_ request: Request, after: Bool) throws -> AuditForm {
        func value(_ name: String) throws -> String? { try request.form[name].flatMap { $0.isEmpty ? nil : $0 } }
        return AuditForm(period: try period(request), actor: try value("actor"), action: try value("action"), subject: try value("subject"),
                         request: try value("request"), after: after ? try value("after") : nil)
    }

    /// The period from the date pickers (a `to` day is included whole: `Period`'s rule).
    static func period(_ request: Request) throws -> PeriodForm {
        func value(_ name: String) throws -> String? { try request.form[name].flatMap { $0.isEmpty ? nil : $0 } }
        return PeriodForm(from: try value("from"), to: try value("to"))
    }
}

extension ISO8601DateFormatter {
    static var dayOnly: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter
    }
}
