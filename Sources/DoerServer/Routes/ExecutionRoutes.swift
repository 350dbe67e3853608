import DoerLanguages
import Hummingbird

/// POST /v1/executions: run code in the sandbox and answer with its output; nothing is kept.
struct ExecutionRoutes: Sendable {
    let service: ExecutionService

    func register(on group: RouterGroup<ServerRequestContext>) {
        group.post("executions") { request, context in
            let input = try await request.decode(as: ExecutionInput.self, context: context)
            return try await service.run(input)
        }
        group.get("languages") { _, _ in
            LanguageList(languages: LanguageCatalogue.all.map { LanguageView(name: $0.name, extensions: $0.extensions) })
        }
        group.get("me") { _, context in Identity(user: try context.requireUser()) }
    }
}
