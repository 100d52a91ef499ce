import Accounts
import ArgumentParser
import Operations
import Foundation
import Gate
import HTTPAPI

struct RequestListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "The open requests, most urgent first, with each one's SLA clock and who acts next.",
        discussion: """
            Examples:
              spse-accounts request list
              spse-accounts request list --overdue --json
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "Only requests in this state.") var state: String?
    @Flag(help: "Only requests whose step is past its time limit.") var overdue = false

    func run() async throws {
        try await options.run { operations, caller in
            let entries = try await operations.queue(QueueForm(state: state, due: overdue ? "overdue" : nil), by: caller)
            if options.output.json {
                try OutputOptions.printJSON(entries.map(QueueView.init))
                return
            }
            for entry in entries {
                let clock = entry.secondsLeft.map { $0 < 0 ? "OVERDUE \(Self.minutes(-$0))" : "\(Self.minutes($0)) left" } ?? "no limit"
                print("\(entry.number)\tstep \(entry.step)\t\(entry.state.rawValue)\t\(entry.priority.rawValue)\t\(clock)\t\(entry.allowed.map(\.description).joined(separator: "; "))")
            }
            if entries.isEmpty { print("no open requests") }
        }
    }

    static func minutes(_ seconds: Double) -> String {
        let minutes = Int((seconds / 60).rounded())
        return minutes >= 60 ? "\(minutes / 60)h\(String(format: "%02d", minutes % 60))m" : "\(minutes)m"
    }
}
