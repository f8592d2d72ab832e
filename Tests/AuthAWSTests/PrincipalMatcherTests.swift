@testable import AuthAWS
import Core
import Foundation
import Testing

@Suite struct PrincipalMatcherTests {
    @Test func parsesCallers() throws {
        let user = try #require(PrincipalMatcher.parseCaller("arn:aws:iam::123456789012:user/team/app"))
        #expect(user.kind == "user" && user.name == "app" && user.account == "123456789012")
        let role = try #require(PrincipalMatcher.parseCaller("arn:aws-us-gov:sts::123456789012:assumed-role/web/session@x"))
        #expect(role.kind == "assumed-role" && role.name == "web")
        #expect(role.forms == ["arn:aws-us-gov:sts::123456789012:assumed-role/web/session@x", "arn:aws-us-gov:iam::123456789012:role/web"])
        #expect(PrincipalMatcher.parseCaller("arn:aws:iam::123456789012:root")?.kind == "root")
        for bad in ["arn:aws:iam::12345:user/a", "arn:aws:s3:::bucket", "arn:evil:iam::123456789012:user/a", "arn:aws:iam::123456789012:user/",
                    "arn:aws:sts::123456789012:assumed-role/web", "not an arn"] {
            #expect(PrincipalMatcher.parseCaller(bad) == nil, "\(bad)")
        }
    }

    @Test func globIsLiteralApartFromStars() {
        #expect(Glob.matches("arn:aws:iam::123456789012:user/a*", "arn:aws:iam::123456789012:user/app"))
        #expect(Glob.matches("*", "anything"))
        #expect(Glob.matches("a*b*c", "aXXbYYc"))
        #expect(!Glob.matches("a*b*c", "aXXbYY"))
        // Regex metacharacters are plain characters: no injection.
        #expect(!Glob.matches("arn:aws:iam::123456789012:user/.+", "arn:aws:iam::123456789012:user/app"))
        #expect(Glob.matches("arn:aws:iam::123456789012:user/.+", "arn:aws:iam::123456789012:user/.+"))
        #expect(!Glob.matches("arn:aws:iam::123456789012:user/app", "arn:aws:iam::123456789012:user/app2"))
    }

    @Test func allowsAssumedRolesByTheirRoleName() throws {
        let caller = try #require(PrincipalMatcher.parseCaller("arn:aws:sts::123456789012:assumed-role/web/i-0abc"))
        #expect(PrincipalMatcher.allows(["arn:aws:iam::123456789012:role/web"], caller))
        // A stored pattern with a path (refused since) never admits a path-less assumed role.
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::123456789012:role/service/web"], caller))
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::123456789012:role/admins/*"], caller))
        #expect(PrincipalMatcher.allows(["arn:aws:sts::123456789012:assumed-role/web/*"], caller))
        #expect(PrincipalMatcher.allows(["arn:aws:iam::123456789012:*"], caller))
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::123456789012:role/webapp"], caller))
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::999999999999:role/web"], caller))
        #expect(!PrincipalMatcher.allows(["arn:aws:iam::123456789012:user/web"], caller))
    }

    @Test func validatesPatterns() {
        for good in ["arn:aws:iam::123456789012:user/app", "arn:aws:iam::123456789012:user/path/web", "arn:aws:iam::123456789012:*",
                     "arn:aws:sts::123456789012:assumed-role/web/*", "arn:aws-cn:iam::123456789012:user/*"] {
            #expect(PrincipalMatcher.isValidPattern(good), "\(good)")
        }
        for bad in ["arn:aws:s3:::bucket", "arn:aws:iam::1234:user/a", "arn:aws:iam::123456789012:group/x", "arn:aws:iam::123456789012:user/a b", "",
                    "arn:aws:iam::123456789012:role/path/web", "arn:aws:iam::123456789012:role/admins/*", "arn:aws:iam::123456789012:role/*/x"] {
            #expect(!PrincipalMatcher.isValidPattern(bad), "\(bad)")
        }
    }
}

@Suite struct SignedLoginRequestTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static func headers(date: Date = now, extra: [String: String] = [:], signed: String = "content-length;content-type;host;x-amz-date") -> [String: String] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amz = f.string(from: date)
        var h = ["Host": "sts.us-east-1.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Date": amz,
                 "Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/\(amz.prefix(8))/us-east-1/sts/aws4_request, SignedHeaders=\(signed), Signature=\(String(repeating: "a", count: 64))"]
        h.merge(extra) { _, b in b }
        return h
    }

    func validate(body: String = SignedLoginRequest.exactBody, headers: [String: String] = headers(), url: String? = nil, method: String = "POST") throws -> SignedLoginRequest {
        try SignedLoginRequest.validate(method: method, body: body, headers: headers, url: url, now: Self.now, maxSkew: 300)
    }

    @Test func acceptsTheSDKShape() throws {
        let r = try validate()
        #expect(r.host == "sts.us-east-1.amazonaws.com")
        #expect(r.authorization.region == "us-east-1")
        #expect(try validate(body: "Action=GetCallerIdentity").body.count == 24)
    }

    @Test func refusesEverythingElse() {
        #expect(throws: (any Error).self) { try validate(method: "GET") }
        for body in ["", "Action=GetCallerIdentity&Version=2011-06-15&Extra=1", "Action=GetCallerIdentity&Action=GetCallerIdentity",
                     "Action=AssumeRole&Version=2011-06-15", "Action=GetCallerIdentity&Version=2010-05-08"] {
            #expect(throws: (any Error).self, "\(body)") { try validate(body: body) }
        }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["X-Amz-Target": "x"])) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["X-Forwarded-Host": "evil"])) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["host": "dup"])) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(date: Self.now.addingTimeInterval(301))) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(date: Self.now.addingTimeInterval(-301))) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(signed: "content-type;host")) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["Content-Length": "99"])) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["Authorization": "Basic abc"])) }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["X-Amz-Date": "garbage"])) }
        #expect(throws: (any Error).self) { try validate(url: "https://sts.us-east-1.amazonaws.com/?Action=X") }
        #expect(throws: (any Error).self) { try validate(url: "https://evil.example.com/") }
        #expect(throws: (any Error).self) { try validate(headers: Self.headers(extra: ["Host": "sts.us-east-1.amazonaws.com\r\nX: y"])) }
        #expect((try? validate(url: "https://sts.us-east-1.amazonaws.com/")) != nil)
    }

    @Test func repeatsOfTheSameSignatureAreNotRefused() throws {
        // Many workloads of one role may send identical signatures within a second.
        #expect(try validate().amzDate == (try validate().amzDate))
    }
}

@Suite struct BindingTests {
    /// Checked at save time and again at every login, so configs saved before the rule fail closed.
    @Test func aConfigMustBindAnAccount() {
        #expect(AWSAuthConfigInput.bindingProblem(principals: [], accounts: []) != nil)
        #expect(AWSAuthConfigInput.bindingProblem(principals: ["arn:aws:iam::*:*"], accounts: []) != nil)
        #expect(AWSAuthConfigInput.bindingProblem(principals: ["arn:aws:iam::123456789012:user/a", "arn:*:iam::*:role/x"], accounts: []) != nil)
        #expect(AWSAuthConfigInput.bindingProblem(principals: ["arn:aws:iam::*:*"], accounts: ["123456789012"]) == nil)
        #expect(AWSAuthConfigInput.bindingProblem(principals: ["arn:*:iam::123456789012:user/*"], accounts: []) == nil)
        #expect(AWSAuthConfigInput.bindingProblem(principals: [], accounts: ["123456789012"]) == nil)
    }
}
