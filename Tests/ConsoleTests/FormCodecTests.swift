import Core
import Testing
@testable import Console

@Suite("Console form codec")
struct FormCodecTests {
    static let fields = [
        ConsoleField("name", "Name", required: true), ConsoleField("credentials.targetRoleArn", "Target role ARN"),
        ConsoleField("ttl", "TTL", .number), ConsoleField("enabled", "Enabled", .checkbox), ConsoleField("groups", "Groups", .list),
        ConsoleField("tags", "Tags", .tags), ConsoleField("ips", "IPs", .ipList), ConsoleField("claims", "Claims", .keyValues),
        ConsoleField("secret", "Secret", .secret),
    ]

    @Test func typedValuesBecomeTheAPIsJSON() throws {
        let form = FormBody(urlEncoded: "name=+a%26b+&credentials.targetRoleArn=arn%3Aaws&ttl=60&enabled=true&groups=a%2C+b%0Ac&tags=k%3Dv%0Ax%3Dy"
                                + "&ips=10.0.0.0%2F8&claims=sub%3Drepo%3A*&secret=+keep+spaces+")
        let json = try FormCodec.json(Self.fields, form)
        #expect(json["name"] == .string("a&b"))
        #expect(json["credentials"] == .object(["targetRoleArn": .string("arn:aws")]))
        #expect(json["ttl"] == .number(60))
        #expect(json["enabled"] == .bool(true))
        #expect(json["groups"] == .array([.string("a"), .string("b"), .string("c")]))
        #expect(json["tags"] == .array([.object(["key": .string("k"), "value": .string("v")]), .object(["key": .string("x"), "value": .string("y")])]))
        #expect(json["ips"] == .array([.object(["ipAddress": .string("10.0.0.0/8")])]))
        #expect(json["claims"] == .object(["sub": .string("repo:*")]))
        #expect(json["secret"] == .string(" keep spaces "))
    }

    @Test func emptyOptionalFieldsAreLeftOutAndBadOnesNamed() throws {
        let json = try FormCodec.json(Self.fields, FormBody(urlEncoded: "name=x&ttl="))
        #expect(json.keys.sorted() == ["enabled", "name"])
        #expect(json["enabled"] == .bool(false))
        #expect(throws: FormCodec.Invalid.self) { try FormCodec.json(Self.fields, FormBody(urlEncoded: "ttl=soon")) }
        do { _ = try FormCodec.json(Self.fields, FormBody(urlEncoded: "ttl=soon&tags=novalue")) } catch let e as FormCodec.Invalid {
            #expect(e.errors["name"] == "Name is required")
            #expect(e.errors["ttl"] == "TTL must be a whole number")
            #expect(e.errors["tags"]?.contains("key=value") == true)
        }
    }

    @Test func anAPIErrorLandsOnTheFieldItNames() {
        #expect(FormCodec.field(for: "credentials.targetRoleArn is required", in: Self.fields) == "credentials.targetRoleArn")
        #expect(FormCodec.field(for: "ttl must be positive", in: Self.fields) == "ttl")
        #expect(FormCodec.field(for: "the database is unavailable", in: Self.fields) == nil)
    }

    @Test func secretsAreNeverPutBackIntoAForm() {
        let state = FormState(formId: "f", values: ["secret": "s3cr3t", "name": "n"])
        let views = FormCodec.views(Self.fields, formId: "f", state: state)
        #expect(views.first { $0["name"] as? String == "secret" }?["value"] as? String == "")
        #expect(views.first { $0["name"] as? String == "name" }?["value"] as? String == "n")
    }
}
