"""The web app in a real browser: headless Chromium, driven by Selenium, against
`doer serve` with a scripted model (no real model needed) and the real sandbox.

Sends a task, watches the plan, the streamed reply and the sandboxed runs arrive,
approves the change and checks the diff and the applied file; then deploys it: the form,
the approval card, the live status with the pull request link, against a bare git repository
and a stand-in for GitHub's REST API on loopback. Screenshots go to artifacts/ (laptop and
phone sizes).

Run: python3 -m pytest -q Tests/browser (after `swift build --product doer`).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
DOER = Path(os.environ.get("DOER_BINARY", ROOT / ".build" / "debug" / "doer"))
ARTIFACTS = ROOT / "artifacts"

CALC = "def add(a, b):\n    return a + b\n"
REPLY = (
    "I will add `add(a, b)` to **calc.py**; the tests are already there.\n\n"
    "```file calc.py\n" + CALC + "```\n"
)
TESTS = "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def find(name, fallbacks):
    found = shutil.which(name)
    if found:
        return found
    for path in fallbacks:
        if os.path.exists(path):
            return path
    pytest.skip(f"{name} is not installed (scripts/setup.sh installs it)")


GITHUB_TOKEN = "ghp_browsertest0123456789"
PULL_URL = "https://github.com/octo-org/hello/pull/42"
RUN_URL = "https://github.com/octo-org/hello/actions/runs/30433642"


class FakeGitHub(BaseHTTPRequestHandler):
    """The GitHub REST calls a deploy makes, answered as GitHub documents them; the run is
    in progress the first time it is polled and has succeeded after that."""
    polls = 0
    requests = []

    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        FakeGitHub.requests.append(("POST", self.path, body))
        if self.headers.get("Authorization") != "Bearer " + GITHUB_TOKEN:
            return self.reply(401, {"message": "Bad credentials"})
        if self.path == "/repos/octo-org/hello/pulls":
            return self.reply(201, {"number": 42, "html_url": PULL_URL, "state": "open"})
        if self.path == "/repos/octo-org/hello/actions/workflows/ci.yml/dispatches":
            return self.reply(204)
        self.reply(404, {"message": "Not Found"})

    def do_GET(self):
        FakeGitHub.requests.append(("GET", self.path, ""))
        if self.path.startswith("/repos/octo-org/hello/actions/workflows/ci.yml/runs"):
            return self.reply(200, {"total_count": 1, "workflow_runs": [
                {"id": 30433642, "status": "queued", "conclusion": None, "html_url": RUN_URL}]})
        if self.path == "/repos/octo-org/hello/actions/runs/30433642":
            FakeGitHub.polls += 1
            done = FakeGitHub.polls > 1
            return self.reply(200, {"id": 30433642, "status": "completed" if done else "in_progress",
                                    "conclusion": "success" if done else None, "html_url": RUN_URL})
        self.reply(404, {"message": "Not Found"})


def git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def server():
    if not DOER.exists():
        pytest.fail(f"{DOER} is missing; run `swift build --product doer` first")
    home = Path(tempfile.mkdtemp(prefix="doer-browser-"))
    os.chmod(home, 0o755)
    env = dict(os.environ, DOER_HOME=str(home), GITHUB_TOKEN=GITHUB_TOKEN)
    # Where deploys go: a bare repository with one commit on main, and the GitHub stand-in.
    bare = home / "remote.git"
    seed = home / "seed"
    git("init", "-q", "--bare", "-b", "main", str(bare))
    git("init", "-q", "-b", "main", str(seed))
    (seed / "README.md").write_text("hello\n")
    git("add", "README.md", cwd=seed)
    git("-c", "user.name=Tester", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial", cwd=seed)
    git("push", "-q", f"file://{bare}", "main:main", cwd=seed)
    github = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHub)
    threading.Thread(target=github.serve_forever, daemon=True).start()
    (home / "config").mkdir()
    (home / "config" / "config.toml").write_text(f"""[deploy]
