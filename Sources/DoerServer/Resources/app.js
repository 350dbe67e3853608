// Doer's web app: conversations with the agent, its plan, runs, diff and approvals,
// all from the HTTP API and its event stream. Untrusted text is only ever set as
// textContent (or built into nodes by markdown.js).
import { renderMarkdown } from "./markdown.js";
import { followEvents } from "./sse.js";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "doer.token";
const state = { token: localStorage.getItem(TOKEN_KEY), sessions: [], current: null, stream: null, view: null };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + state.token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) { signOut("Your token was not accepted; paste a valid one."); throw new Error("unauthorised"); }
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) throw new Error(data?.error?.message || "HTTP " + response.status);
  return data;
}

// Sign-in

function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.stream?.stop();
  $("login-error").textContent = message || "";
  $("login").showModal();
}

async function signIn(token) {
  state.token = token;
  try {
    const me = await api("GET", "/v1/me");
    localStorage.setItem(TOKEN_KEY, token);
    $("who").textContent = me.user;
    $("login").close();
    await refreshSessions();
    if (state.sessions.length && !state.current) selectSession(state.sessions[0].id);
  } catch (error) {
    if (error.message !== "unauthorised") { $("login-error").textContent = error.message; $("login").showModal(); }
  }
}

// Conversation list

async function refreshSessions() {
  const data = await api("GET", "/v1/sessions");
  state.sessions = data.sessions;
  const list = $("sessions");
  list.replaceChildren();
  for (const session of state.sessions) {
    const item = el("li");
    item.dataset.id = session.id;
    item.tabIndex = 0;
    if (session.id === state.current) item.classList.add("active");
    item.append(el("span", "title", session.title));
    const status = session.running ? (session.pending_approvals.length ? "waiting for approval" : "running") : (session.outcome || "idle");
    item.append(el("span", "meta", status + " · " + new Date(session.created_at).toLocaleString()));
    item.addEventListener("click", () => selectSession(session.id));
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") selectSession(session.id); });
    list.append(item);
  }
}

function moveSelection(step) {
  if (!state.sessions.length) return;
  const index = state.sessions.findIndex((s) => s.id === state.current);
  const next = Math.max(0, Math.min(state.sessions.length - 1, index < 0 ? 0 : index + step));
  selectSession(state.sessions[next].id);
}

function newConversation() {
  state.stream?.stop();
  state.current = null;
  $("conversation").hidden = true;
  $("empty").hidden = false;
  $("files-box").hidden = false;
  document.querySelectorAll("#sessions li").forEach((li) => li.classList.remove("active"));
  $("message").focus();
}

// One conversation: its events drive every panel.

function resetView() {
  state.view = { steps: [], stepDone: new Set(), agentBubble: null, agentText: "", candidates: new Map(), pending: new Map(), runs: new Map(),
                 applied: false, deploys: new Map() };
  $("chat").replaceChildren();
  $("plan").replaceChildren();
  $("candidates").replaceChildren();
  $("diff").replaceChildren();
  $("terminal").replaceChildren();
  $("audit").replaceChildren();
  $("approval-card").hidden = true;
  $("deploy-card").hidden = true;
  $("deploy-approval-card").hidden = true;
  $("status-line").textContent = "";
}

function selectSession(id) {
  state.stream?.stop();
  state.current = id;
  document.body.classList.remove("menu-open");
  document.querySelectorAll("#sessions li").forEach((li) => li.classList.toggle("active", li.dataset.id === id));
  $("empty").hidden = true;
  $("conversation").hidden = false;
  $("files-box").hidden = true;
  resetView();
  state.stream = followEvents(`/v1/sessions/${encodeURIComponent(id)}/events`, state.token, handleEvent, {
    onState: (s) => { if (s.connected === false) $("status-line").textContent = "reconnecting…"; },
  });
}

function scrollChat() { const chat = $("chat"); chat.scrollTop = chat.scrollHeight; }

function finishAgentBubble() {
  const v = state.view;
  if (v.agentBubble && v.agentText.trim()) {
    const body = v.agentBubble.querySelector(".body");
    body.classList.remove("streaming");
    body.replaceChildren(renderMarkdown(v.agentText));
  } else if (v.agentBubble) {
    v.agentBubble.remove();
  }
  v.agentBubble = null;
  v.agentText = "";
}

