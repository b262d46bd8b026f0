"""A real local Ray cluster (head + 2 worker nodes on this machine) and a real S3-compatible server.

Both start once per test session and only when a test asks for them. The S3
credentials are fake (moto accepts any), but they travel exactly like real ones:
through ``$env:NAME`` storage options, exported before the Ray nodes start so the
workers inherit them as they would on a cluster whose nodes hold the credentials.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ACME = Path(__file__).resolve().parents[2] / "datasets" / "acme"
ACME_QUESTIONS = 30  # a subset keeps the runs quick; every chunk of the corpus is still embedded

S3_KEY_ID, S3_SECRET = "AKIARAGKITTEST", "ragkit-s3-secret-never-logged"
os.environ.setdefault("RAGKIT_TEST_S3_KEY_ID", S3_KEY_ID)
os.environ.setdefault("RAGKIT_TEST_S3_SECRET", S3_SECRET)


@pytest.fixture(scope="session")
def ray_cluster():
    """``ray`` connected to a head + 2 workers (1 CPU, 150 MB object store each)."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install 'ragkit[ray]'")
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 150 * 2**20}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    for _ in range(2):
        cluster.add_node(**node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="session")
def s3_server():
    """(endpoint URL, bucket) of a moto S3 server on 127.0.0.1 with a fresh bucket."""
    pytest.importorskip("moto", reason="moto[server] is not installed (test extra)")
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=S3_KEY_ID, aws_secret_access_key=S3_SECRET)
    client.create_bucket(Bucket="ragkit-test")
    yield endpoint, "ragkit-test"
    server.stop()


@pytest.fixture()
def s3_options(s3_server):
    endpoint, _ = s3_server
    return {
        "endpoint": endpoint,
        "region": "us-east-1",
        "allow_http": "true",
        "aws_access_key_id": "$env:RAGKIT_TEST_S3_KEY_ID",
        "aws_secret_access_key": "$env:RAGKIT_TEST_S3_SECRET",
    }


def _acme_config(tmp_path, name: str, **extra) -> dict:
    """An experiment on the shipped Acme corpus (BM25, dense, hybrid over 800-char chunks) writing under ``tmp_path``."""
    return {
        "name": name,
        "corpus": {"path": str(ACME / "docs")},
        "questions": {"path": str(ACME / "questions.jsonl"), "qrels": str(ACME / "qrels.jsonl"), "limit": ACME_QUESTIONS},
        "chunkers": [{"name": "chars", "size": 800, "overlap": 240}],
        "retrievers": [{"name": "bm25"}, {"name": "dense"}, {"name": "hybrid", "fusion": "rrf"}],
        "k": [1, 5, 10],
        "bootstrap": 100,
        "device": "cpu",
        "report": False,
        "topics": False,  # the engines are compared; the topic step is the same code either way
        "output_dir": str(tmp_path / "runs"),
        "cache_dir": str(tmp_path / f"cache-{name}"),
        **extra,
    }


@pytest.fixture()
def acme_config():
    """``acme_config(tmp_path, name, **overrides)`` -> an experiment config dict on the Acme corpus."""
    return _acme_config


@pytest.fixture()
def s3_secret() -> str:
    return S3_SECRET
