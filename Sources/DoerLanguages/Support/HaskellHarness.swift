import Foundation

/// Haskell: stand-ins for hspec's `Test.Hspec` and HUnit's `Test.HUnit` that are the real
/// modules (imported by package name) except that `hspec`, `runTestTT` and `runTestTTAndExit`
/// print TAP. They sit first on the test programs' search path, where a project's own module
/// of the same name wins over an installed package's, so a test program written for hspec or
/// HUnit reports test by test without changing a line.
enum HaskellHarness {
    static let files: [String: String] = [
        "DoerTAP.hs": #"""
        -- Doer's TAP reporting for hspec and HUnit: `ok N - name` / `not ok N - name`, then `# message`
        -- lines; a message starting with `error:` is an unexpected exception, not a failed assertion.
        module DoerTAP (tapLine, tapFailure, flushOut) where

        import System.IO (hFlush, stdout)

        tapLine :: Bool -> Int -> String -> IO ()
        tapLine ok n name = putStrLn ((if ok then "ok " else "not ok ") ++ show n ++ " - " ++ oneLine name) >> flushOut

        tapFailure :: Int -> String -> String -> IO ()
        tapFailure n name message = do
          tapLine False n name
          mapM_ (putStrLn . ("# " ++)) (lines message)
          flushOut

        oneLine :: String -> String
        oneLine = map (\c -> if c == '\n' then ' ' else c)

        flushOut :: IO ()
        flushOut = hFlush stdout
        """#,
        "DoerHspec.hs": #"""
        -- Runs an hspec Spec with a formatter that prints TAP and exits non-zero when an example failed.
        module DoerHspec (hspec) where

        import Control.Exception (displayException)
        import Data.IORef
        import Data.List (intercalate)
        import qualified Test.Hspec.Core.Format as F
        import Test.Hspec.Core.Runner (Config (..), defaultConfig, evaluateSummary, hspecWithResult)
        import Test.Hspec.Core.Spec (Spec)
        import DoerTAP

        hspec :: Spec -> IO ()
        hspec spec = hspecWithResult defaultConfig {configFormat = Just format} spec >>= evaluateSummary

        format :: F.FormatConfig -> IO F.Format
        format _ = do
          count <- newIORef (0 :: Int)
          return $ \event -> case event of
            F.Started -> putStrLn "TAP version 13" >> flushOut
            F.ItemStarted path -> putStrLn ("# running " ++ name path) >> flushOut
            F.ItemDone path item -> do
              modifyIORef' count (+ 1)
              n <- readIORef count
              case F.itemResult item of
                F.Success -> tapLine True n (name path)
                F.Pending _ reason -> putStrLn ("ok " ++ show n ++ " - " ++ name path ++ " # SKIP " ++ maybe "pending" id reason) >> flushOut
                F.Failure _ reason -> tapFailure n (name path) (message reason)
            F.Done _ -> readIORef count >>= \n -> putStrLn ("1.." ++ show n) >> flushOut
            _ -> return ()

        -- Groups and the example's own words, as hspec's `--match` takes them.
        name :: ([String], String) -> String
        name (groups, requirement) = intercalate "/" (groups ++ [requirement])

        message :: F.FailureReason -> String
        message reason = case reason of
          F.NoReason -> "failed"
          F.Reason text -> text
          F.ExpectedButGot preface expected actual ->
            maybe "" (++ "\n") preface ++ "expected: " ++ expected ++ "\n but got: " ++ actual
          F.Error info err -> "error: " ++ maybe "" (++ ": ") info ++ displayException err
        """#,
        "DoerHUnit.hs": #"""
        {-# LANGUAGE PackageImports #-}
        -- Runs HUnit tests printing TAP: one point per test case, named by its labels.
        module DoerHUnit (runTestTT, runTestTTAndExit) where

        import Data.IORef
        import Data.List (intercalate)
        import System.Exit (exitFailure, exitSuccess)
        import "HUnit" Test.HUnit hiding (runTestTT, runTestTTAndExit)
        import DoerTAP

        data Current = Current { caseName :: String, problems :: [String] }

        runTestTT :: Test -> IO Counts
        runTestTT test = do
          putStrLn "TAP version 13" >> flushOut
          numbered <- newIORef (0 :: Int)
          let finish Nothing = return ()
              finish (Just current) = do
                modifyIORef' numbered (+ 1)
                n <- readIORef numbered
                case problems current of
                  [] -> tapLine True n (caseName current)
                  found -> tapFailure n (caseName current) (intercalate "\n" (reverse found))
              start state previous = do
                finish previous
                let name = caseNameOf (path state)
                putStrLn ("# running " ++ name) >> flushOut
                return (Just (Current name []))
              problem prefix _ text _ current = return (fmap (\c -> c {problems = (prefix ++ text) : problems c}) current)
          (counts, lastCase) <- performTest start (problem "error: ") (problem "") Nothing test
          finish lastCase
          readIORef numbered >>= \n -> putStrLn ("1.." ++ show n) >> flushOut
          return counts

        runTestTTAndExit :: Test -> IO ()
        runTestTTAndExit test = do
          counts <- runTestTT test
          if errors counts + failures counts == 0 then exitSuccess else exitFailure

        -- The labels on the way to the case ("calc:adds"), or HUnit's own path when it has none.
        caseNameOf :: Path -> String
        caseNameOf nodes = case [label | Label label <- reverse nodes] of
          [] -> showPath nodes
          labels -> intercalate ":" labels
        """#,
        "Test/Hspec.hs": #"""
        {-# LANGUAGE PackageImports #-}
        -- Doer's stand-in for hspec's Test.Hspec: everything is hspec's own, except that `hspec`
        -- reports each example as TAP, which Doer reads test by test.
        module Test.Hspec (module Hspec, hspec) where

        import "hspec" Test.Hspec as Hspec hiding (hspec)
        import DoerHspec (hspec)
        """#,
        "Test/Hspec/Discover.hs": #"""
        {-# LANGUAGE PackageImports #-}
        -- What hspec-discover's generated main imports; `hspec` reports as TAP.
        module Test.Hspec.Discover (module Discover, hspec) where

        import "hspec" Test.Hspec.Discover as Discover hiding (hspec)
        import DoerHspec (hspec)
        """#,
        "Test/HUnit.hs": #"""
        {-# LANGUAGE PackageImports #-}
        -- Doer's stand-in for HUnit's Test.HUnit: everything is HUnit's own, except that
        -- `runTestTT` and `runTestTTAndExit` report each test case as TAP.
        module Test.HUnit (module HUnit, runTestTT, runTestTTAndExit) where

        import "HUnit" Test.HUnit as HUnit hiding (runTestTT, runTestTTAndExit)
        import DoerHUnit (runTestTT, runTestTTAndExit)
        """#,
    ]
}
