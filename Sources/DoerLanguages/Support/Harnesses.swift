import Foundation

/// Small harnesses Doer mounts read-only next to a project's tests, for languages whose
/// Debian packages have no test runner that prints a per-test machine-readable report.
/// Each prints TAP: `ok N - name` / `not ok N - name` followed by `# message` lines; a message
/// starting with `error:` marks an unexpected exception rather than a failed assertion.
enum Harnesses {
    /// C and C++: `TEST(name) { CHECK(x); CHECK_EQ(a, b); }`; the header brings `main`.
    static let cTestHeader = #"""
    /* doer_test.h: a tiny test harness. Write TEST(name) { CHECK(cond); CHECK_EQ(a, b); }
       in a test file that includes this header; it provides main() and prints TAP. */
    #ifndef DOER_TEST_H
    #define DOER_TEST_H
    #include <setjmp.h>
    #include <stdio.h>
    #include <stdlib.h>
    typedef void (*doer_test_fn)(void);
    static struct { const char *name; doer_test_fn fn; } doer_tests[1024];
    static int doer_test_count;
    static jmp_buf doer_test_jump;
    static char doer_test_message[2048];
    #define TEST(test_name) \
        static void test_name(void); \
        __attribute__((constructor)) static void doer_register_##test_name(void) { \
            if (doer_test_count < 1024) { doer_tests[doer_test_count].name = #test_name; doer_tests[doer_test_count++].fn = test_name; } \
        } \
        static void test_name(void)
    #define CHECK(cond) do { if (!(cond)) { \
        snprintf(doer_test_message, sizeof doer_test_message, "%s:%d: CHECK(%s) failed", __FILE__, __LINE__, #cond); \
        longjmp(doer_test_jump, 1); } } while (0)
    #define CHECK_EQ(a, b) do { long long doer_a = (long long)(a), doer_b = (long long)(b); if (doer_a != doer_b) { \
        snprintf(doer_test_message, sizeof doer_test_message, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld", \
                 __FILE__, __LINE__, #a, #b, doer_a, doer_b); \
        longjmp(doer_test_jump, 1); } } while (0)
    int main(void) {
        int failed = 0;
        printf("TAP version 13\n1..%d\n", doer_test_count);
        for (int i = 0; i < doer_test_count; i++) {
            printf("# running %s\n", doer_tests[i].name);
            fflush(stdout);
            if (setjmp(doer_test_jump) == 0) {
                doer_tests[i].fn();
                printf("ok %d - %s\n", i + 1, doer_tests[i].name);
            } else {
                failed++;
                printf("not ok %d - %s\n# %s\n", i + 1, doer_tests[i].name, doer_test_message);
            }
            fflush(stdout);
        }
        return failed ? 1 : 0;
    }
    #endif
    """#

    /// Java: runs every class with JUnit 4 `@Test` methods found under a classes folder.
    static let javaRunner = #"""
    import java.nio.file.*;
    import java.util.*;
    import org.junit.runner.*;
    import org.junit.runner.notification.*;

    public class DoerJUnitRunner {
        public static void main(String[] args) throws Exception {
            Path root = Paths.get(args[0]);
            List<Class<?>> classes = new ArrayList<>();
            List<Path> files = new ArrayList<>();
            try (var walk = Files.walk(root)) { walk.filter(p -> p.toString().endsWith(".class")).sorted().forEach(files::add); }
            for (Path p : files) {
                String rel = root.relativize(p).toString();
                if (rel.contains("$")) continue;
                String name = rel.substring(0, rel.length() - 6).replace('/', '.');
                Class<?> c;
                try { c = Class.forName(name, false, DoerJUnitRunner.class.getClassLoader()); } catch (Throwable t) { continue; }
                for (var m : c.getMethods()) if (m.isAnnotationPresent(org.junit.Test.class)) { classes.add(c); break; }
            }
            final int[] count = {0};
            System.out.println("TAP version 13");
            JUnitCore core = new JUnitCore();
            core.addListener(new RunListener() {
                final Set<Description> failed = new HashSet<>();
                String name(Description d) { return d.getClassName() + "." + d.getMethodName(); }
                @Override public void testFailure(Failure f) {
                    failed.add(f.getDescription());
                    count[0]++;
                    System.out.println("not ok " + count[0] + " - " + name(f.getDescription()));
                    Throwable e = f.getException();
                    String message = e instanceof AssertionError ? String.valueOf(e.getMessage()) : "error: " + e;
                    for (String line : message.split("\n")) System.out.println("# " + line);
                }
                @Override public void testFinished(Description d) {
                    if (failed.contains(d)) return;
                    count[0]++;
                    System.out.println("ok " + count[0] + " - " + name(d));
                }
                @Override public void testIgnored(Description d) {
                    count[0]++;
                    System.out.println("ok " + count[0] + " - " + name(d) + " # SKIP");
                }
            });
            Result result = core.run(classes.toArray(new Class<?>[0]));
            System.out.println("1.." + count[0]);
            System.out.flush();
            System.exit(result.wasSuccessful() ? 0 : 1);
        }
    }
    """#

    /// C#: assertions for tests, compiled into the project's test assembly.
    static let csharpAssert = #"""
    using System;
    namespace DoerTest {
        [AttributeUsage(AttributeTargets.Method)] public class TestAttribute : Attribute {}
        public class AssertionException : Exception { public AssertionException(string m) : base(m) {} }
        public static class Assert {
            public static void Equal<T>(T expected, T actual) {
                if (!Equals(expected, actual)) throw new AssertionException("Expected: " + expected + ", actual: " + actual);
            }
            public static void True(bool condition, string message = "expected true") {
                if (!condition) throw new AssertionException(message);
            }
        }
    }
    """#

    /// C#: runs public methods marked [Test] (any attribute named Test) in a test assembly.
    static let csharpRunner = #"""
    using System;
    using System.Linq;
    using System.Reflection;
    public static class DoerTestRunner {
        public static int Main(string[] args) {
            var assembly = Assembly.LoadFrom(args[0]);
            int n = 0, failed = 0;
            Console.WriteLine("TAP version 13");
            foreach (var type in assembly.GetTypes().Where(t => t.IsClass && t.IsPublic).OrderBy(t => t.FullName)) {
                var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                    .Where(m => m.GetParameters().Length == 0 && m.GetCustomAttributes(true).Any(a => a.GetType().Name == "TestAttribute"))
                    .OrderBy(m => m.MetadataToken).ToList();
                foreach (var method in methods) {
                    n++;
                    string name = type.FullName + "." + method.Name;
                    try {
                        object instance = method.IsStatic ? null : Activator.CreateInstance(type);
                        method.Invoke(instance, null);
                        Console.WriteLine("ok " + n + " - " + name);
                    } catch (TargetInvocationException e) {
                        failed++;
                        var inner = e.InnerException ?? e;
                        string message = inner.GetType().Name.Contains("Assert") ? inner.Message : "error: " + inner.GetType().FullName + ": " + inner.Message;
                        Console.WriteLine("not ok " + n + " - " + name);
                        foreach (var line in message.Split('\n')) Console.WriteLine("# " + line);
                    }
                }
            }
            Console.WriteLine("1.." + n);
            return failed > 0 ? 1 : 0;
        }
    }
    """#

    /// TypeScript: declarations for node's built-in test runner and assert, so tests compile
    /// with Debian's tsc when the project has no @types/node.
    static let nodeDeclarations = #"""
    declare module "node:test" {
        type Body = (context?: any) => unknown;
        export function test(name: string, body?: Body): Promise<void>;
        export function test(name: string, options: object, body?: Body): Promise<void>;
        export function describe(name: string, body?: Body): void;
        export function it(name: string, body?: Body): void;
        export function before(body: Body): void;
        export function after(body: Body): void;
        export function beforeEach(body: Body): void;
        export function afterEach(body: Body): void;
        export default test;
    }
    declare module "node:assert" {
        function assert(value: unknown, message?: string): asserts value;
        namespace assert {
            function ok(value: unknown, message?: string): asserts value;
            function equal(actual: unknown, expected: unknown, message?: string): void;
            function notEqual(actual: unknown, expected: unknown, message?: string): void;
            function strictEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
            function notStrictEqual(actual: unknown, expected: unknown, message?: string): void;
            function deepEqual(actual: unknown, expected: unknown, message?: string): void;
            function deepStrictEqual<T>(actual: unknown, expected: T, message?: string): asserts actual is T;
            function throws(block: () => unknown, expected?: unknown, message?: string): void;
            function rejects(block: Promise<unknown> | (() => Promise<unknown>), expected?: unknown, message?: string): Promise<void>;
            function fail(message?: string): never;
            const strict: typeof assert;
        }
        export = assert;
    }
    declare module "node:assert/strict" { import assert = require("node:assert"); export = assert; }
    declare module "assert" { import assert = require("node:assert"); export = assert; }
    declare var process: { argv: string[]; env: Record<string, string | undefined>; exitCode?: number; exit(code?: number): never };
    declare var require: (id: string) => any;
    declare var module: any;
    declare var __dirname: string;
    """#

    /// Elixir: an ExUnit formatter that prints TAP.
    static let elixirFormatter = #"""
    defmodule DoerTAPFormatter do
      @moduledoc "Prints ExUnit results as TAP for Doer."
      use GenServer

      def init(_opts), do: {:ok, 0}

      def handle_cast({:test_finished, %ExUnit.Test{} = test}, count) do
        count = count + 1
        name = inspect(test.module) <> "." <> String.replace_prefix(to_string(test.name), "test ", "")

        case test.state do
          nil ->
            IO.puts("ok #{count} - #{name}")

          {tag, _} when tag in [:skipped, :excluded] ->
            IO.puts("ok #{count} - #{name} # SKIP")

          {:failed, failures} ->
            IO.puts("not ok #{count} - #{name}")

            for {kind, reason, _stack} <- failures do
              message =
                case reason do
                  %ExUnit.AssertionError{} = error ->
                    if error.expr == ExUnit.AssertionError.no_value(),
                      do: error.message,
                      else: error.message <> "\ncode: " <> Macro.to_string(error.expr)

                  _ ->
                    "error: " <> Exception.format_banner(kind, reason)
                end

              for line <- String.split(message, "\n"), do: IO.puts("# " <> line)
            end

          {:invalid, _} ->
            IO.puts("not ok #{count} - #{name}\n# error: setup_all failed")
        end

        {:noreply, count}
      end

      def handle_cast({:suite_finished, _}, count) do
        IO.puts("1..#{count}")
        {:noreply, count}
      end

      def handle_cast(_event, count), do: {:noreply, count}
    end
    """#
}
