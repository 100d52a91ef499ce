import Foundation

/// An account as the Admin PPE sees it. Holds no password hash: credentials stay in `Credentials`.
public struct Account: Sendable, Equatable, Codable {
    public let id: Int64
    public let userID: UserID
    public let role: Role
    public let fullName: FullName
    public let nip: NIP?
    public let email: EmailAddress
    public let agency: Agency
    public let status: AccountStatus
    public let mustChangePassword: Bool
    public let lockedUntil: Date?
    public let createdAt: Date
    public let updatedAt: Date
}

/// What an operator fills in to create an account.
public struct NewAccount: Sendable {
    public var userID: UserID
    public var role: Role
    public var fullName: FullName
    public var nip: NIP?
    public var email: EmailAddress
    public var agency: Agency

    public init(userID: UserID, role: Role, fullName: FullName, nip: NIP?, email: EmailAddress, agency: Agency) {
        self.userID = userID
        self.role = role
        self.fullName = fullName
        self.nip = nip
        self.email = email
        self.agency = agency
    }
}

/// The operator on whose behalf an operation runs; every audit row names them.
public struct Operator: Sendable, Equatable {
    public let userID: UserID
    public let role: Role

    public init(userID: UserID, role: Role) {
        self.userID = userID
        self.role = role
    }
}

/// The clock, passed in so that expiry and lockout timing are testable without sleeping.
public struct ServiceClock: Sendable {
    private let read: @Sendable () -> Date
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }
    public var now: Date { read() }
    public static let system = ServiceClock { Date() }
}
