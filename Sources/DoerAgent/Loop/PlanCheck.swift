import Foundation

/// Whether a plan the model wrote is a plan: small models repeat a step with the numbers
/// changed, or answer with advice to the user ("pass an initial value") instead of changes
/// to the code. Such a plan would go with every turn and steer every candidate wrong, so it
/// is discarded for the derived one.
enum PlanCheck {
    /// Why the steps are not a usable plan, or nil when they are.
    static func problem(_ steps: [String]) -> String? {
        let normalized = steps.map(words)
        var seen: [Set<String>] = []
        var repeats = 0
        for step in normalized {
            if seen.contains(where: { similarity($0, step) >= 0.8 }) { repeats += 1 }
            seen.append(step)
        }
        if repeats * 3 >= steps.count { return "the plan repeats itself" }
        let changes = steps.contains { step in
            let lowered = words(step)
            return !lowered.isDisjoint(with: changeVerbs)
        }
        if !changes { return "no step changes the code" }
        return nil
    }

    private static let changeVerbs: Set<String> = [
        "write", "implement", "add", "change", "fix", "edit", "update", "modify", "create", "replace", "remove",
        "refactor", "rename", "correct", "handle", "define", "rewrite", "delete", "move", "extract", "adjust", "return",
    ]

    private static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split { !$0.isLetter && !$0.isNumber && $0 != "_" }.map(String.init)
            .filter { !$0.allSatisfy(\.isNumber) })
    }

    private static func similarity(_ a: Set<String>, _ b: Set<String>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
    }
}
