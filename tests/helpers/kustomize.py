"""An offline ``kustomize build`` for the features deploy/k8s uses, so `make test` can check the overlays
without the kustomize binary: resources (files and directories with a kustomization), ``namespace``,
``images``, and ``patches`` as strategic merge (by each patch document's kind and name) or as JSON 6902
(inline ``patch`` with a ``target``).

Strategic merge follows Kubernetes' rules for the fields we patch: maps merge recursively, ``null`` deletes
a key, lists of containers, env, volumes, volume mounts and image pull secrets merge by ``name`` and ports
by ``containerPort``; every other list is replaced whole. Anything this renderer does not know (generators,
components, replacements...) is refused, so a manifest change it cannot render fails loudly.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "name",
    "imagePullSecrets": "name",
    "ports": "containerPort",
}
SUPPORTED_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


class KustomizeError(Exception):
    pass


def build(directory: Path) -> list[Resource]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources += build(path)
        else:
            resources += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    _check_unique(resources)
    for patch in kustomization.get("patches", []):
        _apply_patch(directory, resources, patch)
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED_KINDS:
                resource.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return resources


def resource_id(resource: Resource) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


def _check_unique(resources: list[Resource]) -> None:
    seen: set[tuple[str, str]] = set()
    for resource in resources:
        rid = resource_id(resource)
        if rid in seen:
            raise KustomizeError(f"duplicate resource {rid}")
        seen.add(rid)


def _apply_patch(directory: Path, resources: list[Resource], patch: dict[str, Any]) -> None:
    if "path" in patch:
        documents = [doc for doc in yaml.safe_load_all((directory / patch["path"]).read_text()) if doc]
    else:
        documents = [yaml.safe_load(patch["patch"])]
    target = patch.get("target")
    for document in documents:
        if isinstance(document, list):  # JSON 6902
            if target is None:
                raise KustomizeError("a JSON 6902 patch needs a target")
            matched = [r for r in resources if _matches(r, target)]
            if not matched:
                raise KustomizeError(f"patch target {target} matches nothing")
            for resource in matched:
                for operation in document:
                    _json_patch(resource, operation)
            continue
        selector = target or {"kind": document["kind"], "name": document["metadata"]["name"]}
        matched = [r for r in resources if _matches(r, selector)]
        if not matched:
            raise KustomizeError(f"patch for {selector} matches nothing")
        for resource in matched:
            merged = strategic_merge(resource, {k: v for k, v in document.items() if k not in ("apiVersion", "kind")})
            resource.clear()
            resource.update(merged)


def _matches(resource: Resource, target: dict[str, str]) -> bool:
    return all(
        (key != "kind" or resource["kind"] == value) and (key != "name" or resource["metadata"]["name"] == value)
        for key, value in target.items()
    )


def strategic_merge(original: Any, patch: Any, field: str = "") -> Any:
    if isinstance(original, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(original)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(original, list) and isinstance(patch, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        merged_list = copy.deepcopy(original)
        for item in patch:
            index = next((i for i, existing in enumerate(merged_list) if existing.get(key) == item.get(key)), None)
            if index is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[index] = strategic_merge(merged_list[index], item)
        return merged_list
    return copy.deepcopy(patch)


def _json_patch(resource: Resource, operation: dict[str, Any]) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in operation["path"].lstrip("/").split("/")]
    parent: Any = resource
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    op = operation["op"]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op == "add":
            parent.insert(index, copy.deepcopy(operation["value"]))
        elif op == "replace":
            parent[index] = copy.deepcopy(operation["value"])
        elif op == "remove":
            del parent[index]
        else:
            raise KustomizeError(f"unsupported JSON patch op {op}")
        return
    if op in ("add", "replace"):
        if op == "replace" and last not in parent:
            raise KustomizeError(f"replace of missing path {operation['path']}")
        parent[last] = copy.deepcopy(operation["value"])
    elif op == "remove":
        del parent[last]
    else:
        raise KustomizeError(f"unsupported JSON patch op {op}")


def _set_image(resources: list[Resource], image: dict[str, str]) -> None:
    for resource in resources:
        pod = _pod_spec(resource)
        if pod is None:
            continue
        for container in [*pod.get("containers", []), *pod.get("initContainers", [])]:
            name, _, tag = container["image"].partition(":")
            if name != image["name"]:
                continue
            new_name = image.get("newName", name)
            new_tag = image.get("newTag", tag)
            container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name


def _pod_spec(resource: Resource) -> dict[str, Any] | None:
    if resource["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return resource["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return None


def pod_spec(resource: Resource) -> dict[str, Any]:
    spec = _pod_spec(resource)
    if spec is None:
        raise KustomizeError(f"{resource_id(resource)} has no pod template")
    return spec
