import Accounts
import Foundation
import Gate
import DoorKit
import Hummingbird
import Operations

/// Beranda: what waits for me, overdue first — the queue's open steps this role takes (Staf
/// Administrasi: intake, completeness, archive; Admin PPE: validity, execution, hand-over) — and
/// for the managed roles their own requests.
struct HomePage {
    let console: Console

    func addRoutes(to group: RouterGroup<DoorContext>) {
        group.get("beranda") { request, context -> Response in
            let page = console.page(request, context)
            let caller = try page.caller()
            var data: [String: Any?] = ["flash": console.flash(request, page)]
            if AccessPolicy.allows(caller.role, .readAllRequests) {
                let entries = try await console.operations.queue(QueueForm(), by: caller)
                    // The steps the standard gives the caller's role (a receipt an Admin PPE
                    // could confirm by hand at step 9 is the Staf's file, not the Admin's work).
                    .filter { entry in entry.holder == caller.role.rawValue }
                    .sorted { ($0.isOverdue ? 0 : 1, $0.secondsLeft ?? .infinity) < ($1.isOverdue ? 0 : 1, $1.secondsLeft ?? .infinity) }
                data["queue"] = ["hasEntries": !entries.isEmpty, "entries": entries.map { queueRow($0, page) }]
            }
            if AccessPolicy.managedRoles.contains(caller.role) {
                let requests = try await console.operations.myRequests(by: caller)
                data["mine"] = [
                    "hasRequests": !requests.isEmpty,
                    "requests": requests.map { request -> [String: Any] in
                        ["number": request.number, "stateName": console.t("state_\(request.state.rawValue)", page),
                         "created": Formatting.time(request.createdAt) ?? ""]
                    },
                ]
            }
            // Whoever reads the reports but has no queue gets them on the home page.
            if !AccessPolicy.allows(caller.role, .readAllRequests) && AccessPolicy.allows(caller.role, .readSLAReports) { data["auditorLinks"] = true }
            return console.render("home", page, data)
        }
    }

    func queueRow(_ entry: QueueEntry, _ page: Page) -> [String: Any] {
        var row: [String: Any] = [
            "number": entry.number, "stepName": console.t("step_\(entry.step)", page),
            "priorityName": console.t("priority_\(entry.priority.rawValue)", page), "overdue": entry.isOverdue, "online": entry.isOnline,
        ]
        if let left = entry.secondsLeft, let limit = entry.limitMinutes {
            row["deadline"] = Formatting.iso(SLA.deadline(startedAt: entry.dueSince, limitMinutes: limit))
            row["left"] = Formatting.clock(left)
        }
        if let abandons = entry.abandonsAt {
            row["abandons"] = Formatting.time(abandons)
            row["abandonsISO"] = Formatting.iso(abandons)
        }
        return row
    }
}