function markStep(predicate) {
  const v = state.view;
  v.steps.forEach((step, index) => { if (predicate(step.toLowerCase())) v.stepDone.add(index); });
  renderPlan();
}

function renderPlan() {
  const v = state.view;
  const list = $("plan");
  list.replaceChildren();
  v.steps.forEach((step, index) => {
    const item = el("li", v.stepDone.has(index) ? "done" : "", step);
    list.append(item);
  });
}

function renderCandidates() {
  const list = $("candidates");
  list.replaceChildren();
  for (const [index, status] of state.view.candidates) {
    const item = el("li");
    item.append(el("span", "", "candidate " + index));
    item.append(el("span", "badge " + status.kind, status.label));
    list.append(item);
  }
}

function renderDiff(text) {
  const pre = $("diff");
  pre.replaceChildren();
  for (const line of String(text || "").split("\n")) {
    let cls = "";
    if (line.startsWith("+++") || line.startsWith("---")) cls = "";
    else if (line.startsWith("+")) cls = "add";
    else if (line.startsWith("-")) cls = "del";
    else if (line.startsWith("@@")) cls = "hunk";
    pre.append(el("span", cls, line));
  }
}

function renderApproval() {
  const pending = [...state.view.pending.values()];
  $("approval-card").hidden = pending.length === 0;
  if (pending.length) $("approval-summary").textContent = pending[0].summary;
}

