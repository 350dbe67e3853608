import Foundation

extension Language {
    /// javac into the cache, then JUnit 4 (Debian's junit4) through Doer's small TAP listener.
    static let java = Language(
        name: "java", displayName: "Java", extensions: ["java"], manifests: ["pom.xml", "build.gradle"],
        toolchain: Toolchain([.init("/usr/bin/javac", package: "default-jdk-headless")],
                             readOnlyPaths: ["/etc/java-*"]),
        // Java 11+ runs a single source file directly.
        run: RunRecipe(run: #"exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "$DOER_FILE" "$@""#),
        test: TestRecipe(
            framework: "JUnit 4",
            requirements: [.init("/usr/share/java/junit4.jar", package: "junit4")],
            isTestFile: { path in
                let stem = TestFilePattern.stem(path)
                return TestFilePattern.ext(path) == "java" && (stem.hasSuffix("Test") || stem.hasSuffix("Tests") || stem.hasPrefix("Test"))
            },
            build: [LanguageStep(.build, #"""
            cp=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
            out="$DOER_CACHE/classes"; rm -rf "$out"; mkdir -p "$out" "$DOER_CACHE/runner"
            doer_files -name '*.java' > /tmp/doer-sources
            javac -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -nowarn -encoding UTF-8 -d "$out" -cp "$cp" @/tmp/doer-sources || exit 1
            [ -f "$DOER_CACHE/runner/DoerJUnitRunner.class" ] ||
                javac -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -d "$DOER_CACHE/runner" -cp "$cp" "$DOER_SUPPORT/DoerJUnitRunner.java"
            """#)],
            test: #"""
            cp=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar
            exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$DOER_CACHE/classes:$DOER_CACHE/runner:$cp" DoerJUnitRunner "$DOER_CACHE/classes" 2>&1
            """#,
            format: .tap),
        supportFiles: ["DoerJUnitRunner.java": Harnesses.javaRunner])
}
