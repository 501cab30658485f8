"""Benchmark of the S3 sync step: 2,000 small files synced to a fresh bucket on a moto server,
cockpit's ``S3SyncStep`` against ``aws s3 sync`` in the same run.

Run from the repository root::

    .venv/bin/python bench/s3sync.py            # full run (about 5 minutes on 2 cores)
    .venv/bin/python bench/s3sync.py --quick    # smoke run: 2 rounds, no what-if
    .venv/bin/python bench/s3sync.py --json     # machine-readable output

What it measures, all in one run:

1. A build directory of 2,000 files written from a fixed seed: 1 to 8 KB each (text: hex
   digits), in 40 folders, with the extensions of a web build (``.html``, ``.css``, ``.js``,
   ``.json``, ``.svg``, ``.txt``, ``.map``, ``.woff2``).
2. A moto server (``tests.services.moto_server()``, the tests' own) in a child process of its
   own, so neither client shares its interpreter; it keeps its request log, which the benchmark
   reads to count each client's requests.
3. The AWS CLI (v1, ``pip install awscli``: the CLI from PyPI; v2 is not published there)
   installed into a throwaway venv, cached in ``/tmp/cockpit-bench-awscli-<python>`` between
   runs (``--fresh-venv`` rebuilds it); never a project dependency.
4. Each round, each client syncs the directory to a bucket of its own, created empty just before,
   as a fresh process timed from spawn to exit (interpreter start and imports included):

   - ours: ``python -c`` that builds the ``StepContext`` the engine would and calls
     ``S3SyncStep().run()`` (plan: list the bucket, walk the directory; then the uploads with
     the step's default of 16 workers; progress lines go to a no-op);
   - ``aws --endpoint-url URL s3 sync DIR s3://BUCKET/ --only-show-errors`` (its default 10
     concurrent requests).

   Then each syncs again onto its own, now full, bucket (nothing to do: the re-check and
   rerun case), and, unless ``--quick``, ours runs once more with ``workers=10``, the AWS CLI's
   concurrency (what-if). One unmeasured warm-up of each first (bytecode caches, page cache);
   the order rotates every round. Client CPU time (user + system, from ``getrusage``) and the
   moto server's CPU time (``/proc/PID/stat``) are recorded for every run.
5. After every run the bucket is listed and must hold exactly the 2,000 keys with the files'
   sizes and MD5s as ETags; the Content-Type of one object per extension is compared between
   the two clients' buckets (reported, not a target: each guesses from the file name).

Target (checked unless ``--no-check``; the exit status is 1 when it is missed): the median of
ours <= 1.0 x the median of ``aws s3 sync`` on the fresh bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# _common puts the repository root first on sys.path: import it before cockpit.
from _common import ROOT, finish, machine, parser, stage, table, target, target_lines

TARGET_RATIO = 1.0
FILES = 2_000
FOLDERS = 40
SEED = 20261206
REGION = "us-east-1"
EXTENSIONS = (".html", ".css", ".js", ".json", ".svg", ".txt", ".map", ".woff2")
VENV_CACHE = (
    Path(tempfile.gettempdir())
    / f"cockpit-bench-awscli-py{sys.version_info[0]}{sys.version_info[1]}"
)

# The moto server, in a child: prints its URL, then answers "count BUCKET" on stdin with the
# request methods it has logged for that bucket (JSON), until stdin closes.
SERVER = """\
import collections, json, sys
sys.path.insert(0, sys.argv[1])
from tests.services import moto_server
with moto_server() as server:
    print(server.url, flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "count":
            own = "/" + words[1]
            methods = collections.Counter(
                method
                for method, _, path in (r.partition(" ") for r in list(server.requests))
                if path == own or path.startswith((own + "/", own + "?"))
            )
            print(json.dumps(methods), flush=True)
"""

# Ours, in a fresh process: the StepContext the engine builds, S3SyncStep().run(). Stamps
# (time.time()) after the imports and when the uploads start, then the outcome, on stdout.
OURS = """\
import time
_t = [time.time()]
import json, sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from cockpit.config import AwsConfig, Config, EnvironmentConfig, LoadedConfig
from cockpit.steps.aws.s3 import S3SyncStep
from cockpit.steps.base import StepContext
from cockpit.plan.runs import S3SyncRun
_t.append(time.time())
endpoint, bucket, source, workers = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
env = EnvironmentConfig(aws=AwsConfig(region="us-east-1", endpoint_url=endpoint))
loaded = LoadedConfig(Config(environments={"bench": env}), Path(source).parent / "cockpit.toml")
ctx = StepContext(loaded=loaded, env_name="bench", env=env, release_id="r-bench",
                  item_id="t0.site", version="1.0.0", operator="bench@localhost")
step = S3SyncStep()
_upload = step._upload
def _stamped(*args, **kwargs):
    _t.append(time.time())
    return _upload(*args, **kwargs)
step._upload = _stamped
outcome = {}
step.run(S3SyncRun(source=source, bucket=bucket, workers=workers), ctx, outcome)
_t.append(time.time())
print(json.dumps({"outcome": outcome, "stamps": _t}))
"""


# ---------------------------------------------------------------- the build directory


def build_tree(root: Path, count: int) -> dict[str, tuple[int, str]]:
    """``count`` files under ``root``; key -> (size, MD5)."""
    rng = random.Random(SEED)
    expected: dict[str, tuple[int, str]] = {}
    for n in range(count):
        size = rng.randint(1024, 8192)
        rel = f"assets/{n % FOLDERS:02d}/file{n:04d}{EXTENSIONS[n % len(EXTENSIONS)]}"
        data = rng.randbytes(size // 2 + 1).hex()[:size].encode()
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        expected[rel] = (size, hashlib.md5(data, usedforsecurity=False).hexdigest())
    return expected


# ---------------------------------------------------------------- the AWS CLI


def install_awscli(venv: Path, fresh: bool) -> str:
    """The AWS CLI in a throwaway venv (reused when it already works); its version line."""
    aws = venv / "bin" / "aws"
    if fresh and venv.exists():
        shutil.rmtree(venv)
    if not aws.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        done = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "awscli",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise SystemExit(f"pip install awscli failed:\n{done.stderr[-2000:]}")
    out = subprocess.run([str(aws), "--version"], capture_output=True, text=True, check=True)
    return (out.stdout or out.stderr).strip()


# ---------------------------------------------------------------- runs


class Server:
    """The moto server child and its request counts."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(ROOT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.close()
            raise SystemExit(f"the moto server did not start (said {self.url!r})")

    def counts(self, bucket: str) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"count {bucket}\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def cpu(self) -> float:
        """User + system CPU seconds of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def child_env(pycache: Path) -> dict[str, str]:
    """Fake credentials only moto accepts, no AWS config files, one bytecode cache."""
    drop = {"PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "AWS_PROFILE", "AWS_SESSION_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("COCKPIT_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "PYTHONPYCACHEPREFIX": str(pycache),
            "LC_ALL": "C.UTF-8",
        }
    )
    return env


def timed(argv: list[str], env: dict[str, str], server: Server) -> dict[str, Any]:
    """Spawn to exit: wall seconds, client CPU seconds, server CPU seconds, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = server.cpu()
    start = time.perf_counter()
    spawned = time.time()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "s": took,
        "client_cpu_s": cpu,
        "server_cpu_s": server.cpu() - server_before,
        "spawned": spawned,
        "stdout": done.stdout,
    }