function handleEvent(type, payload) {
  const v = state.view;
  const data = payload[type] ?? {};
  switch (type) {
    case "started": {
      finishAgentBubble();
      $("chat").append(el("div", "msg user", data.task));
      $("status-line").textContent = "working…";
      v.stepDone = new Set();
      break;
    }
    case "plan": {
      v.steps = data._0.steps;
      renderPlan();
      break;
    }
    case "messageDelta": {
      if (!v.agentBubble) {
        v.agentBubble = el("div", "msg agent");
        v.agentBubble.append(el("div", "who", "candidate " + data.candidate));
        v.agentBubble.append(el("div", "body streaming"));
        $("chat").append(v.agentBubble);
      }
      v.agentText += data.text;
      v.agentBubble.querySelector(".body").textContent = v.agentText;
      scrollChat();
      break;
    }
    case "action": {
      finishAgentBubble();
      const action = data._1 || {};
      if (action.writeFile || action.editFile) {
        const path = (action.writeFile || action.editFile).path;
        markStep((s) => s.startsWith("write the code") || (s.startsWith("write tests") && /test/.test(path)));
      }
      break;
    }
    case "executionStarted": {
      finishAgentBubble();
      const run = el("div", "run");
      const cmd = el("div", "cmd", "$ " + data.command);
      const out = el("pre", "", "running…");
      run.append(cmd, out);
      $("terminal").append(run);
      v.runs.set(data.candidate, { cmd, out });
      $("terminal").scrollTop = $("terminal").scrollHeight;
      break;
    }
    case "executionOutput": {
      // The command's output as it comes; text only, never markup.
      const run = v.runs.get(data.candidate);
      if (!run) break;
      if (!run.live) { run.out.textContent = ""; run.live = true; }
      run.out.textContent += data.text;
      $("terminal").scrollTop = $("terminal").scrollHeight;
      break;
    }
    case "executionFinished": {
      let run = v.runs.get(data.candidate);
      if (!run) {
        const node = el("div", "run");
        run = { cmd: el("div", "cmd", "$ " + data.command), out: el("pre") };
        node.append(run.cmd, run.out);
        $("terminal").append(node);
      }
      run.cmd.classList.add(data.exitCode === 0 ? "ok" : "fail");
      // What streamed in stays (it is the fuller text); otherwise the trimmed whole.
      if (!run.live) run.out.textContent = data.output || "(no output)";
      v.runs.delete(data.candidate);
      $("terminal").scrollTop = $("terminal").scrollHeight;
      break;
    }
    case "testReport": {
      markStep((s) => s.startsWith("run the tests") || s.startsWith("write tests"));
      if (data.report.failed === 0 && data.report.passed > 0 && !data.report.failureSummary) markStep((s) => s.startsWith("repair"));
      break;
    }
    case "candidateStatus": {
      const [kind] = Object.keys(data.status);
      const detail = data.status[kind] || {};
      const label = detail.iteration !== undefined ? `${kind} (${detail.iteration})` : detail.reason ? `${kind}: ${detail.reason}` : kind;
      v.candidates.set(data.candidate, { kind, label });
      if (kind === "generating") finishAgentBubble();
      renderCandidates();
      break;
    }
    case "evidence": {
      // Whether the change was shown to do what was asked, in the words of the summary.
      const evidence = data._0;
      finishAgentBubble();
      $("chat").append(el("div", "msg agent", (evidence.verified ? "Evidence: " : "Unverified: ") + evidence.summary));
      break;
    }
    case "approvalRequested": {
      const request = data._0;
      v.pending.set(request.id, request);
      renderDiff(request.diff);
      renderApproval();
      $("status-line").textContent = "waiting for your approval";
      break;
    }
    case "approvalAnswered": {
      v.pending.delete(data.id);
      renderApproval();
      $("chat").append(el("div", "msg agent", (data.approved ? "Approved by " : "Not approved: ") + data.by));
      break;
    }
    case "changesApplied": {
      markStep((s) => s.startsWith("show the diff"));
      v.applied = true;
      renderDeploy();
      break;
    }
    case "undone": {
      v.applied = false;
      renderDeploy();
      break;
    }
    case "deploy": {
      rememberDeploy(data._0);
      break;
    }
    case "done": {
      finishAgentBubble();
      const summary = data._0;
      const passed = summary.outcome === "passed";
      // Unverified: the tests pass but nothing shows the request was done; not a success.
      const bubble = el("div", "msg summary " + (passed ? "passed" : summary.outcome === "unverified" ? "unverified" : "failed"));
      bubble.append(el("div", "who", "Doer · " + summary.outcome));
      const text = summary.message + (summary.changedFiles?.length ? "\n\nChanged files:\n" + summary.changedFiles.map((f) => `- \`${f.path}\` (${f.kind})`).join("\n") : "");
      bubble.append(renderMarkdown(text));
      $("chat").append(bubble);
      if (summary.diff) renderDiff(summary.diff);
      if (summary.applied) { v.applied = true; renderDeploy(); }
      v.pending.clear();
      renderApproval();
      $("status-line").textContent = "finished: " + summary.outcome;
      refreshSessions().catch(() => {});
      break;
    }
    default:
      break;
  }
  scrollChat();
}

// Deploys: a form to start one, a card to approve it, a badge that follows it.

const DEPLOY_LABELS = {
  preparing: "preparing…", awaiting_approval: "waiting for your approval", deploying: "deploying…",
  ci_running: "CI running", succeeded: "deployed", failed: "failed", denied: "not deployed",
  ci_unfinished: "CI still running", interrupted: "interrupted",
};
const DEPLOY_FINAL = new Set(["succeeded", "failed", "denied", "ci_unfinished", "interrupted"]);

function setLink(node, url, text) {
  // Only web links from the forge become links; anything else is not shown.
  const ok = typeof url === "string" && /^https?:\/\//i.test(url);
  node.hidden = !ok;
  if (ok) { node.href = url; node.textContent = text; } else node.removeAttribute("href");
}

// The API's answer and the event stream both bring states; the newer one wins.
function rememberDeploy(progress) {
  const known = state.view.deploys.get(progress.id);
  if (!known || known.updated_at <= progress.updated_at) state.view.deploys.set(progress.id, progress);
  renderDeploy();
}

function latestDeploy() {
  const all = [...state.view.deploys.values()];
  return all[all.length - 1];
}

