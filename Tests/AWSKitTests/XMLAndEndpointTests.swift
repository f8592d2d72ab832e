@testable import AWSKit
import Foundation
import Testing

@Suite struct XMLAndEndpointTests {
    @Test func parsesAWSDocumentsStrictly() throws {
        let doc = try XMLNode.parse(Data("<?xml version=\"1.0\"?>\n<A><B><C> x </C></B><B><C>y</C></B></A>\n".utf8))
        #expect(doc.name == "A")
        #expect(doc.value("B", "C") == "x")
        #expect(doc.all("B").count == 2)
        for bad in ["junk<A/>", "<A/>junk", "<A/><B/>", "<A><B></A>", "", "<!DOCTYPE A [<!ENTITY x \"y\">]><A>&x;</A>", "{\"json\":true}"] {
            #expect(throws: AWSError.self, "\(bad)") { try XMLNode.parse(Data(bad.utf8)) }
        }
    }

    @Test func decodesErrorDocuments() {
        let body = Data("<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error><RequestId>r1</RequestId></ErrorResponse>".utf8)
        #expect(throws: AWSError.service(code: "AccessDenied", message: "no", requestId: "r1", status: 403)) { try AWSQueryClient.decode(status: 403, data: body) }
        #expect(throws: AWSError.service(code: "HTTP502", message: "bad gateway", requestId: nil, status: 502)) { try AWSQueryClient.decode(status: 502, data: Data("bad gateway".utf8)) }
    }

    @Test func endpointsPerPartitionAndOverrides() {
        let plain = AWSEndpointResolver(environment: [:])
        #expect(plain.endpoint(.sts, region: "eu-west-1").url.absoluteString == "https://sts.eu-west-1.amazonaws.com/")
        #expect(plain.endpoint(.sts, region: "cn-north-1").url.absoluteString == "https://sts.cn-north-1.amazonaws.com.cn/")
        #expect(plain.endpoint(.sts, region: "us-gov-west-1").url.absoluteString == "https://sts.us-gov-west-1.amazonaws.com/")
        #expect(plain.endpoint(.iam, region: "eu-west-1") == AWSEndpoint(url: URL(string: "https://iam.amazonaws.com/")!, signingRegion: "us-east-1"))
        #expect(plain.endpoint(.iam, region: "us-gov-east-1").signingRegion == "us-gov-west-1")
        #expect(plain.endpoint(.iam, region: "cn-northwest-1").url.host == "iam.cn-north-1.amazonaws.com.cn")
        var global = plain
        global.useGlobalSTS = true
        #expect(global.endpoint(.sts, region: "eu-west-1").url.host == "sts.amazonaws.com")
        let overridden = AWSEndpointResolver(environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_IAM": "http://127.0.0.1:6000"])
        #expect(overridden.endpoint(.sts, region: "eu-west-1").hostHeader == "127.0.0.1:5000")
        #expect(overridden.endpoint(.iam, region: "eu-west-1").hostHeader == "127.0.0.1:6000")
        #expect(AWSEndpointResolver.isRealSTSHost("sts.eu-west-1.amazonaws.com")?.region == "eu-west-1")
        #expect(AWSEndpointResolver.isRealSTSHost("sts.amazonaws.com")?.partition == .aws)
        #expect(AWSEndpointResolver.isRealSTSHost("sts.cn-north-1.amazonaws.com.cn")?.partition == .awsCN)
        for bad in ["sts.evil.com", "sts.eu-west-1.amazonaws.com.evil.com", "evil.amazonaws.com", "sts.cn-north-1.amazonaws.com", "sts..amazonaws.com", "sts.a-b.amazonaws.com"] {
            #expect(AWSEndpointResolver.isRealSTSHost(bad) == nil, "\(bad)")
        }
    }

    @Test func formEncodingAndParsing() {
        #expect(SigV4Encoding.form([("Action", "GetCallerIdentity"), ("Version", "2011-06-15")]) == "Action=GetCallerIdentity&Version=2011-06-15")
        #expect(SigV4Encoding.encode("a b/c~") == "a%20b%2Fc~")
        #expect(SigV4Encoding.form([("Doc", "{\"a\": 1}")]) == "Doc=%7B%22a%22%3A+1%7D")
        #expect(SigV4Encoding.parseQuery("a=1&b=x%20y&c").map { [$0.0, $0.1] } == [["a", "1"], ["b", "x y"], ["c", ""]])
        #expect(SigV4Encoding.decode("a+b", plusAsSpace: true) == "a b")
    }
}
