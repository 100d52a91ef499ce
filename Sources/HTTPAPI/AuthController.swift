import Accounts
import Foundation
import Hummingbird
import Logging
import Operations

/// `/v1/auth`: login, password change (the change-only session's one door), logout.
struct AuthController: Sendable {
    let operations: Operations
    let metrics: APIMetrics

    struct LoginBody: Decodable {
        let userID: String
        let password: String
        enum CodingKeys: String, CodingKey { case userID = "user_id", password }
    }

    struct LoginAnswer: Encodable, Sendable {
        let outcome: String
        let token: String
        let scope: String
        let userID: String
        let role: String
        let expiresAt: Date
        enum CodingKeys: String, CodingKey { case outcome, token, scope, userID = "user_id", role, expiresAt = "expires_at" }
    }

    struct PasswordBody: Decodable {
        let currentPassword: String
        let newPassword: String
        enum CodingKeys: String, CodingKey { case currentPassword = "current_password", newPassword = "new_password" }
    }

    func addRoutes(to router: Router<APIContext>) {
        let group = router.group("v1/auth")
        group.post("login", use: login)
        group.post("password") { request, context -> Response in
            guard let token = context.token else { throw APIError.unauthenticated }
            let body = try await request.decodeStrict(PasswordBody.self, fields: ["current_password", "new_password"], limit: context.jsonBodyLimit)
            try await operations.changePassword(token: token, current: body.currentPassword, new: body.newPassword, from: context.remoteAddress)
            return Response(status: .noContent)
        }
        group.post("logout") { _, context -> Response in
            guard let token = context.token else { throw APIError.unauthenticated }
            try await operations.logout(token)
            return Response(status: .noContent)
        }
    }

    @Sendable func login(_ request: Request, context: APIContext) async throws -> JSONResponse<LoginAnswer> {
        let body = try await request.decodeStrict(LoginBody.self, fields: ["user_id", "password"], limit: context.jsonBodyLimit)
        let outcome: LoginOutcome
        do {
            outcome = try await operations.login(userID: body.userID, password: body.password, from: context.remoteAddress)
        } catch AccountsError.throttled(let seconds) {
            metrics.login(outcome: "throttled")
            throw AccountsError.throttled(retryAfter: seconds)
        }
        metrics.login(outcome: outcome.code)
        switch outcome {
        case .ok(let token, let session):
            return JSONResponse(answer("ok", token, session))
        case .passwordChangeRequired(let token, let session):
            return JSONResponse(answer("password_change_required", token, session))
        case .invalidCredentials:
            throw AccountsError.invalidCredentials
        case .temporaryPasswordExpired:
            throw LoginRefusal.temporaryPasswordExpired
        case .locked(let retryAfter):
            throw LoginRefusal.locked(retryAfter: Int(retryAfter.rounded(.up)))
        case .disabled:
            throw LoginRefusal.disabled
        }
    }

    private func answer(_ outcome: String, _ token: SessionToken, _ session: Session) -> LoginAnswer {
        LoginAnswer(outcome: outcome, token: token.value, scope: session.scope.rawValue, userID: session.userID.value,
                    role: session.role.rawValue, expiresAt: session.expiresAt)
    }
}

/// Login outcomes that are refusals, mapped with the others in `ProblemMapping`.
enum LoginRefusal: Error, Equatable {
    case temporaryPasswordExpired
    case locked(retryAfter: Int)
    case disabled
}

extension APIContext {
    /// The client's address without the port, for the per-address login budget.
    public var remoteAddress: String { clientAddress ?? remotePeer ?? "unknown" }
}
