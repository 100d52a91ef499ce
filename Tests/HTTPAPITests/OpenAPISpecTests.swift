import Foundation
import HTTPAPI
import Hummingbird
import Testing
import TestSupport

@Suite("OpenAPI document")
struct OpenAPISpecTests {
    /// `METHOD /path/{param}` for every operation in docs/openapi.yaml (its paths block is plain
    /// two-space YAML: a path per line at indent 2, its methods at indent 4).
    static func specOperations() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        var operations = Set<String>()
        var inPaths = false
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, let first = line.first, first != " " { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                current = String(line.dropFirst(2).dropLast())
            } else if let current, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).prefix { $0 != ":" }
                if ["get", "post", "put", "patch", "delete"].contains(key) { operations.insert("\(key.uppercased()) \(current)") }
            }
        }
        return operations
    }

    @Test("every route in the router is in docs/openapi.yaml, and every operation there is routed")
    func routesMatchSpec() async throws {
        let pool = ConnectionPool(configuration: .init(conninfo: "host=/nonexistent"), maxConnections: 1)
        let router = Server.router(try await apiServices(pool, clock: SettableClock()))
        let routed = Set(router.routes.map { route -> String in
            let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            return "\(route.method) /" + path.joined(separator: "/")
        })
        let specified = try Self.specOperations()
        #expect(specified.count >= 25)
        #expect(routed.subtracting(specified).isEmpty, "routed but not in the spec: \(routed.subtracting(specified).sorted())")
        #expect(specified.subtracting(routed).isEmpty, "in the spec but not routed: \(specified.subtracting(routed).sorted())")
    }

    @Test("every field the step answer can carry (sealed delivery's halves included) is declared in ActionResult, which forbids others")
    func actionResultDeclaresEveryField() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/openapi.yaml").standardized
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex(of: "    ActionResult:"))
        var declared = Set<String>()
        var inProperties = false
        for line in lines[(start + 1)...] {
            if line.hasPrefix("    "), !line.hasPrefix("     ") { break }  // the next schema
            if line == "      properties:" { inProperties = true; continue }
            if inProperties, line.hasPrefix("        "), !line.hasPrefix("         ") {
                declared.insert(String(line.trimmingCharacters(in: .whitespaces).prefix { $0 != ":" }))
            }
        }
        #expect(Set(ActionView.fields).subtracting(declared).isEmpty, "sent but not declared: \(Set(ActionView.fields).subtracting(declared).sorted())")
    }
}

import Postgres
