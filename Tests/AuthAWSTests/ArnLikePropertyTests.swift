@testable import AuthAWS
import Foundation
import Testing

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// IAM's `ArnLike`, written independently of the matcher under test: each of the six
/// colon-separated parts is a regular expression with `*` as `.*` and `?` as `.`, anchored.
enum ReferenceArnLike {
    static func matches(_ pattern: String, _ arn: String) -> Bool {
        let p = pattern.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let a = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard p.count == 6, a.count == 6 else { return false }
        for (part, text) in zip(p, a) {
            var regex = "^"
            for ch in part {
                switch ch {
                case "*": regex += ".*"
                case "?": regex += "."
                default: regex += NSRegularExpression.escapedPattern(for: String(ch))
                }
            }
            regex += "$"
            let re = try! NSRegularExpression(pattern: regex, options: [.dotMatchesLineSeparators])
            let s = String(text)
            if re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) == nil { return false }
        }
        return true
    }
}

@Suite struct ArnLikePropertyTests {
    static let accounts = ["111111111111", "222222222222"]
    static let partitions = ["aws", "aws-us-gov", "aws-cn"]
    // IAM path and name characters, including `:` which IAM allows in paths.
    static let pathChars = Array("abcxyz019_+=,.@-:")

    static func word(_ rng: inout SplitMix64, _ chars: [Character], _ range: ClosedRange<Int>) -> String {
        String((0..<Int.random(in: range, using: &rng)).map { _ in chars.randomElement(using: &rng)! })
    }

    static func userArn(_ rng: inout SplitMix64) -> String {
        let path = (0..<Int.random(in: 0...3, using: &rng)).map { _ in word(&rng, pathChars, 1...4) + "/" }.joined()
        return "arn:\(partitions.randomElement(using: &rng)!):iam::\(accounts.randomElement(using: &rng)!):user/\(path)\(word(&rng, Array("abcxyz019_-"), 1...6))"
    }

    /// A pattern derived from an ARN: parts replaced by wildcards, the account or partition changed.
    static func pattern(from arn: String, _ rng: inout SplitMix64) -> String {
        var chars = Array(arn)
        for _ in 0..<Int.random(in: 0...3, using: &rng) where !chars.isEmpty {
            let start = Int.random(in: 0..<chars.count, using: &rng)
            let length = Int.random(in: 0...min(6, chars.count - start), using: &rng)
            chars.replaceSubrange(start..<(start + length), with: Bool.random(using: &rng) ? ["*"] : Array(repeating: "?", count: max(1, length)))
        }
        var text = String(chars)
        if Int.random(in: 0..<5, using: &rng) == 0 { text = text.replacingOccurrences(of: accounts[0], with: accounts[1]) }
        if Int.random(in: 0..<5, using: &rng) == 0 { text = text.replacingOccurrences(of: ":aws:", with: ":*:") }
        return text
    }

    @Test func matchingEqualsIAMsArnLikeOnRandomUsersAndPatterns() {
        var rng = SplitMix64(state: 20261129)
        var matched = 0
        for _ in 0..<5000 {
            let arn = Self.userArn(&rng)
            let pattern = Self.pattern(from: Bool.random(using: &rng) ? arn : Self.userArn(&rng), &rng)
            let expected = ReferenceArnLike.matches(pattern, arn)
            #expect(PrincipalMatcher.arnLike(pattern, arn) == expected, "pattern \(pattern) arn \(arn)")
            if let caller = PrincipalMatcher.parseCaller(arn), PrincipalMatcher.isValidPattern(pattern) {
                #expect(PrincipalMatcher.allows([pattern], caller) == expected, "pattern \(pattern) arn \(arn)")
            }
            if expected { matched += 1 }
        }
        #expect(matched > 500 && matched < 4500, "the generator exercises both outcomes (\(matched) matches)")
    }

    @Test func assumedRolesMatchExactlyAsTheirRoleDoes() {
        var rng = SplitMix64(state: 7)
        for _ in 0..<3000 {
            let account = Self.accounts.randomElement(using: &rng)!, partition = Self.partitions.randomElement(using: &rng)!
            let role = Self.word(&rng, Array("abcxyz019_+=,.@-"), 1...8), session = Self.word(&rng, Array("abc019_=,.@-"), 1...8)
            let sts = "arn:\(partition):sts::\(account):assumed-role/\(role)/\(session)"
            let iamRole = "arn:\(partition):iam::\(account):role/\(role)"
            let pattern = Self.pattern(from: Bool.random(using: &rng) ? iamRole : sts, &rng)
            guard PrincipalMatcher.isValidPattern(pattern), let caller = PrincipalMatcher.parseCaller(sts) else { continue }
            let expected = ReferenceArnLike.matches(pattern, sts) || ReferenceArnLike.matches(pattern, iamRole)
            #expect(PrincipalMatcher.allows([pattern], caller) == expected, "pattern \(pattern) caller \(sts)")
        }
    }

    @Test func wildcardsNeverReachAcrossColonsIntoTheAccount() throws {
        // The review's case: a user whose path contains ":iam::111111111111:user/" in account 222222222222.
        let arn = "arn:aws:iam::222222222222:user/x:iam::111111111111:user/y"
        let caller = try #require(PrincipalMatcher.parseCaller(arn))
        #expect(caller.account == "222222222222")
        #expect(!PrincipalMatcher.allows(["arn:*:iam::111111111111:user/*"], caller))
        #expect(PrincipalMatcher.allows(["arn:*:iam::222222222222:user/*"], caller))
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::1111111111?1:user/*"], caller))
    }

    @Test func rolePathPatternsAreRefusedAndNeverWiden() throws {
        // A role at /public/ assumed by its workload: STS reports no path.
        let caller = try #require(PrincipalMatcher.parseCaller("arn:aws:sts::111111111111:assumed-role/deployer/i-1"))
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::111111111111:role/admins/*"], caller))
        #expect(PrincipalMatcher.problem(with: "arn:aws:iam::111111111111:role/admins/*")?.contains("path") == true)
        #expect(PrincipalMatcher.problem(with: "arn:aws:iam::111111111111:user/admins/*") == nil, "user ARNs carry their path")
    }
}