function renderDeploy() {
  const v = state.view;
  const latest = latestDeploy();
  $("deploy-card").hidden = !(v.applied || latest);
  $("deploy-open").disabled = !v.applied || (latest && !DEPLOY_FINAL.has(latest.state));
  $("undo").hidden = !v.applied;
  const badge = $("deploy-badge");
  if (!latest) {
    badge.hidden = true;
    $("deploy-detail").textContent = v.applied ? "The applied change can be pushed to a branch, with a pull request and CI." : "";
    setLink($("deploy-pr"), null);
    setLink($("deploy-ci"), null);
    $("deploy-approval-card").hidden = true;
    return;
  }
  badge.hidden = false;
  badge.className = "badge " + latest.state;
  let label = DEPLOY_LABELS[latest.state] || latest.state;
  if (latest.ci) label += ` · CI ${latest.ci.conclusion || latest.ci.status.replace("_", " ")}`;
  badge.textContent = label;
  const review = latest.pull_request;
  setLink($("deploy-pr"), review?.url, review ? `${review.kind} #${review.number}` : "");
  setLink($("deploy-ci"), latest.ci?.url, "CI run");
  const detail = [];
  if (latest.branch) detail.push((latest.pushed ? "pushed " : "branch ") + latest.branch);
  if (latest.approval) detail.push((latest.approval.approved ? "approved by " : "not approved: ") + (latest.approval.reason || latest.approval.by));
  if (latest.error) detail.push(latest.error);
  $("deploy-detail").textContent = detail.join(" · ");
  const waiting = latest.state === "awaiting_approval";
  const card = $("deploy-approval-card");
  const shownBefore = !card.hidden && card.dataset.deploy === latest.id;
  card.hidden = !waiting;
  $("status-line").textContent = waiting ? "a deploy is waiting for your approval" : "deploy: " + label;
  if (waiting && !shownBefore) {
    card.dataset.deploy = latest.id;
    $("deploy-summary").textContent = latest.summary || "";
    // Bring the question to the person: in view, and focused unless they are typing.
    card.scrollIntoView({ block: "nearest" });
    const active = document.activeElement;
    if (!active || !["TEXTAREA", "INPUT", "SELECT"].includes(active.tagName)) $("deploy-approve").focus();
  }
}

async function openDeployDialog() {
  if (!state.current) return;
  $("deploy-error").textContent = "";
  $("deploy-branch").value = "";
  $("deploy-branch").placeholder = "doer/" + state.current.slice(0, 8);
  const select = $("deploy-target");
  select.replaceChildren(el("option", "", "none: push only"));
  select.firstChild.value = "";
  try {
    const info = await api("GET", "/v1/deploy/targets");
    $("deploy-remote").textContent = `Pushes to ${info.remote}; pull requests go into ${info.base_branch}.`;
    for (const target of info.targets) {
      const option = el("option", "", target.available ? target.name : `${target.name} (not configured)`);
      option.value = target.name;
      option.disabled = !target.available;
      if (target.problem) option.title = target.problem;
      select.append(option);
    }
    const firstReady = info.targets.find((t) => t.available);
    if (firstReady) select.value = firstReady.name;
    const pr = $("deploy-pr-check");
    pr.disabled = !info.pull_request.available;
    pr.checked = info.pull_request.available;
    pr.parentElement.title = info.pull_request.problem || "";
    $("deploy-start").disabled = !info.available;
    if (!info.available) $("deploy-error").textContent = info.problem;
  } catch (error) {
    $("deploy-error").textContent = error.message;
  }
  $("deploy-dialog").showModal();
  select.focus();
}

async function startDeploy() {
  const body = { pull_request: $("deploy-pr-check").checked };
  const target = $("deploy-target").value;
  const branch = $("deploy-branch").value.trim();
  if (target) body.target = target;
  if (branch) body.branch = branch;
  $("deploy-start").disabled = true;
  try {
    const progress = await api("POST", `/v1/sessions/${encodeURIComponent(state.current)}/deploys`, body);
    rememberDeploy(progress);
    $("deploy-dialog").close();
  } catch (error) {
    $("deploy-error").textContent = error.message;
  } finally {
    $("deploy-start").disabled = false;
  }
}

async function answerDeploy(approved) {
  const latest = latestDeploy();
  if (!latest || latest.state !== "awaiting_approval" || !state.current) return;
  try {
    const progress = await api("POST", `/v1/sessions/${encodeURIComponent(state.current)}/deploys/${encodeURIComponent(latest.id)}/approval`, { approved });
    rememberDeploy(progress);
  } catch (error) {
    $("status-line").textContent = error.message;
  }
}

