import Accounts
import ArgumentParser
import Operations
import Gate
import HTTPAPI

struct RequestSubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "SOP step 1: enter a request file handed in on paper or by e-mail (staf_administrasi).",
        discussion: """
            Example:
              spse-accounts request submit --kind reset_password --kind user_id_info --subject-nip 196102251986031010 \\
                --subject-name "Sekar Ayu Wulandari" --requester-name "Sekar Ayu" \\
                --requester-contact sekar@purbalinggakab.go.id --channel hardcopy
            """
    )

    @OptionGroup var options: OperatorCommandOptions
    @Option(name: .customLong("kind"), help: "reset_password and/or user_id_info (repeat for both).") var kinds: [String]
    @Option(help: "The subject's user ID, if the requester knows it.") var subjectUserId: String?
    @Option(help: "The subject's full name.") var subjectName: String?
    @Option(help: "The subject's NIP.") var subjectNip: String?
    @Option(help: "The subject's e-mail.") var subjectEmail: String?
    @Option(help: "The subject's agency.") var subjectAgency: String?
    @Option(help: "The subject account's role.") var subjectRole: String = "helpdesk"
    @Option(help: "Who hands in the file.") var requesterName: String
    @Option(help: "How to reach the requester (e-mail or phone).") var requesterContact: String
    @Option(help: "hardcopy or email.") var channel: String
    @Option(help: "low, normal, high or urgent.") var priority: String = "normal"

    func run() async throws {
        try await options.run { operations, caller in
            let request = try await operations.submitRequest(
                SubmitForm(
                    kinds: kinds,
                    subject: SubjectHint(userID: subjectUserId, fullName: subjectName, nip: subjectNip, email: subjectEmail, agency: subjectAgency),
                    subjectRole: subjectRole, requesterName: requesterName, requesterContact: requesterContact, channel: channel, priority: priority),
                by: caller)
            if options.output.json {
                try OutputOptions.printJSON(RequestView(request, allowed: request.allowedActions))
            } else {
                print("submitted \(request.number) (id \(request.id)); next: \(request.allowedActions.map(\.description).joined(separator: "; "))")
            }
        }
    }
}
