extension Duration {
    /// The duration in milliseconds, the unit every figure Doer reports uses.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