class Bench:
    def __init__(self, work: Path, venv: Path, expected: dict[str, tuple[int, str]]) -> None:
        import boto3

        self.work = work
        self.source = work / "build"
        self.venv = venv
        self.expected = expected
        self.env = child_env(work / "pycache")
        self.server = Server(self.env)
        self.s3 = boto3.client(
            "s3",
            endpoint_url=self.server.url,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        self.buckets = 0

    def bucket(self) -> str:
        self.buckets += 1
        name = f"bench-{self.buckets:03d}"
        self.s3.create_bucket(Bucket=name)
        return name

    def argv(self, tool: str, bucket: str) -> list[str]:
        if tool == "aws":
            return [
                str(self.venv / "bin" / "aws"),
                "--endpoint-url",
                self.server.url,
                "s3",
                "sync",
                str(self.source),
                f"s3://{bucket}/",
                "--only-show-errors",
            ]
        workers = "10" if tool == "ours-10" else "16"
        return [
            sys.executable,
            "-c",
            OURS,
            str(ROOT),
            self.server.url,
            bucket,
            str(self.source),
            workers,
        ]

    def run(self, tool: str, bucket: str) -> dict[str, Any]:
        """One timed run, then the check; ``requests``: what the tool alone asked of the bucket
        (the benchmark's own CreateBucket and check are not counted)."""
        before = self.server.counts(bucket)
        result = timed(self.argv(tool, bucket), self.env, self.server)
        after = self.server.counts(bucket)
        result["requests"] = {m: n - before.get(m, 0) for m, n in after.items()}
        if tool.startswith("ours"):
            said = json.loads(result["stdout"].strip().splitlines()[-1])
            result["outcome"] = said["outcome"]
            result["stamps"] = [t - result["spawned"] for t in said["stamps"]]
        self.check(bucket)
        return result

    def check(self, bucket: str) -> None:
        found: dict[str, tuple[int, str]] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                found[obj["Key"]] = (int(obj["Size"]), obj["ETag"].strip('"'))
        if found != self.expected:
            missing = sorted(set(self.expected) - set(found))[:3]
            extra = sorted(set(found) - set(self.expected))[:3]
            wrong = sorted(k for k in found if k in self.expected and found[k] != self.expected[k])
            raise SystemExit(
                f"bucket {bucket}: {len(found)} objects, missing {missing}, extra {extra}, "
                f"different {wrong[:3]}"
            )

    def content_types(self, bucket: str) -> dict[str, str]:
        types: dict[str, str] = {}
        for ext in EXTENSIONS:
            key = next(k for k in self.expected if k.endswith(ext))
            types[ext] = self.s3.head_object(Bucket=bucket, Key=key)["ContentType"]
        return types


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "median_s": statistics.median(values),
        "best_s": min(values),
        "worst_s": max(values),
        "runs_s": [round(v, 4) for v in values],
    }


