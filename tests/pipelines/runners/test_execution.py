"""The execution layer: locked, staged, atomically published outputs (haetae.pipelines.runners.execution), through the
real jobs (audit, pii scan, dedup) and their command line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from haetae.errors import UsageError
from haetae.pipelines.audit.job import run_audit
from haetae.pipelines.io.beam_io import read_jsonl_dir
from haetae.pipelines.runners import execution as X

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "pipelines" / "data" / "sample_corpus.jsonl"
IN_MEMORY = ["--direct_running_mode=in_memory"]


def haetae(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "haetae.cli", *args], capture_output=True, text=True,
                          timeout=600, **kw)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (the lock file aside) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != X.LOCK}


def published(folder: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(folder).items() if not k.startswith(".haetae-")}


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    """A complete earlier audit."""
    out = tmp_path_factory.mktemp("previous")
    run_audit([str(SAMPLE)], str(out), beam_args=IN_MEMORY, progress=False)
    return out


def copy_of(previous: Path, tmp_path: Path) -> Path:
    import shutil

    out = tmp_path / "out"
    shutil.copytree(previous, out)
    return out


@pytest.fixture(scope="module")
def big_input(tmp_path_factory) -> Path:
    """The sample corpus 160 times with unique ids (~12 MB): an audit long enough to be caught mid-way, even by the
    local runner on a quiet machine (at 40 copies it finished while the second, refused audit was starting)."""
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    docs = []
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue  # the corpus's malformed lines: the copies need valid records only
        if isinstance(obj, dict) and isinstance(obj.get("id"), str) and isinstance(obj.get("text"), str):
            docs.append(obj)
    with path.open("w", encoding="utf-8") as fh:
        for copy in range(160):
            for obj in docs:
                fh.write(json.dumps({**obj, "id": f"{obj['id']}-{copy}"}) + "\n")
    return path


def test_manifest_names_inputs_policy_counts_and_outputs(previous):
    manifest = X.read_manifest(str(previous))
    assert manifest["status"] == "ok" and manifest["exit_code"] == 0
    [source] = manifest["inputs"]
    assert source["path"] == str(SAMPLE) and source["bytes"] == SAMPLE.stat().st_size
    import hashlib

    assert source["sha256"] == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
    assert len(manifest["config"]["policy"]["sha256"]) == 64
    assert manifest["counts"]["input"] == sum(manifest["counts"][d] for d in ("keep", "redact", "drop", "quarantine"))
    listed = {f["path"] for o in manifest["outputs"] for f in o.get("files", [o])}
    on_disk = set(published(previous)) - {X.MANIFEST}
    assert listed == on_disk
    kept = next(o for o in manifest["outputs"] if o["path"] == "kept")
    assert kept["rows"] == manifest["counts"]["keep"] + manifest["counts"]["redact"]
    assert not [p for p in os.listdir(previous) if p.startswith(".haetae-") and p != X.LOCK]


def test_rerun_gives_the_same_content_digests(previous, tmp_path):
    run_audit([str(SAMPLE)], str(tmp_path), beam_args=["--direct_running_mode=multi_processing",
                                                      "--direct_num_workers=2"], progress=False)
    digests = {o["path"]: o.get("content_sha256", o.get("sha256")) for o in X.read_manifest(str(tmp_path))["outputs"]}
    before = {o["path"]: o.get("content_sha256", o.get("sha256")) for o in X.read_manifest(str(previous))["outputs"]}
    for name in ("kept", "ledger", "quarantine", "aggregates.json"):
        assert digests[name] == before[name], name


def test_quarantine_is_private(previous):
    folder = previous / "quarantine"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in folder.iterdir())


def test_line_separators_in_text_and_id_do_not_break_the_job(tmp_path):
    """Item 1: U+2028, U+2029 and U+0085 are valid inside JSON strings; the driver split its own shards on them."""
    src = tmp_path / "seps.jsonl"
    texts = ["첫 문단입니다.\u2028둘째 줄은 같은 문단에 있습니다. 법률 문서의 한 부분입니다.",
             "Paragraph one.\u2029Paragraph two of the same document, long enough to be kept.",
             "A next-line character\u0085inside a sentence that is long enough to be kept here."]
    with src.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": f"doc\u2028{i}", "text": text}, ensure_ascii=False) + "\n")
    summary = run_audit([str(src)], str(tmp_path / "out"), beam_args=IN_MEMORY, progress=False)
    assert summary.counts["input"] == 3 and summary.counts["keep"] == 3
    kept = {r["id"]: r["text"] for r in read_jsonl_dir(str(tmp_path / "out" / "kept"))}
    assert kept == {f"doc\u2028{i}": t for i, t in enumerate(texts)}
    assert (tmp_path / "out" / "report.html").exists()


def test_typo_in_input_leaves_the_previous_audit_intact(previous, tmp_path):
    """Item 2: inputs are resolved before anything is touched."""
    out = copy_of(previous, tmp_path)
    before = snapshot(out)
    run = haetae("audit", str(SAMPLE) + ".typo", "--out", str(out))
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0 and "matches no file" in run.stderr
    assert snapshot(out) == before


def test_bad_policy_leaves_the_previous_audit_intact(previous, tmp_path):
    out = copy_of(previous, tmp_path)
    before = snapshot(out)
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: x\n", encoding="utf-8")
    run = haetae("audit", str(SAMPLE), "--out", str(out), "--policy", str(policy))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert snapshot(out) == before


def test_a_second_job_on_the_same_out_is_refused(tmp_path):
    """Item 3, in one process: the lock is held for the whole job."""
    with X.job_output("audit", str(tmp_path), entries=("kept",)) as job:
        Path(job.path("kept")).mkdir()
        with pytest.raises(UsageError, match="in use"):
            with X.job_output("audit", str(tmp_path), entries=("kept",)):
                pass
    assert (tmp_path / X.MANIFEST).exists()


def test_concurrent_runs_and_kill_9_mid_write(previous, big_input, tmp_path):
    """Items 3 and 10: a second audit into the same --out refuses while the first runs; the first, killed with
    SIGKILL while writing, leaves the previous output intact and its own partial work marked; the next run
    removes that work and publishes a complete output."""
    out = copy_of(previous, tmp_path)
    before = published(out)
    log = tmp_path / "first.log"
    with log.open("wb") as err:
        first = subprocess.Popen([sys.executable, "-m", "haetae.cli", "audit", str(big_input), "--out", str(out),
                                  "--quiet"], stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    lock = out / X.LOCK
    deadline = time.time() + 300
    while time.time() < deadline and first.poll() is None and not lock.read_bytes():
        time.sleep(0.01)
    # hold the first audit still while the second starts (seconds on a loaded machine): it cannot run ahead and finish
    os.killpg(first.pid, signal.SIGSTOP)
    try:
        second = haetae("audit", str(SAMPLE), "--out", str(out))
    finally:
        os.killpg(first.pid, signal.SIGCONT)
    assert second.returncode == 2, second.stderr
    assert "is locked by haetae audit (pid" in second.stderr
    staging = None
    while time.time() < deadline and first.poll() is None:
        with contextlib.suppress(FileNotFoundError):  # a folder renamed away while we look
            stages = [p for p in out.iterdir() if p.name.startswith(X.STAGING_PREFIX)]
            # a shard, or a spill file of the local runner's scoring phase: the job is writing into its staging folder
            if stages and any(p.is_file() and p.suffix in (".jsonl", ".parquet", ".pkl") for p in stages[0].rglob("*")):
                staging = stages[0]
                os.killpg(first.pid, signal.SIGKILL)
                break
        time.sleep(0.01)
    first.wait(timeout=60)
    assert staging is not None, (f"the first audit ended (exit {first.returncode}) before it wrote into its staging "
                                 f"folder: {log.read_text(errors='replace')[-1500:]}")
    assert published(out) == before  # the previous output, byte for byte, with its manifest
    assert (staging / X.RUNNING).exists() and not (staging / X.MANIFEST).exists()
    third = haetae("audit", str(SAMPLE), "--out", str(out), "--quiet")
    assert third.returncode == 0, third.stderr
    assert "removed the partial work of an interrupted run" in third.stderr
    assert not staging.exists()
    assert X.read_manifest(str(out))["counts"]["input"] == 183


def test_failed_job_keeps_previous_output_and_marks_its_work(tmp_path):
    with X.job_output("audit", str(tmp_path), entries=("data.json",)) as job:
        Path(job.path("data.json")).write_text("1")
    with pytest.raises(RuntimeError):
        with X.job_output("audit", str(tmp_path), entries=("data.json",)) as job:
            Path(job.path("data.json")).write_text("2")
            raise RuntimeError("boom")
    assert (tmp_path / "data.json").read_text() == "1"
    [staging] = [p for p in tmp_path.iterdir() if p.name.startswith(X.STAGING_PREFIX)]
    assert json.loads((staging / X.FAILED).read_text())["reason"] == "boom"


def test_a_publish_cut_short_is_rolled_back(tmp_path):
    """The state a crash between the two sets of renames leaves: old entries moved aside, a new one moved in,
    no manifest. The next job restores the previous output before it starts."""
    with X.job_output("audit", str(tmp_path), entries=("a.json", "b.json")) as job:
        Path(job.path("a.json")).write_text("old a")
        Path(job.path("b.json")).write_text("old b")
    old_manifest = (tmp_path / X.MANIFEST).read_bytes()
    previous = tmp_path / f"{X.PREVIOUS_PREFIX}r1"
    previous.mkdir()
    for name in (X.MANIFEST, "a.json", "b.json"):
        os.rename(tmp_path / name, previous / name)
    (tmp_path / "b.json").write_text("new b")  # one new entry had been moved in
    (tmp_path / f"{X.JOURNAL_PREFIX}r1.json").write_text(json.dumps(
        {"entries": [X.MANIFEST, "a.json", "b.json"], "previous": previous.name, "manifest": X.MANIFEST,
         "state": "moving"}))
    messages = []
    with pytest.raises(RuntimeError):
        with X.job_output("audit", str(tmp_path), entries=("a.json", "b.json"), say=messages.append):
            assert (tmp_path / "b.json").read_text() == "old b"
            raise RuntimeError("stop before publishing")
    assert (tmp_path / X.MANIFEST).read_bytes() == old_manifest
    assert (tmp_path / "a.json").read_text() == "old a"
    assert any("restored the previous output" in m for m in messages)
    assert not previous.exists()


def test_dedup_never_merges_stale_shards(tmp_path):
    """Item 6: shards of an interrupted run (old layout beside the outputs, or a staging folder) stay out."""
    out = tmp_path / "dedup"
    out.mkdir()
    (out / "clusters-part-stale.jsonl").write_text('{"id":"stale","cluster":"stale","kind":"unique"}\n')
    stale = out / f"{X.STAGING_PREFIX}20260101T000000-deadbeef"
    (stale / "_shards").mkdir(parents=True)
    (stale / "_shards" / "clusters-x.jsonl").write_text('{"id":"stale2","cluster":"stale2","kind":"unique"}\n')
    run = haetae("dedup", str(SAMPLE), "--out", str(out))
    assert run.returncode == 0, run.stderr
    ids = [json.loads(ln)["id"] for ln in (out / "clusters.jsonl").read_text(encoding="utf-8").splitlines()]
    summary = json.loads((out / "dedup_summary.json").read_text())
    assert "stale" not in ids and "stale2" not in ids
    assert len(ids) + summary["counts"]["quarantined"] == 183
    assert ids == sorted(ids)  # sorted by id: a re-run writes the same bytes
    assert not stale.exists()


def test_pii_scan_output_is_published_whole(tmp_path):
    out = tmp_path / "spans.jsonl"
    first = haetae("pii", "scan", str(SAMPLE), "--out", str(out))
    assert first.returncode == 0, first.stderr
    body = out.read_bytes()
    manifest = X.read_manifest(str(out), single_file=True)
    assert manifest["counts"]["scanned"] == len(body.splitlines())
    again = haetae("pii", "scan", str(SAMPLE), "--out", str(out))
    assert again.returncode == 0 and out.read_bytes() == body
    assert oct((tmp_path / "spans.quarantine.jsonl").stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.parametrize("below, expected", [("", "is a file; give a folder"), ("sub", "is a file, not a folder")])
def test_unusable_out_is_one_line(tmp_path, below, expected):
    (tmp_path / "file").write_text("x")
    run = haetae("audit", str(SAMPLE), "--out", str(tmp_path / "file" / below) if below else str(tmp_path / "file"))
    assert run.returncode == 2 and expected in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def _in_private_tmpfs(script: str, size: str) -> subprocess.CompletedProcess:
    """Run ``script`` (sh) with a tmpfs of ``size`` mounted on $MNT, in a user and mount namespace."""
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -rm (user and mount namespaces) is not allowed here")
    return subprocess.run(["unshare", "-rm", "sh", "-ec", f"MNT=$(mktemp -d); mount -t tmpfs -o size={size} none "
                           f"$MNT; {script}"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PY": sys.executable, "SAMPLE": str(SAMPLE)})


def test_full_disk_is_one_line_and_exit_2():
    run = _in_private_tmpfs('"$PY" -m haetae.cli audit "$SAMPLE" --out $MNT/out --quiet', "48k")
    assert run.returncode == 2, run.stderr
    assert "no space left on the device" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_read_only_out_is_one_line_and_exit_2():
    run = _in_private_tmpfs('mkdir $MNT/out; mount -o remount,ro $MNT; '
                            '"$PY" -m haetae.cli audit "$SAMPLE" --out $MNT/out', "1m")
    assert run.returncode == 2, run.stderr
    assert "read-only file system" in run.stderr or "permission denied" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_runner_workarounds_refuse_another_beam_release(monkeypatch):
    import apache_beam

    from haetae.pipelines.runners.options import pipeline_options

    pipeline_options("DirectRunner")  # the pinned release
    monkeypatch.setattr(apache_beam, "__version__", "2.78.0")
    with pytest.raises(UsageError, match="written for Apache Beam 2.77.x, but 2.78.0 is installed"):
        pipeline_options("DaskRunner")
    pipeline_options("FlinkRunner")  # Beam's own runners carry no workaround


def test_truncated_gzip_through_the_command_line(previous, tmp_path):
    """Item 4 and 9 at the command line: the default policy stops on an unreadable file, exit 2, one line,
    and the previous output is untouched."""
    import gzip

    out = copy_of(previous, tmp_path)
    before = published(out)
    whole = gzip.compress(SAMPLE.read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    run = haetae("audit", str(cut), "--out", str(out), "--quiet")
    assert run.returncode == 2, run.stderr
    assert f"input {cut} is unusable (corrupt_file)" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert published(out) == before  # the job ran: its work stays beside, marked failed with the reason
    [staging] = [p for p in out.iterdir() if p.name.startswith(X.STAGING_PREFIX)]
    assert "corrupt_file" in json.loads((staging / X.FAILED).read_text())["reason"]
