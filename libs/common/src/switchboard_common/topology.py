"""Which service answers which path: the Kubernetes Ingress and the single-port `make run` agree on it."""

# Longest prefix first. Everything else goes to the gateway.
PATH_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/webhooks/", "connectors"),
    ("/api/v1/integrations/", "connectors"),
    ("/api/v1/privacy/", "privacy"),
)
DEFAULT_SERVICE = "gateway"
SERVICE_PORTS = {"gateway": 8000, "connectors": 8001, "router": 8002, "privacy": 8003}


def service_for_path(path: str) -> str:
    for prefix, service in PATH_PREFIXES:
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return service
    return DEFAULT_SERVICE
