import Accounts
import ArgumentParser
import Operations
import Foundation
import Gate

struct ReportSLACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "Time per SOP step, actor and priority over a period: count, median, p90, breaches, deviations explained and owed, and open steps overdue.",
        discussion: """
            Examples:
              spse-accounts report sla --from 2026-11-01 --to 2026-12-01
              spse-accounts report sla --csv > sla.csv
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "Start (ISO 8601 date or instant; default: 30 days before --to).") var from: String?
    @Option(help: "End, exclusive (default: now).") var to: String?
    @Flag(help: "CSV instead of a table.") var csv = false

    func run() async throws {
        try await options.run { operations, caller in
            let lines = try await operations.slaReport(PeriodForm(from: from, to: to), by: caller)
            if options.output.json {
                try OutputOptions.printJSON(lines)
            } else if csv {
                print(try Operations.csv(lines), terminator: "")
            } else {
                print("step\tactor\tpriority\tstatus\tcount\tmedian\tp90\tbreaches\tlimit\texplained\tunexplained")
                for line in lines {
                    print("\(line.step)\t\(line.actor)\t\(line.priority)\t\(line.status)\t\(line.count)\t\(Int(line.medianSeconds))s\t\(Int(line.p90Seconds))s\t"
                        + "\(line.breaches)\t\(line.limitMinutes.map { "\($0)m" } ?? "-")\t\(line.explained)\t\(line.unexplained)")
                }
            }
        }
    }
}
