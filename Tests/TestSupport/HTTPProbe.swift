import Foundation

/// A plain HTTP/1.1 GET over a loopback socket, for tests that watch a spawned server: the status
/// code, or 0 when nothing answered (refused, reset, timed out).
public enum HTTPProbe {
    public static func status(port: Int, path: String, timeoutSeconds: Int = 2) -> Int {
        request(port: port, method: "GET", path: path, timeoutSeconds: timeoutSeconds).status
    }
}

extension HTTPProbe {
    /// A port for a spawned server: below the kernel's ephemeral range (32768 and up), where the
    /// tests' own client connections take their ports, and free to bind at the time of asking.
    public static func freePort() -> Int {
        while true {
            let port = Int.random(in: 20_000..<32_768)
            if canBind(port) { return port }
        }
    }

    /// Whether something accepts TCP connections on the loopback port (a TLS listener, say).
    public static func accepts(port: Int) -> Bool { onLoopback(port, connect) }

    private static func canBind(_ port: Int) -> Bool { onLoopback(port, bind) }

    /// `call` (connect or bind) on a fresh TCP socket with 127.0.0.1:port; true when it succeeded.
    private static func onLoopback(_ port: Int, _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// One HTTP/1.1 request with an optional JSON body: the status and the body, (0, "") when
    /// nothing answered.
    public static func request(port: Int, method: String, path: String, headers: [String: String] = [:], body: String? = nil,
                               timeoutSeconds: Int = 5) -> (status: Int, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return (0, "") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return (0, "") }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body {
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) { text += "Content-Type: application/json\r\n" }
            text += "Content-Length: \(body.utf8.count)\r\n"
        }
        text += "\r\n" + (body ?? "")
        let bytes = Array(text.utf8)
        guard send(fd, bytes, bytes.count, 0) == bytes.count else { return (0, "") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let read = recv(fd, &buffer, buffer.count, 0)
            if read <= 0 { break }
            response += buffer[0..<read]
        }
        let all = String(decoding: response, as: UTF8.self)
        let status = Int(all.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = all.range(of: "\r\n\r\n").map { String(all[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
