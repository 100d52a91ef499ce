import DoorKit
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

    /// A session (`ok`, `password_change_required`, `totp_enrolment_required`), or the challenge
    /// the code completes (`totp_required`).
    struct LoginAnswer: Encodable, Sendable {
        let outcome: String
        var token: String? = nil
        var scope: String? = nil
        var userID: String? = nil
        var role: String? = nil
        let expiresAt: Date
        var challenge: String? = nil
        enum CodingKeys: String, CodingKey { case outcome, token, scope, userID = "user_id", role, expiresAt = "expires_at", challenge }
    }

    struct CodeBody: Decodable {
        let code: String
    }
    struct ChallengeBody: Decodable {
        let challenge: String
        let code: String
    }
    struct EnrolmentView: Encodable, Sendable {
        let secret: String
        let otpauthURI: String
        enum CodingKeys: String, CodingKey { case secret, otpauthURI = "otpauth_uri" }
    }
    struct RecoveryCodesView: Encodable, Sendable {
        let recoveryCodes: [String]
        enum CodingKeys: String, CodingKey { case recoveryCodes = "recovery_codes" }
    }
    struct StepUpView: Encodable, Sendable {
        let steppedUpAt: Date
        enum CodingKeys: String, CodingKey { case steppedUpAt = "stepped_up_at" }
    }

    struct PasswordBody: Decodable {
        let currentPassword: String
        let newPassword: String
        enum CodingKeys: String, CodingKey { case currentPassword = "current_password", newPassword = "new_password" }
    }

    func addRoutes(to router: Router<DoorContext>) {
        let group = router.group("v1/auth")
        group.post("login", use: login)
        group.post("login/totp") { request, context -> JSONResponse<LoginAnswer> in
            let body = try await request.decodeStrict(ChallengeBody.self, fields: ["challenge", "code"], limit: context.jsonBodyLimit)
            return try await answer(try await operations.completeLogin(challenge: body.challenge, code: body.code, from: context.remoteAddress))
        }
        group.post("totp/enrol") { request, context -> Response in
            guard let token = context.token else { throw DoorError.unauthenticated }
            try await RequestsController.requireNoFields(request)
            let enrolment = try await operations.beginTOTPEnrolment(token: token)
            return try Self.secret(JSONResponse(EnrolmentView(secret: enrolment.secret, otpauthURI: enrolment.uri)), request, context)
        }
        group.post("totp/confirm") { request, context -> Response in
            guard let token = context.token else { throw DoorError.unauthenticated }
            let body = try await request.decodeStrict(CodeBody.self, fields: ["code"], limit: context.jsonBodyLimit)
            let codes = try await operations.confirmTOTPEnrolment(token: token, code: body.code, from: context.remoteAddress)
            return try Self.secret(JSONResponse(RecoveryCodesView(recoveryCodes: codes)), request, context)
        }
        group.post("step-up") { request, context -> JSONResponse<StepUpView> in
            guard let token = context.token else { throw DoorError.unauthenticated }
            _ = try context.caller()
            let body = try await request.decodeStrict(CodeBody.self, fields: ["code"], limit: context.jsonBodyLimit)
            return JSONResponse(StepUpView(steppedUpAt: try await operations.stepUp(token: token, code: body.code, from: context.remoteAddress)))
        }
        group.post("password") { request, context -> Response in
            guard let token = context.token else { throw DoorError.unauthenticated }
            let body = try await request.decodeStrict(PasswordBody.self, fields: ["current_password", "new_password"], limit: context.jsonBodyLimit)
            try await operations.changePassword(token: token, current: body.currentPassword, new: body.newPassword, from: context.remoteAddress)
            return Response(status: .noContent)
        }
        group.post("logout") { _, context -> Response in
            guard let token = context.token else { throw DoorError.unauthenticated }
            try await operations.logout(token)
            return Response(status: .noContent)
        }
        // One's own account, any role: its facts, second factor and live sessions; ending the others.
        router.get("v1/me") { _, context -> JSONResponse<MyAccountView> in
            guard let token = context.token else { throw DoorError.unauthenticated }
            _ = try context.caller()
            return JSONResponse(MyAccountView(try await operations.myAccount(token: token)))
        }
        router.delete("v1/me/sessions") { _, context -> JSONResponse<EndedSessionsView> in
            guard let token = context.token else { throw DoorError.unauthenticated }
            _ = try context.caller()
            return JSONResponse(EndedSessionsView(ended: try await operations.endOtherSessions(nil, token: token)))
        }
        router.delete("v1/me/sessions/:handle") { _, context -> JSONResponse<EndedSessionsView> in
            guard let token = context.token else { throw DoorError.unauthenticated }
            _ = try context.caller()
            return JSONResponse(EndedSessionsView(ended: try await operations.endOtherSessions(context.parameters.get("handle") ?? "", token: token)))
        }
    }

    @Sendable func login(_ request: Request, context: DoorContext) async throws -> JSONResponse<LoginAnswer> {
        let body = try await request.decodeStrict(LoginBody.self, fields: ["user_id", "password"], limit: context.jsonBodyLimit)
        let outcome: LoginOutcome
        do {
            outcome = try await operations.login(userID: body.userID, password: body.password, from: context.remoteAddress)
        } catch AccountsError.throttled(let seconds) {
            metrics.login(outcome: "throttled")
            throw AccountsError.throttled(retryAfter: seconds)
        }
        return try await answer(outcome)
    }

    /// A login outcome as the API answers it.
    func answer(_ outcome: LoginOutcome) async throws -> JSONResponse<LoginAnswer> {
        metrics.login(outcome: outcome.code)
        switch outcome {
        case .ok(let token, let session), .passwordChangeRequired(let token, let session), .totpEnrolmentRequired(let token, let session):
            return JSONResponse(answer(outcome.code, token, session))
        case .totpRequired(let challenge):
            return JSONResponse(LoginAnswer(outcome: outcome.code, expiresAt: challenge.expiresAt, challenge: challenge.token))
        case .invalidCredentials, .temporaryPasswordExpired, .locked, .disabled:
            throw LoginRefusal.refusal(of: outcome) ?? AccountsError.invalidCredentials
        }
    }

    /// An answer carrying a secret shown once: never cached.
    static func secret<T: Encodable>(_ json: JSONResponse<T>, _ request: Request, _ context: DoorContext) throws -> Response {
        var response = try json.response(from: request, context: context)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func answer(_ outcome: String, _ token: SessionToken, _ session: Session) -> LoginAnswer {
        LoginAnswer(outcome: outcome, token: token.value, scope: session.scope.rawValue, userID: session.userID.value,
                    role: session.role.rawValue, expiresAt: session.expiresAt)
    }
}
