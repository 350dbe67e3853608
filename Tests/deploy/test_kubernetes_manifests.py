"""The Kubernetes manifests in deploy/kubernetes, checked offline.

Every object of every manifest is validated by kubernetes-validate (PyPI; its schemas ship
inside the package, so nothing is downloaded) against one pinned Kubernetes version, in
strict mode, so an unknown field is an error as well as a wrong type. A manifest broken on
purpose must fail the same check, and the objects must hang together: the probes reach the
server's health route, the Role lets the server do what the backend does, and the sandbox
pod is under the gVisor RuntimeClass with no network.

Run: python3 -m pytest -q -p no:cacheprovider Tests/deploy
"""

import copy
import pathlib
import subprocess
import sys

# A missing package must fail the run, not skip it: `make test` installs it (scripts/setup.sh all).
import kubernetes_validate
import pytest
import yaml

KUBERNETES_VERSION = "1.32.0"
ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
FILES = sorted(MANIFESTS.glob("*.yaml")) + sorted((MANIFESTS / "sandbox").glob("*.yaml"))


def objects(path):
    with open(path) as handle:
        return [item for item in yaml.safe_load_all(handle) if item]


def validate(resource):
    """Raises kubernetes_validate's ValidationError or SchemaNotFoundError when it does not validate."""
    return kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def every_object():
    return [(path.relative_to(MANIFESTS), item) for path in FILES for item in objects(path)]


def find(kind, name):
    matches = [item for _, item in every_object() if item["kind"] == kind and item["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def test_the_manifests_are_there():
    kinds = {item["kind"] for _, item in every_object()}
    for kind in ["Namespace", "RuntimeClass", "ServiceAccount", "Role", "RoleBinding", "Secret", "ConfigMap",
                 "Deployment", "Service", "StatefulSet", "NetworkPolicy", "Pod"]:
        assert kind in kinds, f"no {kind} in deploy/kubernetes"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(MANIFESTS)) for p in FILES])
def test_every_object_validates_against_the_pinned_schema(path):
    items = objects(path)
    assert items, f"{path} holds no object"
    for item in items:
        # validate() answers the schema version it used: the pinned one, never a fallback.
        assert validate(item) == "1.32"
        assert item["metadata"]["labels"]["app.kubernetes.io/part-of"] == "doer"


BROKEN = [
    ("a number where a string belongs", lambda d: d["spec"]["template"]["spec"]["containers"][0].__setitem__("image", 42)),
    ("a field Kubernetes does not have", lambda d: d["spec"]["template"]["spec"].__setitem__("runtimeClass", "gvisor")),
    ("replicas as text", lambda d: d["spec"].__setitem__("replicas", "two")),
    ("a probe without a port", lambda d: d["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"].pop("port")),
]


@pytest.mark.parametrize("why,breaking", BROKEN, ids=[why for why, _ in BROKEN])
def test_a_broken_manifest_fails(why, breaking):
    deployment = copy.deepcopy(find("Deployment", "doer"))
    validate(deployment)
    breaking(deployment)
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)


def test_a_broken_file_fails_the_command_line(tmp_path):
    """The validator's own command line, as someone would run it on a changed file."""
    text = (MANIFESTS / "50-doer.yaml").read_text().replace("replicas: 2", "replicas: two")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text)
    command = [sys.executable, "-m", "kubernetes_validate", "--strict", "-k", KUBERNETES_VERSION]
    good = subprocess.run(command + [str(MANIFESTS / "50-doer.yaml")], capture_output=True, text=True)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = subprocess.run(command + [str(broken)], capture_output=True, text=True)
    assert bad.returncode != 0
    assert "replicas" in bad.stdout


def test_an_unknown_kind_is_not_passed_over():
    with pytest.raises(kubernetes_validate.utils.SchemaNotFoundError):
        validate({"apiVersion": "v1", "kind": "Pond", "metadata": {"name": "x"}})


def test_the_server_is_probed_on_its_health_route():
    routes = (ROOT / "Sources" / "DoerServer" / "Routes" / "WebAppRoutes.swift").read_text()
    assert 'router.get("/healthz")' in routes
    container = find("Deployment", "doer")["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["port"] == "http"
    assert container["args"][:1] == ["serve"] and "0.0.0.0" in container["args"]
    service = find("Service", "doer")
    assert service["spec"]["selector"] == find("Deployment", "doer")["spec"]["selector"]["matchLabels"]


def test_the_store_url_comes_from_a_secret():
    container = find("Deployment", "doer")["spec"]["template"]["spec"]["containers"][0]
    secret_names = [source["secretRef"]["name"] for source in container["envFrom"]]
    secret = find("Secret", secret_names[0])
    url = secret["stringData"]["DOER_STORE_URL"]
    assert url.startswith("postgres://")
    postgres = find("Secret", "doer-postgres")["stringData"]
    assert f"{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres.doer.svc:5432/{postgres['POSTGRES_DB']}" in url
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert mounts["config"] == env["DOER_HOME"] + "/config"   # where DataDirectory looks for config.toml
    assert "config.toml" in find("ConfigMap", "doer-config")["data"]


def test_postgres_keeps_its_data_on_a_claim():
    statefulset = find("StatefulSet", "postgres")
    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    mounts = statefulset["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert claim["metadata"]["name"] in [m["name"] for m in mounts]
    assert statefulset["spec"]["serviceName"] == find("Service", "postgres")["metadata"]["name"]


def test_the_server_may_do_what_the_backend_does_and_no_more():
    role = find("Role", "doer-sandboxes")
    binding = find("RoleBinding", "doer-sandboxes")
    assert role["metadata"]["namespace"] == "doer-sandboxes"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "doer", "namespace": "doer"}]
    assert find("Deployment", "doer")["spec"]["template"]["spec"]["serviceAccountName"] == "doer"
    granted = {(resource, verb) for rule in role["rules"] for resource in rule["resources"] for verb in rule["verbs"]}
    for verb in ["create", "get", "watch", "delete", "list"]:
        assert ("pods", verb) in granted
    for verb in ["create", "delete", "list"]:
        assert ("networkpolicies", verb) in granted
    assert not any(resource in ("secrets", "pods/exec") for resource, _ in granted)