async function loadAudit() {
  if (!state.current) return;
  const list = $("audit");
  list.replaceChildren();
  try {
    const data = await api("GET", `/v1/sessions/${encodeURIComponent(state.current)}/audit`);
    for (const record of data.records) {
      const item = el("li");
      item.append(el("span", "kind", record.kind), document.createTextNode(` · ${record.actor} · ${new Date(record.time).toLocaleTimeString()}`));
      item.title = "hash " + record.hash;
      list.append(item);
    }
    if (!data.records.length) list.append(el("li", "muted", "no records yet"));
  } catch (error) {
    list.append(el("li", "error", error.message));
  }
}

async function undoChange() {
  if (!state.current) return;
  try {
    // The server records the undo in the session; its "undone" event updates the view.
    await api("POST", `/v1/sessions/${encodeURIComponent(state.current)}/undo`);
    $("status-line").textContent = "the change was undone";
  } catch (error) {
    $("status-line").textContent = error.message;
  }
}

async function answerApproval(approve) {
  const [pending] = state.view?.pending.values() ?? [];
  if (!pending || !state.current) return;
  try {
    await api("POST", `/v1/sessions/${encodeURIComponent(state.current)}/approvals/${encodeURIComponent(pending.id)}`, { approve });
  } catch (error) {
    $("status-line").textContent = error.message;
  }
}

function parseFiles(text) {
  const files = {};
  let current = null;
  for (const line of text.split("\n")) {
    const header = line.match(/^===\s+(\S.*)$/);
    if (header) { current = header[1].trim(); files[current] = ""; continue; }
    if (current !== null) files[current] += line + "\n";
  }
  return files;
}

async function send() {
  const message = $("message").value.trim();
  if (!message) return;
  $("send").disabled = true;
  try {
    if (state.current) {
      await api("POST", `/v1/sessions/${encodeURIComponent(state.current)}/messages`, { text: message });
    } else {
      const session = await api("POST", "/v1/sessions", { message, files: parseFiles($("files-input").value) });
      $("files-input").value = "";
      await refreshSessions();
      selectSession(session.id);
    }
    $("message").value = "";
  } catch (error) {
    $("status-line").textContent = error.message;
    if (!state.current) { $("empty").hidden = false; $("empty").querySelector("p").textContent = error.message; }
  } finally {
    $("send").disabled = false;
  }
}

// Wiring

$("login-form").addEventListener("submit", (event) => { event.preventDefault(); signIn($("token-input").value.trim()); });
$("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); send(); }
});
$("new-session").addEventListener("click", newConversation);
$("sign-out").addEventListener("click", () => signOut());
$("approve").addEventListener("click", () => answerApproval(true));
$("audit-load").addEventListener("click", loadAudit);
$("deny").addEventListener("click", () => answerApproval(false));
$("deploy-open").addEventListener("click", openDeployDialog);
$("undo").addEventListener("click", undoChange);
$("deploy-form").addEventListener("submit", (event) => { event.preventDefault(); startDeploy(); });
$("deploy-cancel").addEventListener("click", () => $("deploy-dialog").close());
$("deploy-approve").addEventListener("click", () => answerDeploy(true));
$("deploy-deny").addEventListener("click", () => answerDeploy(false));
$("menu").addEventListener("click", () => document.body.classList.toggle("menu-open"));
$("help-button").addEventListener("click", () => $("help").showModal());
document.addEventListener("keydown", (event) => {
  const typing = ["TEXTAREA", "INPUT", "SELECT"].includes(document.activeElement?.tagName);
  if (typing || event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) return;
  const actions = { j: () => moveSelection(1), k: () => moveSelection(-1), n: newConversation, "/": () => $("message").focus(),
                    a: () => answerApproval(true), d: () => answerApproval(false), "?": () => $("help").showModal() };
  if (actions[event.key]) { event.preventDefault(); actions[event.key](); }
});
setInterval(() => { if (state.token) refreshSessions().catch(() => {}); }, 5000);

if (state.token) signIn(state.token); else $("login").showModal();
