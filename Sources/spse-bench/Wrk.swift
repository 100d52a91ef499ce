import Foundation

/// wrk (Debian's `wrk`), driven with a Lua script, and the figures read from its report.
struct Wrk {
    struct Figures {
        var requests = 0
        var seconds = 0.0
        var non2xx = 0
        var socketErrors = (connect: 0, read: 0, write: 0, timeout: 0)
        var p50 = 0.0
        var p99 = 0.0
        var maxLatency = 0.0
        var requestsPerSecond: Double { seconds > 0 ? Double(requests) / seconds : 0 }
        var okPerSecond: Double { seconds > 0 ? Double(requests - non2xx) / seconds : 0 }
    }

    static func run(port: Int, path: String, connections: Int, seconds: Int, script: String, timeout: Int = 10,
                    environment extra: [String: String] = [:]) throws -> Figures {
        let scriptPath = NSTemporaryDirectory() + "spse-bench-\(UUID().uuidString).lua"
        try Data(script.utf8).write(to: URL(fileURLWithPath: scriptPath))
        defer { unlink(scriptPath) }
        let process = Process()
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw BenchError("wrk is not installed: apt-get install -y wrk")
        }
        process.executableURL = URL(fileURLWithPath: wrk)
        let threads = min(2, connections)
        process.arguments = ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--timeout", "\(timeout)s", "--latency", "-s", scriptPath,
                             "http://127.0.0.1:\(port)\(path)"]
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BenchError("wrk failed: \(text)") }
        return parse(text)
    }

    static func parse(_ text: String) -> Figures {
        var figures = Figures()
        for raw in text.split(separator: "\n") {
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
            guard let first = fields.first else { continue }
            switch first {
            case "50%": figures.p50 = milliseconds(fields[1])
            case "99%": figures.p99 = milliseconds(fields[1])
            case "Latency" where fields.count >= 4: figures.maxLatency = milliseconds(fields[3])
            case "Non-2xx": figures.non2xx = Int(fields.last ?? "") ?? 0
            case "Socket":
                // Socket errors: connect 0, read 0, write 0, timeout 0
                func value(_ name: String) -> Int { fields.firstIndex(of: name).flatMap { Int(fields[$0 + 1]) } ?? 0 }
                figures.socketErrors = (value("connect"), value("read"), value("write"), value("timeout"))
            default:
                // "12345 requests in 30.01s, 3.2MB read"
                if fields.count >= 4, fields[1] == "requests", fields[2] == "in", let requests = Int(first) {
                    figures.requests = requests
                    figures.seconds = Double(fields[3].dropLast()) ?? 0
                }
            }
        }
        return figures
    }

    /// wrk prints 812.00us, 1.23ms, 2.01s or 1.00m.
    static func milliseconds(_ text: String) -> Double {
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0)] where text.hasSuffix(unit) {
            return (Double(text.dropLast(unit.count)) ?? 0) * factor
        }
        return Double(text) ?? 0
    }
}
