"""A small HTTP server on 127.0.0.1 that answers the Hub endpoints `huggingface_hub` calls to
create a dataset repository, a branch and a commit with regular and LFS files.

It implements: GET /api/agent-harnesses (an empty registry), POST /api/repos/create,
POST /api/datasets/{repo}/branch/{branch},
POST /api/datasets/{repo}/preupload/{revision}, POST /datasets/{repo}.git/info/lfs/objects/batch
(basic transfer), PUT /lfs-upload/{oid} (the upload href it hands out), and
POST /api/datasets/{repo}/commit/{revision} (NDJSON). It checks the sha256 of every LFS upload,
decodes the base64 of regular files, and records every request (method, path, Authorization).
Anything else answers 404 and is recorded, so a test sees unexpected calls.
It does not implement Xet storage: tests that use it disable the Xet path.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_SUFFIXES = (".parquet", ".png", ".arrow", ".bin", ".safetensors")


@dataclass
class HubState:
    """What the fake Hub saw: requests, repositories, branches, uploaded blobs and commits."""

    requests: list[dict] = field(default_factory=list)
    repos: dict[str, dict] = field(default_factory=dict)
    branches: dict[str, set] = field(default_factory=dict)
    lfs_blobs: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """The files of `repo_id` at `revision` after every commit so far."""
        tree: dict[str, bytes] = {}
        for commit in self.commits:
            if commit["repo"] == repo_id and commit["revision"] == revision:
                tree.update(commit["files"])
        return tree


SIZE_CATEGORIES = {
    "n<1K",
    "1K<n<10K",
    "10K<n<100K",
    "100K<n<1M",
    "1M<n<10M",
    "10M<n<100M",
    "100M<n<1B",
}


def validate_card_yaml(content: str) -> list[dict]:
    """The checks the fake Hub makes on a README's metadata (a few of the Hub's own):
    YAML front matter present and a mapping, license ids lowercase slugs, known size
    categories, and configs whose data_files name a split and a path."""
    import yaml

    match = re.match(r"^---\n(.*?)\n---\n", content, re.S)
    if not match:
        return [{"message": "no YAML front matter"}]
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        return [{"message": f"invalid YAML: {error}"}]
    if not isinstance(meta, dict):
        return [{"message": "metadata is not a mapping"}]
    errors = []
    licenses = meta.get("license")
    licenses = [licenses] if isinstance(licenses, str) else licenses or []
    errors += [
        {"message": f"license {lic!r} is not a license id"}
        for lic in licenses
        if not isinstance(lic, str) or not re.fullmatch(r"[a-z0-9][a-z0-9.+\-]*", lic)
    ]
    errors += [
        {"message": f"size_categories {size!r} unknown"}
        for size in meta.get("size_categories", [])
        if size not in SIZE_CATEGORIES
    ]
    for config in meta.get("configs", []):
        for entry in config.get("data_files", []):
            if not {"split", "path"} <= set(entry):
                errors.append({"message": f"config data_files entry {entry} lacks split/path"})
    return errors


def _handler(state: HubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, payload: object | None = None) -> None:
            data = json.dumps(payload).encode() if payload is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: bytes) -> None:
            state.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "bytes": len(body),
                }
            )

        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            body = self._body()
            self._record(body)
            base = f"http://{self.headers['Host']}"
            path = self.path.split("?")[0]
            if path == "/api/repos/create":
                request = json.loads(body)
                repo = f"{request.get('organization') or 'user'}/{request['name']}"
                if repo in state.repos:  # the Hub's 409 also carries the repo url
                    return self._reply(
                        409,
                        {
                            "error": "You already created this dataset repo",
                            "url": f"{base}/datasets/{repo}",
                        },
                    )
                state.repos[repo] = request
                state.branches[repo] = {"main"}
                return self._reply(200, {"url": f"{base}/datasets/{repo}", "name": repo})
            if path == "/api/validate-yaml":
                errors = validate_card_yaml(json.loads(body)["content"])
                return self._reply(400 if errors else 200, {"errors": errors, "warnings": []})
            if match := re.fullmatch(r"/api/datasets/(.+?)/branch/(.+)", path):
                repo, branch = match.groups()
                state.branches.setdefault(repo, {"main"}).add(branch)
                return self._reply(200, {})
            if match := re.fullmatch(r"/api/datasets/(.+?)/preupload/(.+)", path):
                files = json.loads(body)["files"]
                modes = [
                    {
                        "path": f["path"],
                        "uploadMode": "lfs" if f["path"].endswith(LFS_SUFFIXES) else "regular",
                        "shouldIgnore": False,
                        "oid": None,
                    }
                    for f in files
                ]
                return self._reply(200, {"files": modes, "commitOid": "0" * 40})
            if match := re.fullmatch(r"/datasets/(.+?)\.git/info/lfs/objects/batch", path):
                request = json.loads(body)
                objects = [
                    {
                        "oid": o["oid"],
                        "size": o["size"],
                        "authenticated": True,
                        "actions": {"upload": {"href": f"{base}/lfs-upload/{o['oid']}"}},
                    }
                    for o in request["objects"]
                ]
                return self._reply(200, {"transfer": "basic", "objects": objects})
            if match := re.fullmatch(r"/api/datasets/(.+?)/commit/(.+)", path):
                return self._commit(match.group(1), match.group(2), body, base)
            return self._reply(404, {"error": f"fake hub: no route for POST {path}"})

        def _commit(self, repo: str, revision: str, body: bytes, base: str) -> None:
            from urllib.parse import unquote

            revision = unquote(revision)
            if repo not in state.repos:
                return self._reply(404, {"error": "Repository not found"})
            if revision not in state.branches.get(repo, set()):
                return self._reply(404, {"error": f"Revision not found: {revision}"})
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
            header = next(line["value"] for line in lines if line["key"] == "header")
            files: dict[str, bytes] = {}
            for line in lines:
                value = line["value"]
                if line["key"] == "file":
                    files[value["path"]] = base64.b64decode(value["content"])
                elif line["key"] == "lfsFile":
                    if value["oid"] not in state.lfs_blobs:
                        return self._reply(400, {"error": f"LFS object {value['oid']} missing"})
                    files[value["path"]] = state.lfs_blobs[value["oid"]]
            oid = hashlib.sha1(body).hexdigest()
            state.commits.append(
                {"repo": repo, "revision": revision, "summary": header["summary"], "files": files}
            )
            return self._reply(
                200, {"commitUrl": f"{base}/datasets/{repo}/commit/{oid}", "commitOid": oid}
            )

        def do_PUT(self) -> None:  # noqa: N802
            body = self._body()
            self._record(body)
            if match := re.fullmatch(r"/lfs-upload/([0-9a-f]{64})", self.path):
                oid = match.group(1)
                if hashlib.sha256(body).hexdigest() != oid:
                    return self._reply(400, {"error": "sha256 mismatch"})
                state.lfs_blobs[oid] = body
                return self._reply(200, {})
            return self._reply(404, {"error": f"fake hub: no route for PUT {self.path}"})

        def do_GET(self) -> None:  # noqa: N802
            self._record(b"")
            if self.path.split("?")[0] == "/api/agent-harnesses":
                # huggingface_hub fetches this registry (user-agent telemetry, unauthenticated)
                # once a day into HF_HOME; an empty one means "no agent detected".
                return self._reply(200, {"standardEnvVars": [], "harnesses": {}})
            return self._reply(404, {"error": f"fake hub: no route for GET {self.path}"})

    return Handler


class FakeHub:
    """Context manager: a fake Hub on 127.0.0.1 (random port); `.url` and `.state`."""

    def __init__(self) -> None:
        self.state = HubState()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        # The session is offline for the real Hub; this one lives on loopback, so lift
        # huggingface_hub's offline switch while it runs (the socket guard still holds).
        from huggingface_hub import constants

        self._offline = (os.environ.get("HF_HUB_OFFLINE"), constants.HF_HUB_OFFLINE)
        os.environ["HF_HUB_OFFLINE"] = "0"
        constants.HF_HUB_OFFLINE = False
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        from huggingface_hub import constants

        self.server.shutdown()
        self.server.server_close()
        env, constants.HF_HUB_OFFLINE = self._offline
        if env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = env