def test_the_sandbox_pod_runs_under_gvisor_without_network():
    runtime = find("RuntimeClass", "gvisor")
    assert runtime["handler"] == "runsc"
    pods = [item for _, item in every_object() if item["kind"] == "Pod"]
    assert len(pods) == 1
    pod = pods[0]
    spec = pod["spec"]
    assert spec["runtimeClassName"] == "gvisor"
    assert spec["automountServiceAccountToken"] is False
    assert spec["restartPolicy"] == "Never" and spec["activeDeadlineSeconds"] > 0
    container = spec["containers"][0]
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    sandbox = pod["metadata"]["labels"]["doer.dev/sandbox"]
    policy = find("NetworkPolicy", pod["metadata"]["name"])
    assert policy["spec"]["podSelector"]["matchLabels"] == {"doer.dev/sandbox": sandbox}
    assert policy["spec"]["egress"] == [] and "Egress" in policy["spec"]["policyTypes"]
    runner_port = container["ports"][0]["containerPort"]
    for name in [pod["metadata"]["name"], "sandboxes-isolated"]:
        rule = find("NetworkPolicy", name)["spec"]["ingress"]
        assert [p["port"] for r in rule for p in r["ports"]] == [runner_port]
    assert find("Namespace", "doer-sandboxes")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


AGENT_SANDBOX = MANIFESTS / "agent-sandbox" / "sandbox-template.yaml"


def test_the_agent_sandbox_template_holds_a_valid_pod_and_policy():
    """agent-sandbox's kinds have no schema in kubernetes-validate; what they embed does."""
    items = objects(AGENT_SANDBOX)
    template = next(item for item in items if item["kind"] == "SandboxTemplate")
    pool = next(item for item in items if item["kind"] == "SandboxWarmPool")
    assert template["apiVersion"] == pool["apiVersion"] == "extensions.agents.x-k8s.io/v1alpha1"
    assert pool["spec"]["sandboxTemplateRef"]["name"] == template["metadata"]["name"] == "doer-sandbox"
    assert template["metadata"]["namespace"] == pool["metadata"]["namespace"] == "doer-sandboxes"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "claimed", "namespace": "doer-sandboxes",
                                                          **template["spec"]["podTemplate"]["metadata"]},
           "spec": template["spec"]["podTemplate"]["spec"]}
    validate(pod)
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "doer-sandbox", "namespace": "doer-sandboxes"},
              "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **template["spec"]["networkPolicy"]}}
    validate(policy)
    broken = copy.deepcopy(pod)
    broken["spec"]["containers"][0]["resources"]["limits"]["memory"] = ["not", "a", "quantity"]
    with pytest.raises(Exception):
        validate(broken)


def test_the_agent_sandbox_template_is_one_doer_accepts():
    spec = objects(AGENT_SANDBOX)[0]["spec"]
    pod = spec["podTemplate"]["spec"]
    assert pod["runtimeClassName"] == find("RuntimeClass", "gvisor")["metadata"]["name"]
    assert pod["automountServiceAccountToken"] is False
    assert spec["networkPolicyManagement"] == "Managed" and spec["networkPolicy"]["egress"] == []
    runner = pod["containers"][0]
    assert runner["command"][0] == "doer-sandbox-runner"
    sandbox_pod = next(item for _, item in every_object() if item["kind"] == "Pod")
    assert runner["ports"] == sandbox_pod["spec"]["containers"][0]["ports"]
    assert runner["securityContext"] == sandbox_pod["spec"]["containers"][0]["securityContext"]
    granted = {(resource, verb) for rule in find("Role", "doer-sandboxes")["rules"]
               for resource in rule["resources"] for verb in rule["verbs"]}
    for verb in ["create", "get", "watch", "delete", "list"]:
        assert ("sandboxclaims", verb) in granted
    assert ("sandboxtemplates", "get") in granted
    assert ("sandboxtemplates", "create") not in granted
