import AWSKit
import Core
import Hummingbird
import HummingbirdTesting
import Testing
@testable import DynamicAWSIAM

/// Revoking an IAM-user lease against an IAM that refuses to delete a user with anything left
/// (as AWS does; moto does not): the short way when the user is as kms made it, and nothing
/// left behind whatever was changed by hand.
@Suite("IAM user revocation")
struct UserRevocationTests {
    static let key = "AKIAKMSMADE00000001"
    static let plainInputs = try! AWSIAMInputs(.object(["method": .string("access-key"), "accessKey": .string("A"), "secretAccessKey": .string("s")]),
                                               forRevocation: true)

    /// Runs `body` with an IAM client against a fresh fake holding `user` (if any) as `u`.
    static func with(_ user: FakeIAM.User?, _ body: @escaping @Sendable (IAMClient, FakeIAM) async throws -> Void) async throws {
        let fake = FakeIAM()
        fake.users.withLock { $0["u"] = user }
        try await Application(router: fake.router).test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))"
            let query = AWSQueryClient(endpoints: AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL_IAM": url]))
            defer { Task { try await query.shutdown() } }
            try await body(IAMClient(query: query, credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "A", secretAccessKey: "s"))), fake)
            #expect(fake.users.withLock { $0["u"] } == nil, "the user is gone")
        }
    }

    @Test func aPlainUserTakesTheTwoCallsOfItsOwnKeyAndItself() async throws {
        try await Self.with(FakeIAM.User(keys: [Self.key])) { iam, fake in
            try await AWSIAMProvider.deleteUser(iam, LeasedEntity(id: "u", state: ["accessKeyId": Self.key]), madeWith: Self.plainInputs)
            #expect(fake.calls.withLock { $0 } == ["DeleteAccessKey:\(Self.key)", "DeleteUser"])
        }
    }

    @Test func aSecondKeyAddedByHandIsFoundAndDeleted() async throws {
        try await Self.with(FakeIAM.User(keys: [Self.key, "AKIABYHAND000000001"])) { iam, fake in
            try await AWSIAMProvider.deleteUser(iam, LeasedEntity(id: "u", state: ["accessKeyId": Self.key]), madeWith: Self.plainInputs)
            let calls = fake.calls.withLock { $0 }
            #expect(calls.prefix(2) == ["DeleteAccessKey:\(Self.key)", "DeleteUser"], "the short way first")
            #expect(calls.contains("ListAccessKeys") && calls.contains("DeleteAccessKey:AKIABYHAND000000001"), "then the long way: \(calls)")
        }
    }

    @Test func aStaleKeyIdAndAnotherLiveKeyLeaveNothing() async throws {
        try await Self.with(FakeIAM.User(keys: ["AKIAROTATED00000001"], groups: ["devs"], attachedPolicies: ["arn:aws:iam::aws:policy/ReadOnly"])) { iam, fake in
            try await AWSIAMProvider.deleteUser(iam, LeasedEntity(id: "u", state: ["accessKeyId": Self.key]), madeWith: Self.plainInputs)
            #expect(fake.calls.withLock { $0 }.contains("DeleteAccessKey:AKIAROTATED00000001"))
        }
    }

    @Test(arguments: [[:], ["accessKeyId": ""], ["accessKeyId": "not a key id"], ["accessKeyId": "AKIA"]])
    func withoutAUsableKeyIdTheKeysAreListed(state: [String: String]) async throws {
        try await Self.with(FakeIAM.User(keys: [Self.key])) { iam, fake in
            try await AWSIAMProvider.deleteUser(iam, LeasedEntity(id: "u", state: state), madeWith: Self.plainInputs)
            #expect(fake.calls.withLock { $0 } == ["ListAccessKeys", "DeleteAccessKey:\(Self.key)", "DeleteUser"])
        }
    }

    @Test func aUserAlreadyGoneCountsAsRevoked() async throws {
        try await Self.with(nil) { iam, fake in
            try await AWSIAMProvider.deleteUser(iam, LeasedEntity(id: "u", state: ["accessKeyId": Self.key]), madeWith: Self.plainInputs)
            #expect(fake.calls.withLock { $0 } == ["DeleteAccessKey:\(Self.key)", "DeleteUser"])
        }
    }

    @Test func aKeyGoneWithTheUserStillThereIsNotTheUserGone() async throws {
        try await Self.with(FakeIAM.User()) { iam, fake in
            try await AWSIAMProvider.deleteUser(iam, LeasedEntity(id: "u", state: ["accessKeyId": Self.key]), madeWith: Self.plainInputs)
            #expect(fake.calls.withLock { $0 } == ["DeleteAccessKey:\(Self.key)", "DeleteUser"])
        }
    }
}
