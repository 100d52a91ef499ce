import Accounts
import Foundation
import Hummingbird
import Postgres

/// `/v1/accounts`: lookup, create, show, disable/enable, unlock — for the LPSE's operators.
struct AccountsController: Sendable {
    let directory: AccountDirectory
    let credentials: Credentials
    let pool: ConnectionPool

    struct AccountView: Encodable, Sendable {
        let userID: String
        let role: String
        let fullName: String
        let nip: String?
        let email: String
        let agency: String
        let status: String
        let mustChangePassword: Bool
        let lockedUntil: Date?
        let createdAt: Date
        let updatedAt: Date

        init(_ account: Account) {
            userID = account.userID.value
            role = account.role.rawValue
            fullName = account.fullName.value
            nip = account.nip?.value
            email = account.email.value
            agency = account.agency.value
            status = account.status.rawValue
            mustChangePassword = account.mustChangePassword
            lockedUntil = account.lockedUntil
            createdAt = account.createdAt
            updatedAt = account.updatedAt
        }

        enum CodingKeys: String, CodingKey {
            case userID = "user_id", role, fullName = "full_name", nip, email, agency, status
            case mustChangePassword = "must_change_password", lockedUntil = "locked_until", createdAt = "created_at", updatedAt = "updated_at"
        }
    }

    /// A new account and its first temporary password, shown this once.
    struct CreatedView: Encodable, Sendable {
        let account: AccountView
        let temporaryPassword: String
        let temporaryPasswordExpiresAt: Date
        enum CodingKeys: String, CodingKey {
            case account, temporaryPassword = "temporary_password", temporaryPasswordExpiresAt = "temporary_password_expires_at"
        }
    }

    struct LookupView: Encodable, Sendable {
        let matchedBy: String
        let page: Int
        let hasMore: Bool
        let accounts: [AccountView]
        enum CodingKeys: String, CodingKey { case matchedBy = "matched_by", page, hasMore = "has_more", accounts }
    }

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
            return JSONResponse(LookupView(matchedBy: result.matchedBy, page: result.page, hasMore: result.hasMore, accounts: result.accounts.map(AccountView.init)))
        }
        group.post { request, context -> Response in
            let session = try context.require([.adminPPE])
            let body = try await request.decodeStrict(CreateBody.self, fields: ["user_id", "role", "full_name", "nip", "email", "agency"], limit: context.jsonBodyLimit)
            let new = NewAccount(
                userID: try UserID(body.userID), role: try Role(parsing: body.role), fullName: try FullName(body.fullName),
                nip: try body.nip.map { try NIP($0) }, email: try EmailAddress(body.email), agency: try Agency(body.agency))
            // The Admin PPE gives a new account its user ID and a first password, which must be changed at first login.
            let prepared = try await credentials.prepareTemporaryPassword()
            let (account, expiresAt) = try await pool.withTransaction { connection in
                let account = try await directory.create(new, by: session.userID.value, on: connection)
                let expiresAt = try await credentials.installTemporaryPassword(
                    prepared, accountID: account.id, actor: session.userID.value, requestID: nil, on: connection)
                return (account, expiresAt)
            }
            var response = try JSONResponse(
                CreatedView(account: AccountView(account), temporaryPassword: prepared.password.reveal, temporaryPasswordExpiresAt: expiresAt),
                status: .created
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
