import DoorKit
import Hummingbird
import Logging
import Postgres

/// Turns every error a handler throws into a problem+json response, and logs the request with
/// its id, route, status and duration — never a body, password or token.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = DoorContext
    let metrics: APIMetrics

    func handle(_ request: Request, context: DoorContext, next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let problem = ProblemMapping.problem(for: error)
            if problem.status == .internalServerError {
                var metadata: Logger.Metadata = ["error_type": "\(type(of: error))"]
                // The SQLSTATE and constraint say what went wrong without any value a user sent.
                if case .server(let server) = error as? PostgresError {
                    metadata["sqlstate"] = "\(server.sqlState.code)"
                    metadata["constraint"] = "\(server.constraint ?? "-")"
                }
                context.logger.error("unhandled error", metadata: metadata)
            }
            response = problem.response(for: request, requestID: context.id)
        }
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "unmatched"
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        metrics.request(method: "\(request.method)", route: route, status: Int(response.status.code), seconds: seconds)
        context.logger.info("request", metadata: [
            "method": "\(request.method)", "route": "\(route)",
            "status": "\(response.status.code)", "ms": "\(Int(seconds * 1000))",
        ])
        return response
    }
}

/// Puts the configured JSON body limit into the context (`SPSE_JSON_MAX_BYTES`).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = DoorContext
    let jsonBodyLimit: Int

    func handle(_ request: Request, context: DoorContext, next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        var context = context
        context.jsonBodyLimit = jsonBodyLimit
        return try await next(request, context)
    }
}

/// Reads the bearer token, if any, and puts the session it stands for into the context. A
/// token that is invalid is a 401 right away, so no handler sees a stale session. Routes that
/// need no session (health, login) ignore whatever credentials come along — a stale token
/// never blocks a login — and so does every route for a scheme other than Bearer (a browser's
/// or proxy's `Basic`): those requests simply have no session.
struct SessionMiddleware: RouterMiddleware {
    typealias Context = DoorContext
    let operations: Operations
    static let publicPaths: Set<String> = ["/healthz", "/readyz", "/metrics", "/v1/auth/login", "/v1/auth/login/totp"]

    func handle(_ request: Request, context: DoorContext, next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        var context = context
        // The OpenID door's bearer tokens are its own access tokens, not sessions.
        if !Self.publicPaths.contains(request.uri.path), !request.uri.path.hasPrefix("/oauth/"), let header = request.headers[.authorization],
           header.lowercased().hasPrefix("bearer ") {
            guard header.count > 7 else { throw AccountsError.sessionInvalid }
            let token = SessionToken(presented: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
            context.session = try await operations.session(for: token)
            context.token = token
        }
        return try await next(request, context)
    }
}

import Accounts
import Operations