def bench(b: Bench, rounds: int, what_if: bool, quiet: bool) -> dict[str, Any]:
    tools = ["ours", "aws"]
    with stage("one unmeasured sync of each (bytecode and page caches)", quiet):
        for tool in tools:
            b.run(tool, b.bucket())
    runs: dict[str, list[dict[str, Any]]] = {}
    types: dict[str, dict[str, str]] = {}
    for round_ in range(rounds):
        with stage(f"round {round_ + 1} of {rounds}", quiet):
            order = tools[round_ % 2 :] + tools[: round_ % 2]
            filled: dict[str, str] = {}
            for tool in order:
                filled[tool] = b.bucket()
                runs.setdefault(f"{tool} fresh", []).append(b.run(tool, filled[tool]))
            for tool in order:
                runs.setdefault(f"{tool} again", []).append(b.run(tool, filled[tool]))
            if what_if:
                runs.setdefault("ours-10 fresh", []).append(b.run("ours-10", b.bucket()))
            if not types:
                types = {tool: b.content_types(filled[tool]) for tool in tools}
    result: dict[str, Any] = {"rounds": rounds, "runs": {}}
    for name, values in runs.items():
        result["runs"][name] = {
            **_stats([v["s"] for v in values]),
            "client_cpu_s": statistics.median(v["client_cpu_s"] for v in values),
            "server_cpu_s": statistics.median(v["server_cpu_s"] for v in values),
            "requests": values[-1]["requests"],
        }
    ours = runs["ours fresh"]
    labels = ("imports (cockpit, boto3)", "plan: client, list, walk", "uploads", "exit")
    medians = [statistics.median(r["stamps"][i] for r in ours) for i in range(4)]
    medians.append(statistics.median(r["s"] for r in ours))
    steps = [{"step": "interpreter ready", "s": medians[0]}]
    steps += [{"step": labels[i], "s": medians[i + 1] - medians[i]} for i in range(len(labels))]
    result["ours_steps"] = steps
    result["content_types"] = types
    return result


# ---------------------------------------------------------------- output


