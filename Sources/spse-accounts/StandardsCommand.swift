import ArgumentParser
import Foundation
import Gate
import Operations

struct StandardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "standards",
        abstract: "The SOP's standards: step 6's time limit per SPSE problem priority.",
        subcommands: [StandardsListCommand.self, StandardsSetPriorityCommand.self]
    )
}

struct StandardsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Step 6's limit per priority.")
    @OptionGroup var options: OperatorCommandOptions

    func run() async throws {
        try await options.run { operations, caller in
            StandardsCommand.print(try await operations.priorityLimits(by: caller), json: options.output.json)
        }
    }
}

struct StandardsSetPriorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-priority",
        abstract: "Set step 6's limit for a priority (admin_ppe; audited; steps already open keep theirs).",
        discussion: """
            Example:
              spse-accounts standards set-priority --priority low --minutes 120
            """
    )
    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "urgent, high, normal or low.") var priority: String
    @Option(help: "Minutes, 1 to 10080.") var minutes: Int

    func run() async throws {
        try await options.run { operations, caller in
            StandardsCommand.print(
                try await operations.setPriorityLimit(PriorityLimitForm(priority: priority, minutes: minutes), by: caller),
                json: options.output.json)
        }
    }
}

extension StandardsCommand {
    static func print(_ limits: [PriorityLimit], json: Bool) {
        if json { try? OutputOptions.printJSON(limits); return }
        Swift.print("priority\tstep6_minutes\tupdated_by\tupdated_at")
        for limit in limits {
            Swift.print("\(limit.priority.rawValue)\t\(limit.step6Minutes)\t\(limit.updatedBy)\t\(ISO8601DateFormatter().string(from: limit.updatedAt))")
        }
    }
}

struct DeviationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deviation",
        abstract: "Deviations from the SOP's standards (late steps, missing receipt, bounced notices, another actor) and their explanations.",
        subcommands: [DeviationListCommand.self, DeviationExplainCommand.self]
    )
}

struct DeviationListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Deviations, newest first.",
        discussion: """
            Example (what you still owe an explanation for):
              spse-accounts deviation list --actor admin01 --unexplained
            """)
    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "Only this actor's.") var actor: String?
    @Flag(help: "Only those not yet explained.") var unexplained = false
    @Option(help: "Page number (20 a page).") var page: String?

    func run() async throws {
        try await options.run { operations, caller in
            let deviations = try await operations.deviations(
                DeviationForm(actor: actor, unexplained: unexplained ? "true" : nil, page: page), by: caller)
            if options.output.json { try OutputOptions.printJSON(deviations); return }
            print("id\trequest\tstep\tkind\tactor\texplained\tdetail")
            for d in deviations {
                print("\(d.id)\t\(d.requestNumber)\t\(d.step)\t\(d.kind.rawValue)\t\(d.actor)\t\(d.explanation == nil ? "no" : "yes")\t\(d.detail)")
            }
        }
    }
}

struct DeviationExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Explain a deviation attributed to you (once; audited).",
        discussion: """
            Example:
              spse-accounts deviation explain 17 --text "Listrik padam 20 menit; dikerjakan setelah menyala."
            """)
    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The deviation's id.") var id: String
    @Option(help: "What happened and why.") var text: String

    func run() async throws {
        try await options.run { operations, caller in
            let deviation = try await operations.explainDeviation(id, explanation: text, by: caller)
            if options.output.json { try OutputOptions.printJSON(deviation) } else { print("deviation \(deviation.id) explained") }
        }
    }
}
