import Foundation
import Gate
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL

/// Sends notices through an SMTP relay: EHLO, STARTTLS (required unless configured `none`),
/// AUTH PLAIN when credentials are set, one message per connection.
public struct SMTPNoticeSender: NoticeSender {
    /// The sealed channel: a sealed half goes to the e-mail on file, and nowhere else.
    public var isSealedChannel: Bool { true }
    let configuration: SMTPConfiguration
    let group: any EventLoopGroup

    public init(configuration: SMTPConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
    }

    public func send(_ notice: OutgoingNotice) async throws {
        guard notice.recipient.contains("@"), !notice.recipient.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) else {
            throw NoticeSenderError.undeliverable("\(notice.recipient) is not an e-mail address")
        }
        if configuration.username != nil, configuration.security == .none { throw SMTPError.credentialsWithoutTLS }
        let session = try await SMTPSession.connect(configuration, group: group)
        do {
            try await deliver(notice, over: session)
            await session.close()
        } catch {
            await session.close()
            throw error
        }
    }

    private func deliver(_ notice: OutgoingNotice, over session: SMTPSession) async throws {
        try await session.expect(220, after: "greeting")
        var features = try await session.command("EHLO \(configuration.heloName)", expect: 250)
        if configuration.security == .startTLS {
            guard features.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else { throw SMTPError.startTLSUnavailable }
            _ = try await session.command("STARTTLS", expect: 220)
            try await session.startTLS(host: configuration.host, caFile: configuration.caFile)
            features = try await session.command("EHLO \(configuration.heloName)", expect: 250)
        }
        if let username = configuration.username {
            let token = Data("\0\(username)\0\(configuration.password ?? "")".utf8).base64EncodedString()
            _ = try await session.command("AUTH PLAIN \(token)", expect: 235, verb: "AUTH")
        }
        _ = try await session.command("MAIL FROM:<\(configuration.from)>", expect: 250)
        _ = try await session.command("RCPT TO:<\(notice.recipient)>", expect: 250, orAlso: 251)
        _ = try await session.command("DATA", expect: 354)
        let message = MailMessage.render(
            notice, from: configuration.from, date: Date(),
            messageID: "\(notice.requestNumber).\(notice.step).\(notice.id)@\(configuration.from.split(separator: "@").last ?? "spse")")
        _ = try await session.command(MailMessage.dotStuffed(message) + ".", expect: 250, verb: "DATA (message)")
        _ = try? await session.command("QUIT", expect: 221)
    }
}

/// One SMTP connection: lines in, commands out, and the switch to TLS.
final class SMTPSession: Sendable {
    let channel: any Channel
    let lines: AsyncThrowingStream<String, any Error>
    let iterator: IteratorBox
    let timeout: TimeInterval

    final class IteratorBox: @unchecked Sendable {
        var iterator: AsyncThrowingStream<String, any Error>.AsyncIterator
        init(_ iterator: AsyncThrowingStream<String, any Error>.AsyncIterator) { self.iterator = iterator }
    }

    private init(channel: any Channel, lines: AsyncThrowingStream<String, any Error>, timeout: TimeInterval) {
        self.channel = channel
        self.lines = lines
        self.iterator = IteratorBox(lines.makeAsyncIterator())
        self.timeout = timeout
    }

    static func connect(_ configuration: SMTPConfiguration, group: any EventLoopGroup) async throws -> SMTPSession {
        let (stream, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(Int64(configuration.timeout)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(LineCollector(continuation))
                }
            }
            .connect(host: configuration.host, port: configuration.port).get()
        return SMTPSession(channel: channel, lines: stream, timeout: configuration.timeout)
    }

    /// Reads one reply (all its continuation lines) with a time limit.
    func reply() async throws -> (code: Int, lines: [String]) {
        var lines: [String] = []
        while true {
            let line = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask { try await self.iterator.iterator.next() }
                group.addTask {
                    try await Task.sleep(for: .seconds(self.timeout))
                    throw SMTPError.timeout
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
            guard let line else { throw SMTPError.connectionClosed }
            lines.append(String(line.dropFirst(4)))
            let bytes = Array(line.utf8)
            guard bytes.count >= 3, let code = Int(String(line.prefix(3))) else { throw SMTPError.connectionClosed }
            if bytes.count == 3 || bytes[3] == UInt8(ascii: " ") { return (code, lines) }
        }
    }

    func expect(_ code: Int, after what: String) async throws {
        let reply = try await reply()
        guard reply.code == code else { throw SMTPError.unexpectedReply(command: what, code: reply.code, text: reply.lines.joined(separator: " ")) }
    }

    /// Sends a command and checks the reply. `verb` names it in errors, so AUTH never shows its token.
    func command(_ text: String, expect code: Int, orAlso other: Int? = nil, verb: String? = nil) async throws -> [String] {
        try await channel.writeAndFlush(ByteBuffer(string: text + "\r\n")).get()
        let reply = try await reply()
        guard reply.code == code || reply.code == other else {
            let name = verb ?? String(text.prefix { $0 != " " && $0 != ":" })
            throw SMTPError.unexpectedReply(command: name, code: reply.code, text: reply.lines.joined(separator: " "))
        }
        return reply.lines
    }

    func startTLS(host: String, caFile: String?) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let caFile { tls.trustRoots = .file(caFile) }
        let context = try NIOSSLContext(configuration: tls)
        let handler = try NIOSSLClientHandler(context: context, serverHostname: host)
        try await channel.pipeline.addHandler(handler, position: .first).get()
    }

    func close() async {
        try? await channel.close().get()
    }
}

/// Turns decoded lines into the session's stream.
private final class LineCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncThrowingStream<String, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<String, any Error>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        var line = buffer.readString(length: buffer.readableBytes) ?? ""
        if line.hasSuffix("\r") { line.removeLast() }
        continuation.yield(line)
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