def render(result: dict[str, Any]) -> str:
    m, b = result["machine"], result["bench"]
    head = (
        f"S3 sync benchmark: {m['cpus']} CPUs, Python {m['python']}, boto3 {m['boto3']} "
        f"(botocore {m['botocore']}), moto {m['moto']}; {m['awscli']}\n"
        f"Build directory: {result['files']:,} files, {result['bytes'] / 1e6:.1f} MB "
        f"(1-8 KB each), one moto server in its own process\n"
    )
    labels = {
        "ours fresh": "ours: S3SyncStep.run, fresh bucket (16 workers)",
        "aws fresh": "aws s3 sync, fresh bucket",
        "ours again": "ours: again, nothing to do",
        "aws again": "aws s3 sync: again, nothing to do",
        "ours-10 fresh": "what-if: ours with workers=10, fresh bucket",
    }
    rows: list[tuple[str, ...]] = [
        ("Sync, fresh process", "Median", "Best", "Worst", "Client CPU", "Server CPU", "Requests")
    ]
    for name, r in b["runs"].items():
        asked = ", ".join(f"{k} {v}" for k, v in sorted(r["requests"].items()) if v)
        rows.append(
            (
                labels[name],
                f"{r['median_s']:.2f} s",
                f"{r['best_s']:.2f} s",
                f"{r['worst_s']:.2f} s",
                f"{r['client_cpu_s']:.2f} s",
                f"{r['server_cpu_s']:.2f} s",
                asked,
            )
        )
    rows.append(
        (
            "ours / aws, fresh bucket (medians)",
            f"{result['ratio']:.2f}x",
            "",
            "",
            "",
            "",
            f"target <= {TARGET_RATIO}x",
        )
    )
    lines = [
        head,
        table(rows),
        f"({b['rounds']} rounds, order rotating; wall clock spawn to exit; CPU medians)",
        "",
        table(
            [("Ours on a fresh bucket, where the time goes (median)", "Time")]
            + [(s["step"], f"{s['s'] * 1000:,.0f} ms") for s in b["ours_steps"]]
        ),
    ]
    ct = b["content_types"]
    if ct:
        rows = [("Content-Type", "ours", "aws")]
        rows += [(ext, ct["ours"][ext], ct["aws"][ext]) for ext in EXTENSIONS]
        lines += ["", table(rows)]
    lines += ["", "Targets:", *target_lines(result["targets"], "x")]
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    options = parser(__doc__, quick_help="2 rounds, no what-if")
    options.add_argument("--rounds", type=int, help="measured rounds (default 5, quick 2)")
    options.add_argument("--files", type=int, default=FILES, help="files in the build directory")
    options.add_argument("--fresh-venv", action="store_true", help="reinstall the AWS CLI")
    args = options.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    quiet = args.json

    from importlib.metadata import version

    result: dict[str, Any] = {"quick": args.quick, "files": args.files}
    work = Path(tempfile.mkdtemp(prefix="cockpit-bench-s3-"))
    b: Bench | None = None
    try:
        with stage(f"write {args.files:,} files", quiet):
            expected = build_tree(work / "build", args.files)
        result["bytes"] = sum(size for size, _ in expected.values())
        with stage(f"AWS CLI in a throwaway venv ({VENV_CACHE})", quiet):
            awscli = install_awscli(VENV_CACHE, args.fresh_venv)
        result["machine"] = machine(
            boto3=version("boto3"),
            botocore=version("botocore"),
            moto=version("moto"),
            awscli=awscli,
        )
        result["machine"]["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
        with stage("start the moto server", quiet):
            b = Bench(work, VENV_CACHE, expected)
        result["bench"] = bench(b, rounds, not args.quick, quiet)
    finally:
        if b is not None:
            b.server.close()
        shutil.rmtree(work, ignore_errors=True)

    runs = result["bench"]["runs"]
    result["ratio"] = runs["ours fresh"]["median_s"] / runs["aws fresh"]["median_s"]
    result["targets"] = [
        target(
            "ours / aws s3 sync, fresh bucket (medians)",
            round(result["ratio"], 3),
            f"<= {TARGET_RATIO}",
            result["ratio"] <= TARGET_RATIO,
        )
    ]
    return finish(result, args.json, args.no_check, render)


if __name__ == "__main__":
    sys.exit(main())
