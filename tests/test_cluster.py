"""--engine ray on a real local Ray cluster: a head and one worker node (separate raylet
processes on this machine, CPU only), started once for the module.

The clips are the shared public ones (linked into a folder, never copied into the repo) and
a file that is not media. Every comparison is against ``--engine local`` on the same folder:
the same bytes, the same manifest statuses and errors. The worker node also declares a custom
``fake_gpu`` resource, which stands in for a GPU so the describer's actor pool is scheduled
exactly as on a GPU node (``CCGEN_RAY_GPU_RESOURCE``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ccgen.cluster import connect
from ccgen.cluster.actors import Batcher
from ccgen.errors import InputError

CLIPS = ["speech/jfk.flac", "speech/pocketsphinx_goforward.flac",
         "events/esc50_1-100032-A-0_dog.flac"]
FORMATS = "srt,vtt,json"


# --------------------------------------------------------------------------- unit tests


def test_address_comes_from_the_option_then_the_environment() -> None:
    assert connect.resolve_address("10.0.0.5:6379", {"RAY_ADDRESS": "x:1"}) == "10.0.0.5:6379"
    assert connect.resolve_address(None, {"RAY_ADDRESS": "head:6379"}) == "head:6379"
    assert connect.resolve_address(None, {}) is None  # a local instance, never a silent join
    assert connect.resolve_address("  ", {"RAY_ADDRESS": ""}) is None


def test_address_parsing() -> None:
    assert connect.host_port("head:6379") == ("head", 6379)
    assert connect.host_port("ray://10.1.2.3:10001") == ("10.1.2.3", 10001)
    assert connect.host_port("[::1]:6379") == ("::1", 6379)
    assert connect.host_port("auto") is None
    with pytest.raises(InputError, match="HOST:PORT"):
        connect.host_port("head")


def test_batcher_serves_concurrent_callers_in_one_call_each_its_own_slice() -> None:
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(list(items))
        return [10 * i for i in items]

    batcher = Batcher(run, window=0.3)
    out: dict[int, list[int]] = {}
    threads = [threading.Thread(target=lambda k=k: out.__setitem__(k, batcher([k, k + 100])))
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {k: [10 * k, 10 * (k + 100)] for k in range(4)}
    assert len(calls) == 1 and sorted(calls[0]) == sorted(
        [k for n in range(4) for k in (n, n + 100)])
    assert batcher.batches == [4]


def test_batcher_gives_each_caller_the_error() -> None:
    def run(items: list[int]) -> list[int]:
        raise RuntimeError("device lost")

    with pytest.raises(RuntimeError, match="device lost"):
        Batcher(run, window=0.0)([1])


def test_auto_describer_is_decided_once_for_the_cluster(tmp_path) -> None:
    from dataclasses import replace

    from ccgen.cluster.engine import pin_describer
    from ccgen.pipeline import Options

    opts = Options(describer="auto", describer_model=str(tmp_path / "no-weights"))
    assert pin_describer(opts, 0) is opts  # no GPU anywhere: every CPU node picks alike
    assert pin_describer(opts, 2).describer == "yamnet"  # GPUs, but no weights to load
    chosen = replace(opts, describer="none")
    assert pin_describer(chosen, 2) is chosen


def test_the_cluster_describer_follows_the_registry_entry(tmp_path, monkeypatch) -> None:
    """Weights found and the entry available: AudSemThinker, although the driver (this
    machine) has no GPU; the entry unavailable (no transformers), an adapter whose base is
    missing, or --device cpu: not."""
    import json

    from ccgen import devices, registry
    from ccgen.cluster.engine import pin_describer
    from ccgen.pipeline import Options

    model = tmp_path / "thinker"
    model.mkdir()
    for name in ("config.json", "tokenizer.json"):
        (model / name).write_text("{}")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps(
        {"base_model_name_or_path": str(tmp_path / "gone")}))
    monkeypatch.setattr(devices, "cuda_available", lambda runtime: False)
    opts = Options(describer="auto", describer_model=str(model))
    assert pin_describer(opts, 1).describer == "audsemthinker"
    assert pin_describer(Options(describer="auto", describer_model=str(adapter)),
                         1).describer == "yamnet"
    cpu = Options(describer="auto", describer_model=str(model), device="cpu")
    assert pin_describer(cpu, 1) is cpu
    real = registry.installed
    monkeypatch.setattr(registry, "installed", lambda module: module != "transformers"
                        and real(module))
    assert pin_describer(opts, 1).describer == "yamnet"


# --------------------------------------------------------------------------- a real cluster


@pytest.fixture(scope="module")
def ray_cluster():
    """The address of a head plus one worker node (1 CPU each; the worker has fake_gpu)."""
    pytest.importorskip("ray")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True,
                      head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1, resources={"fake_gpu": 1})
    cluster.wait_for_nodes()
    yield cluster.address
    cluster.shutdown()


@pytest.fixture(scope="module")
def clips(tmp_path_factory, public_clip) -> Path:
    """A folder of links to real clips, and one file that is not media."""
    folder = tmp_path_factory.mktemp("clips")
    for rel in CLIPS:
        (folder / Path(rel).name).symlink_to(public_clip(rel))
    (folder / "damaged.mp4").write_bytes(b"not a video at all\n" * 20)
    return folder


def ccgen(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ccgen", *map(str, args)], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **(env or {})})


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def statuses(manifest: Path) -> dict[str, tuple]:
    files = json.loads(manifest.read_text())["files"]
    return {Path(f["input"]).name: (f["status"], f["exit_code"], f["error"]) for f in files}


@pytest.fixture(scope="module")
def local_run(clips: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The local engine's outputs and manifest for the folder (stages computed)."""
    out = tmp_path_factory.mktemp("local")
    manifest = out.parent / "local.json"
    result = ccgen(clips, "-d", out, "-f", FORMATS, "--manifest", manifest, "--no-cache")
    assert result.returncode == 1, result.stderr  # the damaged file fails, alone
    return out, manifest


