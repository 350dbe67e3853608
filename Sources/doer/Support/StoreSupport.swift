import DoerConfig
import DoerCore
import DoerRuntime
import DoerStore

/// The store of commands that build no runtime (`doer sessions`, `doer token`, `doer
/// audit`): the configuration's engine, opened where the runtime opens it.
enum StoreSupport {
    static func open(_ directories: DataDirectory = DataDirectory()) throws(DoerError) -> Stores {
        try Runtime.openStores(try DoerConfiguration.load(directories: directories), directories: directories)
    }
}
