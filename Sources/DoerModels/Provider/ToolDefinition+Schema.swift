import DoerCore
import Foundation

extension ToolDefinition {
    /// The argument schema as a JSON object for a request body; a tool whose schema is
    /// not valid JSON is a configuration error, found before anything is sent.
    func schemaObject() throws(ModelError) -> Any {
        guard let schema = try? JSONSerialization.jsonObject(with: Data(parametersSchema.utf8)) else {
            throw .configuration("the schema of tool \(name) is not valid JSON")
        }
        return schema
    }
}
