import Accounts
import Foundation
import Hummingbird
import Postgres

/// `/v1/accounts`: lookup, create, show, disable/enable, unlock — for the LPSE's operators.
struct AccountsController: Sendable {
    let directory: AccountDirectory
    let credentials: Credentials
    let pool: ConnectionPool




    struct CreateBody: Decodable {
        let userID: String
        let role: String
        let fullName: String
        let nip: String?
        let email: String
        let agency: String
        enum CodingKeys: String, CodingKey { case userID = "user_id", role, fullName = "full_name", nip, email, agency }
    }

    static let operators: Set<Role> = [.adminPPE, .stafAdministrasi]

    func addRoutes(to router: Router<APIContext>) {
        let group = router.group("v1/accounts")
        group.get { request, context -> JSONResponse<LookupView> in
            let session = try context.require(Self.operators)
            let query = request.uri.queryParameters
            guard let text = query["q"].map(String.init), !text.isEmpty else { throw APIError.badRequest("q is required") }
            let page = try query["page"].map { value -> Int in
                guard let page = Int(value), page >= 1 else { throw APIError.badRequest("page must be a whole number ≥ 1") }
                return page
            } ?? 1
            let role = try query["role"].map { try Role(parsing: String($0)) }
            let reason = Self.reason(request) ?? ""
            let result = try await directory.lookup(
                LookupQuery(text: text, role: role, agency: query["agency"].map(String.init), page: page),
                by: Operator(userID: session.userID, role: session.role), reason: reason)
            return JSONResponse(LookupView(result))
        }
        group.post { request, context -> Response in
            let session = try context.require([.adminPPE])
            let body = try await request.decodeStrict(CreateBody.self, fields: ["user_id", "role", "full_name", "nip", "email", "agency"], limit: context.jsonBodyLimit)
            let new = NewAccount(
                userID: try UserID(body.userID), role: try Role(parsing: body.role), fullName: try FullName(body.fullName),
                nip: try body.nip.map { try NIP($0) }, email: try EmailAddress(body.email), agency: try Agency(body.agency))
            let created = try await credentials.enrol(new, in: directory, by: Operator(userID: session.userID, role: session.role))
            var response = try JSONResponse(
                CreatedAccountView(account: created.account, password: created.password, expiresAt: created.expiresAt), status: .created
            ).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        group.get(":userId") { request, context -> JSONResponse<AccountView> in
            let session = try context.require(Self.operators)
            let userID = try Self.userID(context)
            let reason = Self.reason(request) ?? "show"
            let account = try await directory.show(userID, by: Operator(userID: session.userID, role: session.role), reason: reason)
            return JSONResponse(AccountView(account))
        }
        for (verb, status) in [("disable", AccountStatus.disabled), ("enable", .active)] {
            group.post(":userId/\(verb)") { _, context -> Response in
                let session = try context.require([.adminPPE])
                try await directory.setStatus(status, of: try Self.userID(context), by: Operator(userID: session.userID, role: session.role))
                return Response(status: .noContent)
            }
        }
        group.post(":userId/unlock") { _, context -> Response in
            let session = try context.require([.adminPPE])
            try await directory.unlock(try Self.userID(context), by: Operator(userID: session.userID, role: session.role))
            return Response(status: .noContent)
        }
    }

    /// Why the operator looks: the X-Lookup-Reason header or the reason parameter (a request number or free text).
    static func reason(_ request: Request) -> String? {
        request.headers[.init("X-Lookup-Reason")!] ?? request.uri.queryParameters["reason"].map(String.init)
    }

    static func userID(_ context: APIContext) throws -> UserID {
        guard let text = context.parameters.get("userId") else { throw APIError.notFound }
        do { return try UserID(text) } catch { throw APIError.badRequest("\(text) is not a user ID") }
    }
}
