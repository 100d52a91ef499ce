import DoorKit
import Foundation
import Gate
import Hummingbird
import Operations

/// `/v1/standards`, `/v1/deviations` and `/v1/archive`: the SOP's standards, the deviations
/// the actors explain, and the retention purge.
struct StandardsController: Sendable {
    let operations: Operations

    struct PriorityLimitBody: Decodable {
        let step6Minutes: Int?
        enum CodingKeys: String, CodingKey { case step6Minutes = "step6_minutes" }
    }
    struct ExplanationBody: Decodable {
        let explanation: String?
    }

    func addRoutes(to router: Router<DoorContext>) {
        router.get("v1/standards/priorities") { _, context -> JSONResponse<[PriorityLimit]> in
            JSONResponse(try await operations.priorityLimits(by: try context.caller()))
        }
        router.put("v1/standards/priorities/:priority") { request, context -> JSONResponse<[PriorityLimit]> in
            let caller = try context.caller()
            let priority = context.parameters.get("priority") ?? ""
            return JSONResponse(try await operations.setPriorityLimit(by: caller, priority: priority) {
                let body = try await request.decodeStrict(PriorityLimitBody.self, fields: ["step6_minutes"], limit: context.jsonBodyLimit)
                return body.step6Minutes
            })
        }
        router.get("v1/deviations") { request, context -> JSONResponse<[Deviation]> in
            let caller = try context.caller()
            let query = request.form
            return JSONResponse(try await operations.deviations(
                DeviationForm(actor: try query["actor"], unexplained: try query["unexplained"], page: try query["page"]), by: caller))
        }
        router.post("v1/deviations/:id/explanation") { request, context -> JSONResponse<Deviation> in
            let caller = try context.caller()
            return JSONResponse(try await operations.explainDeviation(context.parameters.get("id") ?? "", by: caller) {
                try await request.decodeStrict(ExplanationBody.self, fields: ["explanation"], limit: context.jsonBodyLimit).explanation
            })
        }
        router.post("v1/archive/purge") { request, context -> JSONResponse<[PurgedFile]> in
            let caller = try context.caller()
            try await RequestsController.requireNoFields(request)
            return JSONResponse(try await operations.purgeDocuments(by: caller))
        }
    }
}
