import Accounts
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TestSupport

/// One bad input, as the HTTP API and the CLI each take it, and the field both must name.
struct BadInput: Sendable, CustomTestStringConvertible {
    let name: String
    let http: (method: HTTPRequest.Method, uri: String, body: String?)
    let cli: [String]
    let field: String
    var testDescription: String { name }
}

let longName = String(repeating: "Sekar ", count: 40)

let badInputs: [BadInput] = [
    BadInput(name: "a control character in the lookup text", http: (.get, "/v1/accounts?q=a%07b&reason=r", nil),
             cli: ["account", "lookup", "a\u{7}b", "--reason", "r"], field: "q"),
    BadInput(name: "a page that overflows Int", http: (.get, "/v1/accounts?q=Sekar&reason=r&page=99999999999999999999", nil),
             cli: ["account", "lookup", "Sekar", "--reason", "r", "--page", "99999999999999999999"], field: "page"),
    BadInput(name: "a page past the last allowed", http: (.get, "/v1/accounts?q=Sekar&reason=r&page=10001", nil),
             cli: ["account", "lookup", "Sekar", "--reason", "r", "--page", "10001"], field: "page"),
    BadInput(name: "a control character in the lookup reason", http: (.get, "/v1/accounts?q=Sekar&reason=x%1By", nil),
             cli: ["account", "lookup", "Sekar", "--reason", "x\u{1B}y"], field: "reason"),
    BadInput(name: "an SLA period starting before 1900", http: (.get, "/v1/reports/sla?from=0000-12-31", nil),
             cli: ["report", "sla", "--from", "0000-12-31"], field: "from"),
    BadInput(name: "an SLA period that ends before it starts", http: (.get, "/v1/reports/sla?from=2026-12-01&to=2026-11-01", nil),
             cli: ["report", "sla", "--from", "2026-12-01", "--to", "2026-11-01"], field: "from"),
    BadInput(name: "an audit period ending after 9999", http: (.get, "/v1/audit?to=10000-01-01", nil),
             cli: ["audit", "export", "--to", "10000-01-01"], field: "to"),
    BadInput(name: "a control character in the audit actor filter", http: (.get, "/v1/audit?actor=a%01b", nil),
             cli: ["audit", "export", "--actor", "a\u{1}b"], field: "actor"),
    BadInput(name: "an unknown queue state", http: (.get, "/v1/requests?state=lost", nil),
             cli: ["request", "list", "--state", "lost"], field: "state"),
    BadInput(name: "a NIP in the subject hint that is no NIP",
             http: (.post, "/v1/requests", #"{"kinds":["reset_password"],"subject":{"nip":"123456789012345678"},"requester_name":"Sekar","requester_contact":"sekar@purbalinggakab.go.id","channel":"hardcopy"}"#),
             cli: ["request", "submit", "--kind", "reset_password", "--subject-nip", "123456789012345678", "--requester-name", "Sekar",
                   "--requester-contact", "sekar@purbalinggakab.go.id", "--channel", "hardcopy"], field: "subject.nip"),
    BadInput(name: "a requester name over 200 characters",
             http: (.post, "/v1/requests", #"{"kinds":["reset_password"],"subject":{"user_id":"helpdesk01"},"requester_name":"\#(longName)x","requester_contact":"sekar@purbalinggakab.go.id","channel":"hardcopy"}"#),
             cli: ["request", "submit", "--kind", "reset_password", "--subject-user-id", "helpdesk01", "--requester-name", longName + "x",
                   "--requester-contact", "sekar@purbalinggakab.go.id", "--channel", "hardcopy"], field: "requester_name"),
    BadInput(name: "a request reference that is neither id nor number", http: (.get, "/v1/requests/REQ-ABC", nil),
             cli: ["request", "show", "REQ-ABC"], field: "id"),
]

@Suite("The same bad input gets the same refusal over HTTP and in the CLI")
struct SameRefusalTests {
    @Test("HTTP answers 422 invalid_input naming the field; the CLI exits 1 with the same code and field", arguments: badInputs)
    func sameRefusal(input: BadInput) async throws {
        try await CLI.with { cli in
            // The submit cases need a Staf Administrasi; the others run as the Admin PPE.
            let staf = try await cli.fixture.directory.create(
                NewAccount(userID: try UserID("staf.adm"), role: .stafAdministrasi, fullName: try FullName("Dewi Lestari"), nip: nil,
                           email: try EmailAddress("dewi@purbalinggakab.go.id"), agency: try Agency("LPSE Kabupaten Purbalingga")),
                by: cli.fixture.admin)
            _ = try await cli.fixture.firstLogin("staf.adm", temporary: try await cli.fixture.reset(staf), password: cli.password)
            let asStaf = input.cli.first == "request"
            guard case .ok(let token, _) = try await cli.fixture.credentials.login(userID: asStaf ? "staf.adm" : "admin.ppe", password: cli.password)
            else { Issue.record("operator login failed"); return }

            let services = APIServices(graph: cli.fixture.graph, migrator: projectMigrations)
            try await Server.application(configuration: .init(port: 0), services: services, logger: Logger(label: "test")).test(.router) { client in
                var headers: HTTPFields = [.authorization: "Bearer \(token.value)"]
                if input.http.body != nil { headers[.contentType] = "application/json" }
                try await client.execute(uri: input.http.uri, method: input.http.method, headers: headers,
                                         body: input.http.body.map { ByteBuffer(string: $0) }) { response in
                    #expect(response.status == .unprocessableContent, "HTTP: \(String(buffer: response.body))")
                    let problem = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
                    #expect(problem?["code"] as? String == "invalid_input")
                    #expect(problem?["field"] as? String == input.field)
                }
            }

            let result = try cli.run(input.cli + ["--json"], asStaf ? ["SPSE_OPERATOR": "staf.adm"] : [:])
            #expect(result.status == 1, "CLI: \(result.stderr)")
            #expect(result.json["error"] as? String == "invalid_input")
            #expect(result.json["field"] as? String == input.field)
            #expect(result.stderr.contains(input.field))
        }
    }
}
