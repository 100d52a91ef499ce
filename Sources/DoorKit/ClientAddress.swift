import Foundation
import Hummingbird
import Operations

/// The client's address for the login budget and the logs. Behind a reverse proxy every request
/// comes from the proxy; its `Forwarded` (RFC 7239) or `X-Forwarded-For` names the client, but
/// only a proxy in `SPSE_TRUSTED_PROXIES` is believed — anyone else could name any address and
/// spend someone else's budget, or escape their own.
enum ClientAddress {
    /// Walks the forwarding chain from the nearest hop outwards and returns the first address that
    /// is not one of our proxies; the peer itself when it is not a trusted proxy.
    static func resolve(peer: String?, forwarded: String?, forwardedFor: String?, trusted: [AddressRange]) -> String? {
        guard let peer, !trusted.isEmpty, trusted.contains(where: { $0.contains(peer) }) else { return peer }
        let chain: [String]
        if let forwarded {
            chain = forwarded.split(separator: ",").compactMap { element in
                element.split(separator: ";").lazy.map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.lowercased().hasPrefix("for=") }.map { String($0.dropFirst(4)) }
            }
        } else if let forwardedFor {
            chain = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } else {
            return peer
        }
        let hops = chain.map(host)
        guard !hops.isEmpty, hops.allSatisfy({ AddressRange($0) != nil }) else { return peer }  // a malformed chain names nobody
        return hops.reversed().first { hop in !trusted.contains { $0.contains(hop) } } ?? hops.first
    }

    /// The address of a hop without quotes, brackets or port: `"[2001:db8::1]:4711"` → `2001:db8::1`.
    static func host(_ hop: String) -> String {
        var text = hop.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { return String(text[text.index(after: text.startIndex)..<close]) }
        if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") { text = String(text[..<colon]) }
        return text
    }
}

/// Puts the resolved client address into the context.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = DoorContext
    let trusted: [AddressRange]

    public init(trusted: [AddressRange]) { self.trusted = trusted }

    public func handle(_ request: Request, context: DoorContext, next: (Request, DoorContext) async throws -> Response) async throws -> Response {
        var context = context
        context.clientAddress = ClientAddress.resolve(
            peer: context.remotePeer, forwarded: request.headers[.init("Forwarded")!], forwardedFor: request.headers[.init("X-Forwarded-For")!],
            trusted: trusted)
        return try await next(request, context)
    }
}
