import Federation
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// POSTs a logout token to an application's back-channel logout URI (OpenID Connect Back-Channel
/// Logout 1.0 §2.5): `application/x-www-form-urlencoded`, one connection per token, no redirect
/// followed, any 2xx is delivered. https is verified against the system's roots (or `caFile`).
public struct HTTPLogoutSender: LogoutSender {
    let timeout: TimeAmount
    let caFile: String?

    public init(timeout: Duration = .seconds(5), caFile: String? = nil) {
        self.timeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        self.caFile = caFile
    }

    public func post(logoutToken: String, to uri: String) async throws {
        guard let url = URLComponents(string: uri), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else { throw LogoutDeliveryError.unusableURI }
        let secure = scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        let connectHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var target = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { target += "?" + query }
        // A logout token is base64url and dots: nothing in it needs escaping in a form.
        let body = ByteBuffer(string: "logout_token=" + logoutToken)
        let tls: NIOSSLContext? = secure ? try {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let caFile { configuration.trustRoots = .file(caFile) }
            return try NIOSSLContext(configuration: configuration)
        }() : nil

        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let answered = eventLoop.makePromise(of: Int.self)
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: connectHost)) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusCollector(answered))
                }
            }
            .connect(host: connectHost, port: port).get()
        let deadline = eventLoop.scheduleTask(in: timeout) { answered.fail(LogoutDeliveryError.timeout) }
        defer { deadline.cancel(); channel.close(promise: nil) }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Cache-Control", value: "no-store")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "User-Agent", value: "spse-accounts back-channel logout")
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: target, headers: headers)), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let status = try await answered.futureResult.get()
        guard (200..<300).contains(status) else { throw LogoutDeliveryError.answered(status: status) }
    }
}

/// Completes with the response's status as soon as its head arrives; fails if the connection ends first.
private final class StatusCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let answered: EventLoopPromise<Int>

    init(_ answered: EventLoopPromise<Int>) { self.answered = answered }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) { answered.succeed(Int(head.status.code)) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answered.fail(ChannelError.eof)  // ignored once the status came
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answered.fail(error)
        context.close(promise: nil)
    }
}
