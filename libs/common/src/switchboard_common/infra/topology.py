"""Which service answers which path: the Kubernetes Ingress and the single-port `make run` agree on it."""

# Longest prefix first. Everything else goes to the gateway.
PATH_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/webhooks/", "connectors"),
    ("/api/v1/integrations/", "connectors"),
    ("/api/v1/privacy/", "privacy"),
)
DEFAULT_SERVICE = "gateway"
SERVICE_PORTS = {"gateway": 8000, "connectors": 8001, "router": 8002, "privacy": 8003}


# What the public Ingress routes at all. Everything else a service answers -- /metrics, /docs, /openapi.json,
# /healthz, /readyz -- stays inside the cluster (kubelet probes and Prometheus reach pods directly);
# `make run` serves it all on its one local port.
PUBLIC_PREFIXES: tuple[str, ...] = ("/api", "/webhooks", "/console", "/i18n")
PUBLIC_EXACT_PATHS: tuple[str, ...] = ("/", "/demo", "/widget.js")


def publicly_routed(path: str) -> bool:
    return path in PUBLIC_EXACT_PATHS or any(path == p or path.startswith(p + "/") for p in PUBLIC_PREFIXES)


def service_for_path(path: str) -> str:
    for prefix, service in PATH_PREFIXES:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return service
    return DEFAULT_SERVICE
