import DoorKit
import Accounts
import Foundation
import Hummingbird
import Inputs
import Operations

/// `/v1/accounts`: lookup, create, show, disable/enable, unlock — for the LPSE's operators.
struct AccountsController: Sendable {
    let operations: Operations

    struct CreateBody: Decodable {
        let userID: String
        let role: String
        let fullName: String
        let nip: String?
        let email: String
        let agency: String
        enum CodingKeys: String, CodingKey { case userID = "user_id", role, fullName = "full_name", nip, email, agency }
    }

    func addRoutes(to router: Router<DoorContext>) {
        let group = router.group("v1/accounts")
        group.get { request, context -> JSONResponse<LookupView> in
            let caller = try context.caller()
            let query = request.form
            let result = try await operations.lookUpAccounts(
                LookupForm(q: try query["q"], role: try query["role"], agency: try query["agency"], page: try query["page"], reason: try Self.reason(request)),
                by: caller)
            return JSONResponse(LookupView(result))
        }
        group.post { request, context -> Response in
            let created = try await operations.createAccount(by: try context.caller()) {
                let body = try await request.decodeStrict(CreateBody.self, fields: ["user_id", "role", "full_name", "nip", "email", "agency"], limit: context.jsonBodyLimit)
                return NewAccountForm(userID: body.userID, role: body.role, fullName: body.fullName, nip: body.nip, email: body.email, agency: body.agency)
            }
            var response = try JSONResponse(
                CreatedAccountView(account: created.account, password: created.password, expiresAt: created.expiresAt), status: .created
            ).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        group.get(":userId") { request, context -> JSONResponse<AccountView> in
            let caller = try context.caller()  // authenticate before reading anything else of the request
            let account = try await operations.showAccount(context.parameters.get("userId") ?? "", reason: try Self.reason(request), by: caller)
            return JSONResponse(AccountView(account))
        }
        for (verb, status) in [("disable", AccountStatus.disabled), ("enable", .active)] {
            group.post(":userId/\(verb)") { _, context -> Response in
                try await operations.setAccountStatus(context.parameters.get("userId") ?? "", to: status, by: try context.caller())
                return Response(status: .noContent)
            }
        }
        group.post(":userId/reset-password") { request, context -> Response in
            struct Body: Decodable { let reason: String }
            let reset = try await operations.resetOperatorPassword(context.parameters.get("userId") ?? "", by: try context.caller()) {
                try await request.decodeStrict(Body.self, fields: ["reason"], limit: context.jsonBodyLimit).reason
            }
            var response = try JSONResponse(TemporaryPasswordView(temporaryPassword: reset.password.reveal, expiresAt: reset.expiresAt))
                .response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        group.post(":userId/totp/reset") { request, context -> Response in
            struct Body: Decodable { let reason: String }
            try await operations.resetSecondFactor(context.parameters.get("userId") ?? "", by: try context.caller()) {
                try await request.decodeStrict(Body.self, fields: ["reason"], limit: context.jsonBodyLimit).reason
            }
            return Response(status: .noContent)
        }
        group.post(":userId/unlock") { _, context -> Response in
            try await operations.unlockAccount(context.parameters.get("userId") ?? "", by: try context.caller())
            return Response(status: .noContent)
        }
    }

    /// Why the operator looks: the X-Lookup-Reason header, else the reason parameter (a request
    /// number or free text). The header wins; a parameter sent beside it is held to the same rule,
    /// so no value reaches the service unchecked.
    static func reason(_ request: Request) throws -> String? {
        let header = request.headers[.init("X-Lookup-Reason")!]
        let parameter = try request.form["reason"]
        if header != nil, let parameter { _ = try FreeText.optional(parameter, field: "reason") }
        return header ?? parameter
    }
}
