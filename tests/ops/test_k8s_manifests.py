"""deploy/k8s and the Dockerfile, checked offline: each overlay renders (tests/helpers/kustomize.py), every object
validates against the Kubernetes API schema (kubernetes-validate ships them) or, for Strimzi's KafkaTopic,
against a schema written here; and the operational rules hold: probes, limits, a locked-down security
context, graceful drain time, an Ingress and topics that agree with the code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from switchboard_common.infra.bus import TOPIC_SPECS, kafka_connection
from switchboard_common.infra.settings import CommonSettings
from switchboard_common.infra.topology import (
    PATH_PREFIXES,
    PUBLIC_EXACT_PATHS,
    PUBLIC_PREFIXES,
    SERVICE_PORTS,
    publicly_routed,
    service_for_path,
)

from tests.helpers.kustomize import Resource, build, pod_spec, resource_id, strategic_merge

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = {
    "dev": "switchboard-dev",
    "prod": "switchboard",
    "region-eu": "switchboard-eu",
    "region-us": "switchboard-us",
}
SERVICES = ("gateway", "connectors", "router", "privacy")
# The connectors' background workers run apart from its webhooks: Deployment suffix -> `--workers` role.
CONNECTOR_WORKERS = {"connectors-ingest": "ingest", "connectors-outbound": "outbound"}
KUBERNETES_VERSION = "1.31"
# What a pod needs after SIGTERM: uvicorn's graceful shutdown (10 s, service.serve), the consumers finishing
# their record and committing (up to 20 s, EventConsumer.stop) and the outbox relay (10 s), after the
# preStop pause that lets endpoints drop the pod.
DRAIN_SECONDS = 10 + 20 + 10
REQUIRED_SECRETS = {"SECRET_KEY", "ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL"}

KAFKA_TOPIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "kafka.strimzi.io/v1beta2"},
        "kind": {"const": "KafkaTopic"},
        "metadata": {
            "type": "object",
            "required": ["name", "labels"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253},
                "labels": {
                    "type": "object",
                    "required": ["strimzi.io/cluster"],
                    "additionalProperties": {"type": "string"},
                },
            },
        },
        "spec": {
            "type": "object",
            "required": ["topicName", "partitions", "replicas", "config"],
            "additionalProperties": False,
            "properties": {
                "topicName": {"type": "string", "pattern": "^[a-zA-Z0-9._-]{1,249}$"},
                "partitions": {"type": "integer", "minimum": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                "config": {
                    "type": "object",
                    "required": ["retention.ms", "cleanup.policy"],
                    "properties": {
                        "retention.ms": {"type": "integer", "minimum": -1},
                        "cleanup.policy": {"enum": ["delete", "compact", "compact,delete", "delete,compact"]},
                        "min.insync.replicas": {"type": "integer", "minimum": 1},
                    },
                },
            },
        },
    },
}


KAFKA_USER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "kafka.strimzi.io/v1beta2"},
        "kind": {"const": "KafkaUser"},
        "metadata": KAFKA_TOPIC_SCHEMA["properties"]["metadata"],
        "spec": {
            "type": "object",
            "required": ["authentication", "authorization"],
            "additionalProperties": False,
            "properties": {
                "authentication": {
                    "type": "object",
                    "required": ["type"],
                    "properties": {"type": {"enum": ["scram-sha-512", "tls", "tls-external"]}},
                },
                "authorization": {
                    "type": "object",
                    "required": ["type", "acls"],
                    "properties": {
                        "type": {"const": "simple"},
                        "acls": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["resource", "operations"],
                                "additionalProperties": False,
                                "properties": {
                                    "resource": {
                                        "type": "object",
                                        "required": ["type", "name", "patternType"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "type": {"enum": ["topic", "group", "cluster", "transactionalId"]},
                                            "name": {"type": "string"},
                                            "patternType": {"enum": ["literal", "prefix"]},
                                        },
                                    },
                                    "operations": {
                                        "type": "array",
                                        "items": {
                                            "enum": [
                                                "Read",
                                                "Write",
                                                "Create",
                                                "Delete",
                                                "Alter",
                                                "Describe",
                                                "ClusterAction",
                                                "AlterConfigs",
                                                "DescribeConfigs",
                                                "IdempotentWrite",
                                                "All",
                                            ]
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[Resource]]:
    return request.param, build(K8S / "overlays" / request.param)


def of_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def named(resources: list[Resource], kind: str, name: str) -> Resource:
    matches = [r for r in resources if resource_id(r) == (kind, name)]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def test_every_object_validates_against_its_schema(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    for resource in resources:
        if resource["kind"] == "KafkaTopic":
            jsonschema.validate(resource, KAFKA_TOPIC_SCHEMA)
        elif resource["kind"] == "KafkaUser":
            jsonschema.validate(resource, KAFKA_USER_SCHEMA)
        else:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_the_validation_rejects_a_broken_object() -> None:
    """The checks above can fail: a misspelt field and a wrong type are caught."""
    deployment = named(build(K8S / "overlays" / "dev"), "Deployment", "switchboard-gateway")
    misspelt = strategic_merge(deployment, {"spec": {"replica": 2}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    wrong_type = strategic_merge(deployment, {"spec": {"replicas": "two"}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSION, strict=True)
    topic = of_kind(build(K8S / "base"), "KafkaTopic")[0]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(strategic_merge(topic, {"spec": {"partitions": "many"}}), KAFKA_TOPIC_SCHEMA)


def test_everything_lands_in_the_overlay_namespace(overlay: tuple[str, list[Resource]]) -> None:
    name, resources = overlay
    for resource in resources:
        if resource["kind"] == "Namespace":
            assert resource["metadata"]["name"] == OVERLAYS[name]
        else:
            assert resource["metadata"]["namespace"] == OVERLAYS[name], resource_id(resource)


def test_each_service_has_a_deployment_service_autoscaler_and_disruption_budget(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    for service in (*SERVICES, *CONNECTOR_WORKERS):
        deployment = named(resources, "Deployment", f"switchboard-{service}")
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        if service in SERVICES:  # worker Deployments take no traffic: no Service
            svc = named(resources, "Service", f"switchboard-{service}")
            assert svc["spec"]["selector"].items() <= pod_labels.items()
        hpa = named(resources, "HorizontalPodAutoscaler", f"switchboard-{service}")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"switchboard-{service}",
        }
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        pdb = named(resources, "PodDisruptionBudget", f"switchboard-{service}")
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def _check_container_security(where: str, container: dict[str, Any], pod: dict[str, Any]) -> None:
    security = container["securityContext"]
    assert security["runAsNonRoot"] is True, where
    assert security["readOnlyRootFilesystem"] is True, where
    assert security["allowPrivilegeEscalation"] is False, where
    assert security["capabilities"]["drop"] == ["ALL"], where
    assert security["seccompProfile"]["type"] == "RuntimeDefault", where
    assert pod["securityContext"]["runAsNonRoot"] is True, where
    # A read-only root needs a writable /tmp.
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")  # noqa: S108
    assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"]), where
    assert pod["automountServiceAccountToken"] is False, where


def _check_resources(where: str, container: dict[str, Any]) -> None:
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{where}: {bound}"


def _check_secret_refs(where: str, container: dict[str, Any]) -> None:
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert set(refs) >= REQUIRED_SECRETS, where
    # Ours from switchboard-secrets; production's Kafka password from the Secret Strimzi writes for the KafkaUser.
    kafka_user = ("KAFKA_SASL_PASSWORD", "switchboard-kafka-user", "password")
    assert all(
        (ref["name"] == "switchboard-secrets" and ref["key"] == env) or (env, ref["name"], ref["key"]) == kafka_user
        for env, ref in refs.items()
    ), where
    assert {"configMapRef": {"name": "switchboard-config"}} in container["envFrom"], where


def test_every_deployment_has_probes_limits_security_and_drain_time(overlay: tuple[str, list[Resource]]) -> None:
    name, resources = overlay
    deployments = of_kind(resources, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {f"switchboard-{s}" for s in (*SERVICES, *CONNECTOR_WORKERS)}
    for deployment in deployments:
        where = f"{name}/{deployment['metadata']['name']}"
        pod = pod_spec(deployment)
        assert pod["terminationGracePeriodSeconds"] > DRAIN_SECONDS + 5, where
        (container,) = pod["containers"]
        service = container["name"]
        assert container["args"][0] == f"switchboard_{service}", where
        assert importlib.util.find_spec(container["args"][0]) is not None, where
        port = SERVICE_PORTS[service]
        config = named(resources, "ConfigMap", "switchboard-config")["data"]
        metrics_port = int(config["METRICS_PORT"])
        assert container["ports"] == [
            {"name": "http", "containerPort": port, "protocol": "TCP"},
            {"name": "metrics", "containerPort": metrics_port, "protocol": "TCP"},
        ], where
        # Prometheus scrapes the metrics port, which no Service exposes (so no Ingress can route it).
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(metrics_port) != str(port), where
        role = CONNECTOR_WORKERS.get(deployment["metadata"]["name"].removeprefix("switchboard-"))
        expected = ["--port", str(port)]
        if role:
            expected += ["--workers", role]
        elif service == "connectors":
            expected += ["--no-workers"]  # the webhooks' ack path only
        assert container["args"][1:] == expected, where
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, where
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, where
        _check_resources(where, container)
        _check_container_security(where, container, pod)
        _check_secret_refs(where, container)


def test_connectors_split_into_webhooks_scaled_on_requests_and_one_deployment_per_worker_role(
    overlay: tuple[str, list[Resource]],
) -> None:
    from switchboard_connectors.app import WORKER_ROLES

    _, resources = overlay
    assert set(CONNECTOR_WORKERS.values()) == set(WORKER_ROLES)  # every worker runs somewhere, once
    http = named(resources, "HorizontalPodAutoscaler", "switchboard-connectors")
    pods = [m["pods"] for m in http["spec"]["metrics"] if m["type"] == "Pods"]
    assert pods and pods[0]["metric"]["name"] == "switchboard_http_requests_per_second"
    for suffix in CONNECTOR_WORKERS:
        hpa = named(resources, "HorizontalPodAutoscaler", f"switchboard-{suffix}")
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"switchboard-{suffix}"
        deployment = named(resources, "Deployment", f"switchboard-{suffix}")
        (container,) = pod_spec(deployment)["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_images_are_pinned_per_overlay(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    workloads = [r for r in resources if r["kind"] in ("Deployment", "Job", "CronJob")]
    images = {c["image"] for r in workloads for c in pod_spec(r)["containers"]}
    assert len(images) == 1, images  # one image, one entry point per service
    (image,) = images
    assert ":" in image and not image.endswith(":latest"), image


def test_the_migration_job_runs_the_migrations(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    job = named(resources, "Job", "switchboard-migrate")
    pod = pod_spec(job)
    (container,) = pod["containers"]
    assert container["args"] == ["switchboard_common.migrations"]
    assert importlib.util.find_spec("switchboard_common.migrations") is not None
    assert pod["restartPolicy"] == "Never"
    _check_resources("migrate", container)
    _check_container_security("migrate", container, pod)
    _check_secret_refs("migrate", container)


def test_the_backup_cronjob_runs_the_backup_with_its_own_key(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    cronjob = named(resources, "CronJob", "switchboard-backup")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = pod_spec(cronjob)
    (container,) = pod["containers"]
    assert container["args"] == ["switchboard_ops", "backup"]
    assert importlib.util.find_spec("switchboard_ops.__main__") is not None
    assert pod["restartPolicy"] == "Never"
    _check_resources("backup", container)
    _check_container_security("backup", container, pod)
    backup_key = next(e for e in container["env"] if e["name"] == "BACKUP_KEY")
    assert backup_key["valueFrom"]["secretKeyRef"] == {"name": "switchboard-backup", "key": "BACKUP_KEY"}
    container = {**container, "env": [e for e in container["env"] if e["name"] != "BACKUP_KEY"]}
    _check_secret_refs("backup", container)
    config = named(resources, "ConfigMap", "switchboard-config")["data"]
    assert config["BACKUP_TARGET"] and config["ERASURE_LEDGER_URL"] and int(config["BACKUP_RETENTION_DAYS"]) >= 1
    assert config["BACKUP_TARGET"] != config["ERASURE_LEDGER_URL"], "the ledger lives outside the backups"
    # Only the backup job holds the backup key.
    for other in [*of_kind(resources, "Deployment"), *of_kind(resources, "Job")]:
        names = {e["name"] for c in pod_spec(other)["containers"] for e in c.get("env", [])}
        assert "BACKUP_KEY" not in names, other["metadata"]["name"]


def test_the_ingress_routes_paths_like_the_topology(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    (ingress,) = of_kind(resources, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    paths = rule["http"]["paths"]
    routes = {(p["path"], p["pathType"]): p["backend"]["service"]["name"] for p in paths}
    expected = {(prefix.rstrip("/"), "Prefix"): f"switchboard-{service}" for prefix, service in PATH_PREFIXES}
    expected |= {(p, "Prefix"): "switchboard-gateway" for p in PUBLIC_PREFIXES if (p, "Prefix") not in expected}
    expected |= {(p, "Exact"): "switchboard-gateway" for p in PUBLIC_EXACT_PATHS}
    assert routes == expected

    def routed_to(sample: str) -> str | None:
        # Kubernetes matching: an Exact path, else the longest Prefix matching whole segments.
        if (sample, "Exact") in routes:
            return routes[(sample, "Exact")]
        matching = [p for p, kind in routes if kind == "Prefix" and (sample == p or sample.startswith(p + "/"))]
        return routes[(max(matching, key=len), "Prefix")] if matching else None

    samples = [
        "/webhooks/slack/x",
        "/api/v1/integrations/1",
        "/api/v1/privacy/requests",
        "/api/v1/ws",
        "/",
        "/demo",
        "/widget.js",
        "/console/app.js",
        "/i18n/en.json",
    ]
    for sample in samples:
        assert publicly_routed(sample), sample
        assert routed_to(sample) == f"switchboard-{service_for_path(sample)}", sample
    # What must never be reachable from outside: metrics, API docs and schema, health probes.
    for internal in ["/metrics", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/docs/oauth2-redirect"]:
        assert routed_to(internal) is None and not publicly_routed(internal), internal
    service_names = {s["metadata"]["name"] for s in of_kind(resources, "Service")}
    assert set(routes.values()) <= service_names
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # sockets stay open


def test_kafka_topics_match_the_topic_specs_and_bound_the_router(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    config = named(resources, "ConfigMap", "switchboard-config")["data"]
    topics = {t["spec"]["topicName"]: t for t in of_kind(resources, "KafkaTopic")}
    assert set(topics) == {f"{config['KAFKA_NAMESPACE']}.{spec.name}" for spec in TOPIC_SPECS}
    for spec in TOPIC_SPECS:
        topic = topics[f"{config['KAFKA_NAMESPACE']}.{spec.name}"]["spec"]
        assert topic["config"]["retention.ms"] == spec.retention_ms
        assert topic["config"]["cleanup.policy"] == "delete"
        assert topic["config"]["min.insync.replicas"] <= topic["replicas"]
        # Locally created topics get KAFKA_TOPIC_PARTITIONS; declared ones must say the same.
        assert topic["partitions"] == int(config["KAFKA_TOPIC_PARTITIONS"])
    conversations = topics[f"{config['KAFKA_NAMESPACE']}.conversations"]["spec"]["partitions"]
    router = named(resources, "HorizontalPodAutoscaler", "switchboard-router")
    assert router["spec"]["maxReplicas"] <= conversations, "router replicas beyond the partitions idle"


def test_network_policies_admit_only_the_ingress_controller_and_prometheus(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(resources, "NetworkPolicy")}
    deny = policies["switchboard-default-deny-ingress"]
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny
    admitted = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for spec in policies.values()
        for rule in spec.get("ingress", [])
        for peer in rule["from"]
    }
    assert admitted == {"ingress-nginx", "monitoring"}
    # Prometheus reaches the metrics port only; Services expose the app port only.
    scrape = policies["switchboard-allow-metrics-scrape"]["ingress"]
    assert [port["port"] for rule in scrape for port in rule["ports"]] == ["metrics"]
    for service in of_kind(resources, "Service"):
        assert [port["name"] for port in service["spec"]["ports"]] == ["http"], service["metadata"]["name"]


def test_the_dev_overlay_brings_its_secret_and_prod_does_not(overlay: tuple[str, list[Resource]]) -> None:
    name, resources = overlay
    secrets = of_kind(resources, "Secret")
    if name == "dev":
        by_name = {s["metadata"]["name"]: s for s in secrets}
        assert set(by_name) == {"switchboard-secrets", "switchboard-backup"}
        assert set(by_name["switchboard-secrets"]["stringData"]) >= REQUIRED_SECRETS
        assert set(by_name["switchboard-backup"]["stringData"]) == {"BACKUP_KEY"}
    else:
        assert secrets == []  # production Secrets are created by the operator, never committed


def test_the_dockerfile_builds_a_locked_non_root_image_without_build_tools() -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert len(stages) >= 2, "multi-stage"
    build_stage, final_stage = lines[stages[0] : stages[-1]], lines[stages[-1] :]
    build_text, final_text = "\n".join(build_stage), "\n".join(final_stage)
    assert "uv sync --frozen" in build_text
    assert "--package switchboard-ops" in build_text and "pg_restore" in build_text  # backups run from the image
    assert "--no-dev" in build_text
    assert "COPY --from=" in final_text
    assert not re.search(r"\b(gcc|build-essential|apt-get install|uv sync|pip install)\b", final_text)
    users = [line.split()[1] for line in final_stage if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    entry = next(line for line in final_stage if line.upper().startswith("ENTRYPOINT"))
    assert '"python", "-m"' in entry
    ignored = (ROOT / ".dockerignore").read_text()
    assert "**" in ignored.splitlines()  # the context is an allow list: no .venv, data or secrets


def test_prod_reaches_kafka_over_tls_with_scram_as_a_user_limited_to_its_topics() -> None:
    """Production's services authenticate to Kafka (SASL SCRAM over TLS) as a Strimzi KafkaUser whose ACLs cover
    only the installation's topics and groups; the settings accept exactly what the overlay sets."""
    resources = build(K8S / "overlays" / "prod")
    [user] = of_kind(resources, "KafkaUser")
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    for acl in user["spec"]["authorization"]["acls"]:
        assert acl["resource"]["patternType"] == "prefix" and acl["resource"]["name"].startswith("switchboard")
    config = named(resources, "ConfigMap", "switchboard-config")["data"]
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and config["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert config["KAFKA_SASL_USERNAME"] == user["metadata"]["name"]
    for deployment in of_kind(resources, "Deployment"):
        spec = pod_spec(deployment)
        env = {e["name"]: e for e in spec["containers"][0]["env"]}
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == user["metadata"]["name"]
        mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        assert str(Path(config["KAFKA_SSL_CAFILE"]).parent) in mounts
    settings = CommonSettings(
        **{k.lower(): v for k, v in config.items() if k.startswith("KAFKA_") and k != "KAFKA_SSL_CAFILE"},
        kafka_sasl_password="from-the-secret",
    )
    options = kafka_connection(settings)
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["ssl_context"] is not None and options["sasl_plain_username"] == user["metadata"]["name"]


def test_each_region_overlay_serves_its_region_with_its_own_stores() -> None:
    configs = {}
    for region in ("eu", "us"):
        resources = build(K8S / "overlays" / f"region-{region}")
        config = named(resources, "ConfigMap", "switchboard-config")["data"]
        configs[region] = config
        assert (config["REGIONS"], config["REGION"]) == ("eu,us", region)
        assert set(config["REGION_URLS"].split(",")) == {
            "eu=https://eu.switchboard.example.com",
            "us=https://us.switchboard.example.com",
        }
        assert (
            named(resources, "Ingress", "switchboard")["spec"]["rules"][0]["host"]
            == f"{region}.switchboard.example.com"
        )
        assert (
            named(resources, "Namespace", f"switchboard-{region}")["metadata"]["labels"]["switchboard.dev/region"]
            == region
        )
        # Settings refuse to start a multi-region process without the directory's token: every workload has it.
        for workload in [r for r in resources if r["kind"] in ("Deployment", "Job", "CronJob")]:
            (container,) = pod_spec(workload)["containers"]
            refs = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in container["env"]}
            assert refs["DIRECTORY_TOKEN"] == {"name": "switchboard-secrets", "key": "DIRECTORY_TOKEN"}, resource_id(
                workload
            )
    stores = ("KAFKA_BOOTSTRAP_SERVERS", "S3_BUCKET", "BACKUP_TARGET", "ERASURE_LEDGER_URL")
    for name in stores:
        assert configs["eu"][name] != configs["us"][name], name  # no store shared between regions


def test_the_directory_renders_and_runs_the_directory_server() -> None:
    resources = build(K8S / "directory")
    for resource in resources:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == "switchboard-directory"
    deployment = named(resources, "Deployment", "switchboard-directory")
    assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = pod_spec(deployment)
    (container,) = pod["containers"]
    assert container["args"][:2] == ["switchboard_ops", "directory"]
    _check_resources("directory", container)
    _check_container_security("directory", container, pod)
    config = named(resources, "ConfigMap", "switchboard-directory-config")["data"]
    assert container["volumeMounts"][0]["mountPath"] == config["DIRECTORY_DATA_DIR"]
    policy = named(resources, "NetworkPolicy", "switchboard-directory")["spec"]
    assert policy["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchExpressions": [{"key": "switchboard.dev/region", "operator": "Exists"}]}}
    ]