@pytest.mark.slow
def test_ray_gives_the_local_engines_bytes_and_statuses(ray_cluster, clips, local_run,
                                                        tmp_path) -> None:
    out, manifest = tmp_path / "out", tmp_path / "ray.json"
    out.mkdir()
    result = ccgen(clips, "-d", out, "-f", FORMATS, "--manifest", manifest, "--no-cache",
                   "--engine", "ray", "--ray-address", ray_cluster)
    assert result.returncode == 1, result.stderr
    assert "3 done, 1 failed, 0 skipped" in result.stderr
    assert "Traceback" not in result.stderr
    local_out, local_manifest = local_run
    assert len(outputs(local_out)) == 9
    assert outputs(out) == outputs(local_out)
    assert statuses(manifest) == statuses(local_manifest)
    assert statuses(manifest)["damaged.mp4"][:2] == ("failed", 2)


@pytest.mark.slow
def test_a_killed_worker_loses_no_file_and_skip_existing_resumes(ray_cluster, clips, local_run,
                                                                 tmp_path) -> None:
    out, manifest = tmp_path / "out", tmp_path / "ray.json"
    out.mkdir()
    cmd = [sys.executable, "-m", "ccgen", str(clips), "-d", str(out), "-f", FORMATS,
           "--manifest", str(manifest), "--engine", "ray", "--ray-address", ray_cluster]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = _kill_a_busy_worker(proc)
    stdout, stderr = proc.communicate(timeout=600)
    assert killed is not None, "no CaptionWorker was ever seen captioning"
    assert proc.returncode == 1, stderr  # the damaged file, nothing else
    local_out, local_manifest = local_run
    assert outputs(out) == outputs(local_out)  # complete, nothing half-written or extra
    assert statuses(manifest) == statuses(local_manifest)

    # an interrupted archive: one file's outputs are gone; --skip-existing writes only those
    for p in out.glob("jfk.*"):
        p.unlink()
    result = ccgen(clips, "-d", out, "-f", FORMATS, "--manifest", manifest, "--skip-existing",
                   "--engine", "ray", "--ray-address", ray_cluster)
    assert result.returncode == 1, result.stderr
    assert outputs(out) == outputs(local_out)
    files = {Path(f["input"]).name: f for f in json.loads(manifest.read_text())["files"]}
    assert files["jfk.flac"]["status"] == "done"
    assert {files[n]["status"] for n in files if n not in ("jfk.flac", "damaged.mp4")} == {
        "skipped"}
    # the actors' stage cache on the shared folder served the rerun
    assert {"speech", "words", "sounds"} <= set(files["jfk.flac"]["cached_stages"])


def _kill_a_busy_worker(proc: subprocess.Popen, within: float = 300.0) -> int | None:
    """SIGKILL the first Ray worker process seen running CaptionWorker.caption (Ray names
    the process after the call it runs), while `proc` still runs; its pid, or None."""
    end = time.monotonic() + within
    while time.monotonic() < end and proc.poll() is None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::CaptionWorker.caption"):
                os.kill(int(entry.name), signal.SIGKILL)
                return int(entry.name)
        time.sleep(0.1)
    return None


