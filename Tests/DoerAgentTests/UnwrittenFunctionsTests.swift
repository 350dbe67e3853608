@testable import DoerAgent
import Testing

@Suite("functions declared but not written")
struct UnwrittenFunctionsTests {
    @Test("a signature with only a docstring, pass or ... is found, however the docstring is written")
    func empty() {
        let source = """
            from typing import List


            def add(x: int, y: int):
                \"\"\"Add two numbers x and y
                >>> add(2, 3)
                5
                \"\"\"


            def first(items: List[int]) -> int:
                '''One line.'''
                pass

            async def fetch(
                url: str,
            ) -> str:
                ...

            def todo():
                # later
                pass
            """
        #expect(UnwrittenFunctions.names(inPython: source) == ["add", "first", "fetch", "todo"])
    }

    @Test("written functions, methods and nested definitions are left alone")
    func written() {
        let source = """
            import math

            def fib(n: int):
                \"\"\"Return n-th Fibonacci number.\"\"\"
                a, b = 0, 1
                for _ in range(n):
                    a, b = b, a + b
                return a

            class Shape:
                def area(self):
                    pass

            def outer():
                def inner():
                    pass
                return inner

            def one_liner(x): return x * 2
            """
        #expect(UnwrittenFunctions.names(inPython: source).isEmpty)
        #expect(UnwrittenFunctions.names(inPython: "").isEmpty)
        #expect(UnwrittenFunctions.names(inPython: "def broken(\n").isEmpty, "a header that never ends is not judged")
    }
}