remote = "file://{bare}"
github_api_url = "http://127.0.0.1:{github.server_address[1]}"
github_repository = "octo-org/hello"
github_workflow = "ci.yml"
approval_timeout = 300
ci_wait = 120
""")
    script = home / "replies.json"
    script.write_text(json.dumps({"replies": [REPLY], "chunk_delay_ms": 40}))
    token = subprocess.run([str(DOER), "token", "create", "--user", "browser"], env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    process = subprocess.Popen([str(DOER), "serve", "--port", "0", "--scripted-model", str(script)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            process.kill()
            pytest.fail(f"doer serve did not start: {line}{process.stderr.read()}")
        url = f"http://127.0.0.1:{match.group(1)}/"
        urllib.request.urlopen(url + "healthz", timeout=10).read()
        yield {"url": url, "token": token, "home": home, "bare": bare}
    finally:
        github.shutdown()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = find("chromium", ["/usr/bin/chromium", "/usr/lib/chromium/chromium"])
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(find("chromedriver", ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"])),
                              options=options)
    yield driver
    driver.quit()


def wait(driver, seconds=60):
    return WebDriverWait(driver, seconds, poll_frequency=0.1)


def test_task_plan_runs_approval_diff(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get(server["url"])
    # Sign in once: the token is kept in localStorage.
    token_input = wait(browser).until(EC.visibility_of_element_located((By.ID, "token-input")))
    token_input.send_keys(server["token"])
    browser.find_element(By.ID, "login-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "who"), "browser"))
    assert browser.execute_script("return localStorage.getItem('doer.token')") == server["token"]

    # A new conversation with a test file, sent with Ctrl+Enter.
    browser.find_element(By.CSS_SELECTOR, "#files-box summary").click()
    browser.find_element(By.ID, "files-input").send_keys("=== test_calc.py\n" + TESTS)
    message = browser.find_element(By.ID, "message")
    message.send_keys("Write add(a, b) in calc.py so that the tests pass")
    message.send_keys(Keys.CONTROL, Keys.ENTER)

    # The plan arrives as a checklist, the reply streams in, the sandboxed test run shows.
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plan li")) >= 3)
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chat .msg.agent .body"))
    wait(browser).until(lambda d: "python3 -m pytest" in d.find_element(By.ID, "terminal").text)
    wait(browser).until(lambda d: "1 passed" in d.find_element(By.ID, "terminal").text)
    wait(browser).until(lambda d: "passed" in d.find_element(By.ID, "candidates").text)
    assert browser.find_elements(By.CSS_SELECTOR, "#plan li.done"), "plan steps are ticked as the run goes"

    # The reply was rendered as Markdown from text nodes: code in <code>, bold in <strong>.
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chat .msg.agent pre code"))
    assert "return a + b" in browser.find_element(By.CSS_SELECTOR, "#chat .msg.agent pre code").text
    assert browser.find_element(By.CSS_SELECTOR, "#chat .msg.agent strong").text == "calc.py"

    # Approval: the card shows, the diff is there, approve.
    approve = wait(browser).until(EC.visibility_of_element_located((By.ID, "approve")))
    assert "+    return a + b" in browser.find_element(By.ID, "diff").text
    browser.save_screenshot(str(ARTIFACTS / "web-app-approval.png"))
    approve.click()

    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chat .msg.summary.passed"))
    assert "Approved by browser" in browser.find_element(By.ID, "chat").text
    assert browser.find_element(By.ID, "approval-card").get_attribute("hidden") is not None
    wait(browser).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#plan li.done")) == len(d.find_elements(By.CSS_SELECTOR, "#plan li")))
    assert "+    return a + b" in browser.find_element(By.ID, "diff").text
    browser.save_screenshot(str(ARTIFACTS / "web-app.png"))

    # The audit trail lists the run, the approval by this user among it.
    browser.find_element(By.ID, "audit-load").click()
    wait(browser).until(lambda d: "browser" in d.find_element(By.ID, "audit").text)
    assert "approv" in browser.find_element(By.ID, "audit").text

    # The change reached the session's workspace on the server.
    applied = list(Path(server["home"], "data", "workspaces", "browser").glob("*/calc.py"))
    assert [p.read_text() for p in applied] == [CALC]

    # Deploy the applied change: the button (reached with the keyboard), the form, the summary
    # to approve, then the status following the push, the pull request and CI.
    deploy_open = wait(browser).until(EC.visibility_of_element_located((By.ID, "deploy-open")))
    deploy_open.send_keys(Keys.ENTER)
    wait(browser).until(EC.visibility_of_element_located((By.ID, "deploy-dialog")))
    wait(browser).until(lambda d: d.find_element(By.ID, "deploy-target").get_attribute("value") == "github")
    assert browser.switch_to.active_element.get_attribute("id") == "deploy-target"
    assert browser.find_element(By.ID, "deploy-pr-check").is_selected()
    browser.save_screenshot(str(ARTIFACTS / "web-app-deploy-form.png"))
    browser.find_element(By.ID, "deploy-start").click()
    deploy_approve = wait(browser).until(EC.visibility_of_element_located((By.ID, "deploy-approve")))
    summary = browser.find_element(By.ID, "deploy-summary").text
    assert "calc.py" in summary and "pull request" in summary and "github" in summary, summary
    assert git("--git-dir", str(server["bare"]), "branch", "--list", "--format=%(refname:short)").split() == ["main"], "nothing pushed before approval"
    browser.save_screenshot(str(ARTIFACTS / "web-app-deploy-approval.png"))
    # The question takes the focus, so the keyboard answers it.
    assert browser.switch_to.active_element.get_attribute("id") == "deploy-approve"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait(browser, 90).until(lambda d: "success" in d.find_element(By.ID, "deploy-badge").text)
    badge = browser.find_element(By.ID, "deploy-badge")
    assert "deployed" in badge.text and "succeeded" in badge.get_attribute("class")
    pull = browser.find_element(By.ID, "deploy-pr")
    assert pull.is_displayed() and pull.get_attribute("href") == PULL_URL and "#42" in pull.text
    assert browser.find_element(By.ID, "deploy-approval-card").get_attribute("hidden") is not None
    assert "approved by browser" in browser.find_element(By.ID, "deploy-detail").text
    branches = git("--git-dir", str(server["bare"]), "branch", "--list", "--format=%(refname:short)").split()
    pushed = [b for b in branches if b.startswith("doer/")]
    assert len(pushed) == 1, branches
    assert git("--git-dir", str(server["bare"]), "show", f"{pushed[0]}:calc.py") == CALC
    assert any(path == "/repos/octo-org/hello/pulls" for _, path, _ in FakeGitHub.requests)
    browser.save_screenshot(str(ARTIFACTS / "web-app-deploy.png"))

    # The same page on a phone-sized screen, after a reload (token kept, conversation listed).
    browser.set_window_size(390, 844)
    browser.refresh()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chat .msg.summary.passed"))
    assert browser.find_element(By.ID, "menu").is_displayed()
    # The deploy's state came back from the session's events.
    wait(browser).until(lambda d: "success" in d.find_element(By.ID, "deploy-badge").text)
    browser.save_screenshot(str(ARTIFACTS / "web-app-phone.png"))

    # Dark mode follows the system setting.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    red, green, blue = [int(part) for part in re.findall(r"\d+", background)[:3]]
    assert red + green + blue < 150, background
    browser.save_screenshot(str(ARTIFACTS / "web-app-phone-dark.png"))
    browser.execute_script("document.getElementById('deploy-card').scrollIntoView()")
    assert browser.find_element(By.ID, "deploy-pr").is_displayed()
    browser.save_screenshot(str(ARTIFACTS / "web-app-phone-dark-deploy.png"))
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})

    # Undo puts the session's workspace back as it was; the button goes with the change.
    undo = wait(browser).until(EC.visibility_of_element_located((By.ID, "undo")))
    browser.execute_script("arguments[0].scrollIntoView()", undo)
    undo.click()
    wait(browser).until(lambda d: not d.find_element(By.ID, "undo").is_displayed())
    assert list(Path(server["home"], "data", "workspaces", "browser").glob("*/calc.py")) == []


def test_untrusted_text_is_not_markup(server, browser):
    browser.set_window_size(1280, 900)
    browser.get(server["url"])
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "who"), "browser"))
    browser.find_element(By.ID, "new-session").click()
    message = browser.find_element(By.ID, "message")
    message.send_keys("<img src=x onerror=\"document.title='pwned'\"> **bold**")
    message.send_keys(Keys.CONTROL, Keys.ENTER)
    wait(browser).until(lambda d: "<img src=x" in d.find_element(By.ID, "chat").text)
    assert browser.title != "pwned"
    assert not browser.find_elements(By.CSS_SELECTOR, "#chat img")
