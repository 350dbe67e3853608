import Foundation

extension Language {
    /// Debian's kotlinc (1.3) on the default JDK, then JUnit 4 through the same TAP listener as Java.
    ///
    /// The compiler is started with `java` directly rather than through Debian's kotlinc script:
    /// the script passes `-noverify`, which JDK 13+ warns about on every compile, and leaves the
    /// JIT at its default, while C1 alone (`TieredStopAtLevel=1`) compiles small projects about
    /// a second faster.
    static let kotlin = Language(
        name: "kotlin", displayName: "Kotlin", extensions: ["kt"], manifests: ["build.gradle.kts", "settings.gradle.kts"],
        toolchain: Toolchain([.init("/usr/bin/kotlinc", package: "kotlin")], readOnlyPaths: ["/etc/java-*"]),
        run: RunRecipe(
            build: [LanguageStep(.build, kotlinCompiler + #"""
            mkdir -p "$DOER_CACHE/run" && rm -f "$DOER_CACHE/run/program.jar"
            kotlinc_jvm -nowarn -include-runtime -d "$DOER_CACHE/run/program.jar" "$DOER_FILE"
            """#)],
            run: #"exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$DOER_CACHE/run/program.jar" "$@""#),
        test: TestRecipe(
            framework: "JUnit 4",
            requirements: [.init("/usr/share/java/junit4.jar", package: "junit4"),
                           // The listener is Java; javac compiles it once per cache.
                           .init("/usr/bin/javac", package: "default-jdk-headless")],
            isTestFile: { path in
                let stem = TestFilePattern.stem(path)
                return TestFilePattern.ext(path) == "kt" && (stem.hasSuffix("Test") || stem.hasSuffix("Tests") || stem.hasPrefix("Test"))
            },
            build: [LanguageStep(.build, kotlinCompiler + #"""
            cp=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:/usr/share/java/kotlin-test.jar
            out="$DOER_CACHE/classes"; rm -rf "$out"; mkdir -p "$out" "$DOER_CACHE/runner"
            doer_files -name '*.kt' > /tmp/doer-sources
            kotlinc_jvm -nowarn -d "$out" -cp "$cp" $(cat /tmp/doer-sources) || exit 1
            [ -f "$DOER_CACHE/runner/DoerJUnitRunner.class" ] ||
                javac -J-XX:+UseSerialGC -J-XX:TieredStopAtLevel=1 -d "$DOER_CACHE/runner" -cp "$cp" "$DOER_SUPPORT/DoerJUnitRunner.java"
            """#)],
            test: #"""
            kotlin_lib=/usr/share/kotlin/kotlinc/lib
            cp=/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar:$kotlin_lib/kotlin-stdlib.jar:/usr/share/java/kotlin-test.jar
            exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$DOER_CACHE/classes:$DOER_CACHE/runner:$cp" DoerJUnitRunner "$DOER_CACHE/classes" 2>&1
            """#,
            format: .tap),
        supportFiles: ["DoerJUnitRunner.java": Harnesses.javaRunner])

    /// `kotlinc_jvm ARGS…`: Debian's kotlinc without its script (see `kotlin`).
    private static let kotlinCompiler = #"""
    kotlin_lib=/usr/share/kotlin/kotlinc/lib
    kotlinc_jvm() {
        java -Xmx1g -Xss4m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$kotlin_lib/kotlin-preloader.jar" \
            org.jetbrains.kotlin.preloading.Preloader -cp "$kotlin_lib/kotlin-compiler.jar" \
            org.jetbrains.kotlin.cli.jvm.K2JVMCompiler "$@"
    }

    """#
}
