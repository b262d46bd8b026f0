"""Scale: streaming indexing local vs Ray, peak memory at two corpus sizes, ANN build time, QPS and recall.

Usage::

    python benchmarks/bench_scale.py BEIR_FOLDER [BEIR_FOLDER ...] [--rows 200000] [--subset 20000]
        [--memory-rows N] [--part-rows 10000] [--workdir /tmp/ragkit-bench-scale] [--workers 2]
        [--ann ivf_pq,hnsw] [--skip-throughput] [--skip-memory]

e.g. ``python benchmarks/bench_scale.py /data/beir/scifact /data/beir/nfcorpus``.

Corpus (written once to ``WORKDIR/corpus/part-*.parquet``, reused by later runs):
every document is cut into clauses (after ``. ! ? ; ,`` and a space), and a chunk is
a window of consecutive clauses starting at *every* clause and filled up to 200 or
300 characters (one window per start and target length, at most twice the target,
scraps under 40 characters and duplicate texts dropped). Every chunk is an exact
span of a real document; windows overlap, which is what augments SciFact + NFCorpus
(~8.8k documents) to ~320k distinct chunks of ~200 characters. Rows are shuffled
(seed 0), so any prefix is a sample of the whole; the first ``--rows`` rows are the corpus.

What each figure measures (all on this machine, embedding cache OFF, model
all-MiniLM-L6-v2 on CPU, each indexing run in a fresh child process whose whole
process tree - driver, Ray's GCS/raylet and workers - is sampled every 0.5 s):

1. Throughput, local vs Ray, on the same first ``--subset`` rows: chunks/s of
   ``index_stream`` (this process embeds, batch by batch) vs ``index_stream_ray``
   (Ray Data ``map_batches`` over ``--workers`` actors of 1 CPU each); both read the
   same Parquet files and stream into LanceDB. Timed from the call to the committed
   table, model loading included; Ray's cluster start is printed separately.
2. Peak memory: one Ray run (real model) over the first ``--memory-rows`` rows (default:
   all). Peak PSS (proportional set size: shared pages counted once) and peak RSS of
   the process tree are reported up to the moment half of the rows were written and
   up to the end. A streaming indexer's peak must not grow with the rows written; the
   vectors themselves (rows x 384 x 4 bytes) are printed for scale - they go to LanceDB
   on disk, not into memory. When ``--memory-rows`` is below ``--rows`` (a machine too
   slow to embed the whole corpus in the time at hand), 2b repeats the measurement over
   all ``--rows`` rows for the part that could grow with the corpus - reading the
   Parquet parts and LanceDB's streaming writer - with seeded random unit vectors in
   place of the model (whose memory is per batch, and measured in 2).
3. ANN on the table the real-model run wrote: build time of each index kind, then
   QPS of the dense retriever through the ANN index (LanceDB, one query at a time,
   refine_factor 5) vs its exact batched top-10 (torch over the in-memory matrix),
   on the BEIR test queries (embedded once, excluded), and recall@10 of ANN vs exact.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

_WINDOWS = (200, 300)
_CLAUSE = re.compile(r"(?<=[.!?;,])\s+")


# ---------------------------------------------------------------- corpus


def _windows(doc) -> list[tuple[int, int, int]]:
    """(start, end, target) of the clause windows of one document."""
    text, spans, pos = doc.text, [], 0
    for piece in _CLAUSE.split(text):
        start = text.find(piece, pos)
        spans.append((start, start + len(piece)))
        pos = start + len(piece)
    out = set()
    for target in _WINDOWS:
        for i, (start, end) in enumerate(spans):
            j = i
            while j + 1 < len(spans) and spans[j + 1][1] - start <= target:
                j += 1
            end = spans[j][1]
            if end - start >= 40:  # drop scraps
                out.add((start, min(end, start + 2 * target), target))
    return sorted(out)


def build_corpus(folders: list[Path], rows: int, out: Path, part_rows: int) -> dict:
    """Write the shuffled window chunks of ``folders`` as Parquet parts of input_schema rows."""
    import pyarrow.parquet as pq

    from ragkit.data.beir import load_beir
    from ragkit.data.types import Chunk
    from ragkit.retrieval.chunk_rows import chunk_batches, chunk_schema, input_schema

    chunks, seen = [], set()
    for folder in folders:
        docs, _, _ = load_beir(folder, title_in_text=False)
        for d in docs:
            for start, end, target in _windows(d):
                text = d.text[start:end]
                if text not in seen:
                    seen.add(text)
                    chunks.append(Chunk(f"{folder.name}/{d.id}@{start}-{end}", d.id, text, start, end,
                                        {"dataset": folder.name, "window": target}))
    random.Random(0).shuffle(chunks)
    if len(chunks) < rows:
        sys.exit(f"only {len(chunks)} distinct chunks from {[f.name for f in folders]}; lower --rows or add folders")
    chunks = chunks[:rows]
    schema = chunk_schema(384, [c.metadata for c in chunks[:1000]])
    out.mkdir(parents=True, exist_ok=True)
    batches = chunk_batches(chunks, [c.text for c in chunks], schema, batch_rows=part_rows)
    for i, batch in enumerate(batches):
        pq.write_table(__import__("pyarrow").Table.from_batches([batch], input_schema(schema)), out / f"part-{i:05d}.parquet")
    info = {"rows": rows, "part_rows": part_rows, "mean_chars": sum(len(c.text) for c in chunks) / rows, "docs_folders": [str(f) for f in folders]}
    (out / "corpus.json").write_text(json.dumps(info))
    return info


def read_chunks(files: list[Path]):
    """(chunk, embedded text) pairs streamed from Parquet parts."""
    import pyarrow.parquet as pq

    from ragkit.data.types import Chunk

    for f in files:
        t = pq.read_table(f)
        cols = {n: t.column(n).to_pylist() for n in ("chunk_id", "doc_id", "text", "start", "end", "metadata", "embed_text")}
        for i in range(t.num_rows):
            meta = json.loads(cols["metadata"][i])
            yield Chunk(cols["chunk_id"][i], cols["doc_id"][i], cols["text"][i], cols["start"][i], cols["end"][i], meta), cols["embed_text"][i]


# ---------------------------------------------------------------- child: one indexing run


def child(job: dict) -> None:
    """Index ``job["files"]`` into table ``job["table"]`` with one engine; print timings as JSON."""
    import pyarrow.parquet as pq

    from ragkit.retrieval.chunk_rows import chunk_schema
    from ragkit.retrieval.lance_store import ChunkTable

    files = [Path(f) for f in job["files"]]
    table = ChunkTable(job["table"], dim=384, uri=job["uri"])
    schema = chunk_schema(384, [{"dataset": "x", "window": 1}])
    marks, rows, t0 = [], 0, None

    def counted(batches):
        nonlocal rows
        for b in batches:
            rows += b.num_rows
            marks.append((rows, time.time()))
            yield b

    out = {"engine": job["engine"], "start": time.time()}
    if job["engine"] == "writer":  # no model: real rows, seeded unit vectors, the LanceDB streaming writer alone
        import numpy as np
        import pyarrow as pa

        rng = np.random.default_rng(0)

        def with_vectors(batches):
            for b in batches:
                v = rng.standard_normal((b.num_rows, 384), dtype=np.float32)
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                yield b.append_column("vector", pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), 384))

        batches = (b for f in files for b in pq.ParquetFile(f).iter_batches(batch_size=job["rows_per_batch"]))
        t0 = time.time()
        table.write_stream(counted(with_vectors(batches)), schema)
    elif job["engine"] == "local":
        from ragkit.retrieval.stream_index import index_stream

        batches = (b for f in files for b in pq.ParquetFile(f).iter_batches(batch_size=job["rows_per_batch"]))
        t0 = time.time()
        index_stream(table, counted(batches), schema, device="cpu", use_cache=False)
    else:
        import ray

        from ragkit.core.ray_embed import configure_ray_data, embed_dataset

        # one logical CPU more than the actors take, for Ray Data's Parquet read tasks
        ray.init(address="local", num_cpus=job["workers"] + 1, object_store_memory=512 << 20, include_dashboard=False,
                 logging_level=30, log_to_driver=False)
        configure_ray_data(ray)  # before the read: small blocks spread the corpus over the actors
        out["ray_init_s"] = time.time() - out["start"]
        t0 = time.time()
        # exactly index_stream_ray's two calls, with a row counter between them
        source = ray.data.read_parquet(job["dir"], override_num_blocks=len(files))
        ds = embed_dataset(source, device="cpu", use_cache=False,
                           text_column="embed_text", rows_per_batch=job["rows_per_batch"], num_workers=job["workers"])
        table.write_stream(counted(ds.iter_batches(batch_size=None, batch_format="pyarrow")), schema)
        ray.shutdown()
    out.update(t0=t0, end=time.time(), rows=rows, marks=marks, written=table.open().count_rows())
    print("RESULT " + json.dumps(out), flush=True)


class TreeSampler(threading.Thread):
    """Samples RSS and PSS summed over a process and all its descendants."""

    def __init__(self, pid: int, every: float = 0.5):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self.stop = pid, every, [], threading.Event()

    def run(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self.stop.is_set():
            rss = pss = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                try:
                    m = p.memory_full_info()
                    rss, pss = rss + m.rss, pss + getattr(m, "pss", m.rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.samples.append((time.time(), rss, pss))
            self.stop.wait(self.every)

    def peak(self, until: float | None = None) -> tuple[int, int]:
        s = [x for x in self.samples if until is None or x[0] <= until]
        return max(x[1] for x in s), max(x[2] for x in s)


def _subset_dir(files: list[Path]) -> str:
    """A folder of links to ``files``: Ray Data reads one folder (as users read ``s3://bucket/chunks/``)."""
    folder = files[0].parent.parent / f"subset-{len(files)}"
    folder.mkdir(exist_ok=True)
    for f in files:
        if not (folder / f.name).exists():
            (folder / f.name).symlink_to(f)
    return str(folder)


def run_child(job: dict) -> dict:
    job = {**job, "dir": _subset_dir([Path(f) for f in job["files"]])}
    env = {**os.environ, "RAGKIT_CACHE_DIR": tempfile.mkdtemp(prefix="bench-scale-cache-"), "RAGKIT_DISABLE_TQDM": "1"}
    proc = subprocess.Popen([sys.executable, __file__, "--child", json.dumps(job)], stdout=subprocess.PIPE, env=env, text=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    stdout, _ = proc.communicate()
    sampler.stop.set()
    sampler.join()
    line = next((x for x in stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        sys.exit(f"child {job['engine']} failed (exit {proc.returncode}):\n{stdout[-3000:]}")
    res = json.loads(line[len("RESULT "):])
    res["sampler"] = sampler
    return res


# ---------------------------------------------------------------- parent


def _mib(b: float) -> str:
    return f"{b / 2**20:7.0f} MiB"


def throughput(files, args, uri) -> None:
    print(f"\n== 1. indexing throughput on the same {len(files) * args.part_rows} chunks (cache off) ==")
    res = {}
    for engine in ("local", "ray"):
        job = dict(engine=engine, files=[str(f) for f in files], table=f"bench_{engine}_{len(files)}", uri=uri,
                   rows_per_batch=args.rows_per_batch, workers=args.workers)
        r = res[engine] = run_child(job)
        secs = r["end"] - r["t0"]
        rss, pss = r["sampler"].peak()
        extra = f", Ray start {r['ray_init_s']:.1f}s not included" if "ray_init_s" in r else ""
        print(f"{engine:>5}: {r['rows']} chunks in {secs:6.1f}s = {r['rows'] / secs:7.1f} chunks/s; "
              f"peak tree PSS {_mib(pss)}, RSS {_mib(rss)}{extra}")
    ratio = (res["ray"]["rows"] / (res["ray"]["end"] - res["ray"]["t0"])) / (res["local"]["rows"] / (res["local"]["end"] - res["local"]["t0"]))
    print(f"ratio Ray / local throughput: {ratio:.2f}x ({args.workers} actors x 1 CPU vs 1 process, same cores)")


def memory(files, args, uri, table: str, engine: str = "ray") -> None:
    n = len(files) * args.part_rows
    what = {"ray": "streaming Ray indexing (real model, cache off)",
            "writer": "the streaming LanceDB writer alone (no model: seeded unit vectors)"}[engine]
    print(f"\n== {'2' if engine == 'ray' else '2b'}. peak memory of {what}, {n} chunks in one run ==")
    r = run_child(dict(engine=engine, files=[str(f) for f in files], table=table, uri=uri,
                       rows_per_batch=args.rows_per_batch, workers=args.workers))
    secs = r["end"] - r["t0"]
    print(f"wrote {r['written']} rows in {secs:.0f}s ({r['rows'] / secs:.1f} chunks/s)")
    rows = [m for m in r["marks"]]
    base = None
    for frac in (0.5, 1.0):
        target = int(n * frac)
        t_at = next((t for k, t in rows if k >= target), r["end"])
        rss, pss = r["sampler"].peak(t_at)
        base = base or pss
        print(f"peak up to {target:>7} chunks written: PSS {_mib(pss)} (x{pss / base:.2f}), RSS {_mib(rss)}; "
              f"the vectors of {target} chunks would be {_mib(target * 384 * 4)}")


def ann(files, args, uri, table: str) -> None:
    import numpy as np

    from ragkit.data.beir import load_beir
    from ragkit.retrieval.dense import DenseRetriever
    from ragkit.retrieval.lance_store import ChunkTable

    print("\n== 3. ANN vs exact on the full table ==")
    pairs = list(read_chunks(files))
    chunks = [c for c, _ in pairs]
    queries = [q for f in args.folders for q in load_beir(f, title_in_text=False)[1]]
    exact = DenseRetriever(device="cpu", uri=uri)
    t = time.perf_counter()
    exact.index(chunks)
    print(f"{len(chunks)} chunks, table {exact.table.name} loaded in {time.perf_counter() - t:.1f}s (no embedding); "
          f"{len(queries)} queries")
    qids, qvecs = [q.id for q in queries], exact.encode_queries([q.text for q in queries])
    t = time.perf_counter()
    truth = exact.search_vectors(qids, qvecs, 10)
    t_exact = time.perf_counter() - t
    print(f"exact batched top-10: {len(qids) / t_exact:8.1f} QPS")
    for kind in args.ann:
        lt = ChunkTable(exact.table.name, dim=384, uri=uri)
        t = time.perf_counter()
        lt.ensure_index(kind)
        build = time.perf_counter() - t
        r = DenseRetriever(device="cpu", uri=uri, ann=kind, ann_threshold=0)
        r.index(chunks)
        r.search_vectors(qids[:5], qvecs[:5], 10)  # warm-up
        t = time.perf_counter()
        run = r.search_vectors(qids, qvecs, 10)
        t_ann = time.perf_counter() - t
        rec = np.mean([len({h.chunk_id for h in run[q]} & {h.chunk_id for h in truth[q]}) / max(1, len(truth[q])) for q in qids])
        print(f"{kind:>7}: build {build:6.1f}s; {len(qids) / t_ann:8.1f} QPS ({(len(qids) / t_ann) / (len(qids) / t_exact):.2f}x exact); "
              f"recall@10 vs exact {rec:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", type=Path, nargs="*")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--subset", type=int, default=20_000, help="rows of the local-vs-Ray throughput run")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "ragkit-bench-scale")
    ap.add_argument("--workers", type=int, default=2, help="Ray actors (1 CPU each)")
    ap.add_argument("--rows-per-batch", type=int, default=1024)
    ap.add_argument("--part-rows", type=int, default=10_000, help="rows per Parquet part (sizes are multiples)")
    ap.add_argument("--ann", type=lambda s: s.split(","), default=["ivf_pq", "hnsw"])
    ap.add_argument("--memory-rows", type=int, default=None,
                    help="rows the real-model Ray memory run embeds (default --rows); the ANN part uses its table")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-memory", action="store_true", help="reuse the table of an earlier run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    if not args.folders or not all((f / "qrels").is_dir() for f in args.folders):
        print("give BEIR folders (corpus.jsonl[.gz], queries.jsonl, qrels/), e.g. .../scifact .../nfcorpus")
        return 2
    corpus, uri = args.workdir / "corpus", str(args.workdir / "lancedb")
    info = json.loads((corpus / "corpus.json").read_text()) if (corpus / "corpus.json").is_file() else {}
    if [info.get(k) for k in ("rows", "part_rows", "docs_folders")] != [args.rows, args.part_rows, [str(f) for f in args.folders]]:
        t = time.perf_counter()
        for old in corpus.glob("part-*.parquet"):
            old.unlink()
        info = build_corpus(args.folders, args.rows, corpus, args.part_rows)
        print(f"built corpus in {time.perf_counter() - t:.0f}s")
    files = sorted(corpus.glob("part-*.parquet"))
    print(f"corpus: {info['rows']} chunks (mean {info['mean_chars']:.0f} chars) from {[f.name for f in args.folders]}; "
          f"{len(files)} parts of {args.part_rows}; machine: {os.cpu_count()} CPUs")
    if not args.skip_throughput:
        throughput(files[: max(1, args.subset // args.part_rows)], args, uri)
    from ragkit.core.models import get_embedder
    from ragkit.retrieval.lance_store import table_name

    emb = get_embedder("default", "cpu")
    mem_files = files[: max(1, (args.memory_rows or args.rows) // args.part_rows)]
    n = len(mem_files) * args.part_rows
    name = table_name(emb.fingerprint, emb.dim, (c for c, _ in read_chunks(mem_files)), (t for _, t in read_chunks(mem_files)), n=n)
    if not args.skip_memory:
        memory(mem_files, args, uri, name)
        if len(mem_files) < len(files):  # the real-model run is smaller than the corpus: the writer alone at full size
            memory(files, args, uri, "bench_writer", engine="writer")
    if args.ann:
        ann(mem_files, args, uri, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