@pytest.mark.slow
def test_the_describer_runs_as_its_own_actor_pool(ray_cluster, public_clip, tmp_path,
                                                  bench_script) -> None:
    pytest.importorskip("transformers")
    model = bench_script("describer_gpu").save_tiny(tmp_path / "tiny", seed=0, std=0.5)
    folder = tmp_path / "in"
    folder.mkdir()
    for rel in ("events/esc50_1-100032-A-0_dog.flac", "events/esc50_clapping.flac"):
        (folder / Path(rel).name).symlink_to(public_clip(rel))
    common = ["-f", "json", "--describer", "audsemthinker", "--describer-model", model,
              "--device", "cpu", "--max-new-tokens", "16", "--diarizer", "none", "--no-cache"]
    local, remote = tmp_path / "local", tmp_path / "ray"
    local.mkdir()
    remote.mkdir()
    baseline = ccgen(folder, "-d", local, *common)
    assert baseline.returncode == 0, baseline.stderr
    # without a GPU in the cluster the run is refused before any file, in one line
    refused = ccgen(folder, "-d", remote, *common, "--engine", "ray", "--ray-address",
                    ray_cluster)
    assert refused.returncode == 2 and "needs a GPU in the cluster" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and not list(remote.iterdir())
    result = ccgen(folder, "-d", remote, *common, "--engine", "ray", "--ray-address",
                   ray_cluster, "-v", env={"CCGEN_RAY_GPU_RESOURCE": "fake_gpu"})
    assert result.returncode == 0, result.stderr
    assert outputs(remote) == outputs(local)
    described = 0
    for path in remote.glob("*.json"):
        timeline = json.loads(path.read_text())
        assert timeline["models"]["describer"] == "audsemthinker"
        described += any(c["source"] == "audsemthinker" for c in timeline["cues"])
    assert described >= 1
    # every file with sounds reached the GPU pool, and no other way
    calls = re.search(r"describer pool took (\d+) calls", result.stderr)
    assert calls and int(calls.group(1)) == described, result.stderr[-2000:]


@pytest.mark.slow
def test_ctrl_c_stops_the_cluster_job_and_writes_the_manifest(ray_cluster, clips,
                                                              tmp_path) -> None:
    out, manifest = tmp_path / "out", tmp_path / "ray.json"
    out.mkdir()
    cmd = [sys.executable, "-m", "ccgen", str(clips), "-d", str(out), "--manifest",
           str(manifest), "--no-cache", "--engine", "ray", "--ray-address", ray_cluster]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 300
    while not list(out.glob("*.srt")) and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    files = statuses(manifest)
    assert "interrupted" in {s for s, _, _ in files.values()}
    assert {s for s, _, _ in files.values()} <= {"done", "failed", "interrupted"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.slow
def test_a_wrong_address_is_one_line_exit_2(samples_dir, tmp_path) -> None:
    pytest.importorskip("ray")
    started = time.monotonic()
    result = ccgen(samples_dir / "demo.mp4", "-d", tmp_path, "--engine", "ray",
                   "--ray-address", "127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no Ray cluster answers there" in result.stderr
    assert time.monotonic() - started < 120  # not Ray's own minutes of retrying
    assert not list(tmp_path.iterdir())


HIDE_RAY = """
import sys
from importlib.abc import MetaPathFinder

class NoRay(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError("No module named 'ray'", name="ray")
        return None

sys.meta_path.insert(0, NoRay())
sys.argv = ["ccgen", *sys.argv[1:]]
from ccgen.cli import main
main()
"""


@pytest.mark.slow
def test_without_ray_the_engine_is_a_one_line_error(samples_dir, tmp_path) -> None:
    args = [samples_dir / "demo.mp4", "-d", tmp_path]
    hidden = subprocess.run([sys.executable, "-c", HIDE_RAY, *map(str, args), "--engine",
                             "ray"], capture_output=True, text=True, timeout=120)
    assert hidden.returncode == 2
    assert hidden.stderr.count("\n") == 1
    assert "pip install 'ccgen[cluster]'" in hidden.stderr
    assert not list(tmp_path.iterdir())
    # the hider itself breaks nothing else: ccgen runs without Ray
    fine = subprocess.run([sys.executable, "-c", HIDE_RAY, "--version"], capture_output=True,
                          text=True, timeout=120)
    assert fine.returncode == 0 and "ccgen" in fine.stdout, fine.stderr
