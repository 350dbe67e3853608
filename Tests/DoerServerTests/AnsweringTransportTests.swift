@testable import DoerMCP
import Foundation
import Testing

@Suite("the MCP server answers what it was asked before it ends")
struct AnsweringTransportTests {
    @Test("the answering transport reads request and response ids, single or batched, numbers apart from strings")
    func transportIDs() {
        #expect(AnsweringTransport.requestIDs(in: Data(#"{"jsonrpc":"2.0","id":1,"method":"a"}"#.utf8)) == ["n:1"])
        #expect(AnsweringTransport.requestIDs(in: Data(#"{"jsonrpc":"2.0","method":"notifications/x"}"#.utf8)).isEmpty)
        #expect(AnsweringTransport.requestIDs(in: Data(#"[{"id":"1","method":"a"},{"id":2,"method":"b"}]"#.utf8)) == ["s:1", "n:2"])
        #expect(AnsweringTransport.answeredIDs(in: Data(#"{"jsonrpc":"2.0","id":"1","result":{}}"#.utf8)) == ["s:1"])
        #expect(AnsweringTransport.answeredIDs(in: Data(#"{"jsonrpc":"2.0","id":7,"error":{"code":-1}}"#.utf8)) == ["n:7"])
        #expect(AnsweringTransport.answeredIDs(in: Data(#"{"id":9,"method":"sampling"}"#.utf8)).isEmpty, "a request from the server answers nothing")
        #expect(AnsweringTransport.answeredIDs(in: Data("not json".utf8)).isEmpty)
    }
}
