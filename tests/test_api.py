"""The scoring service: every endpoint and error through FastAPI's TestClient, schema fuzzing
with schemathesis, the token rule through the CLI and a real ``custseg serve`` process."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from custseg import load_model, segment
from custseg.cli import app as cli_app
from custseg.exceptions import MissingDependencyError

pytest.importorskip("fastapi", reason="the api extra is not installed")
with warnings.catch_warnings():  # starlette's TestClient warns about its httpx backend
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from custseg.api import create_app  # noqa: E402
from custseg.cli.serve import is_loopback, token_for  # noqa: E402

TOKEN = "s3cret-token-for-tests-0123456789"
AGE, INCOME, SPENDING = "Age", "Annual Income (k$)", "Spending Score (1-100)"


@pytest.fixture(scope="module")
def mall():
    from tests.conftest import shared_file

    return pd.read_csv(shared_file("mall_customers.csv"))


@pytest.fixture(scope="module")
def fitted(mall, tmp_path_factory):
    seg = segment(mall, seed=0)
    path = seg.save(tmp_path_factory.mktemp("model") / "model.skops")
    return seg, path


@pytest.fixture(scope="module")
def client(fitted):
    return TestClient(create_app(fitted[1], max_batch=500, max_body_bytes=200_000))


def customer(row) -> dict:
    return {AGE: float(row[AGE]), INCOME: float(row[INCOME]), SPENDING: float(row[SPENDING])}


# ---------------------------------------------------------------- endpoints


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["segments"] == 6 and body["scorer"] == "numpy"
    assert body["features"] == [AGE, INCOME, SPENDING]


def test_model_endpoint(client, fitted):
    seg, _ = fitted
    r = client.get("/v1/model")
    assert r.status_code == 200
    info = r.json()
    assert [f["name"] for f in info["features"]] == seg.features
    assert info["features"][0]["training"]["median"] == 36.0
    assert [s["name"] for s in info["segments"]] == [p.name for p in seg.profiles]
    assert info["segments"][0]["persona"] and info["segments"][0]["training_share"] == 0.225
    assert info["metadata"]["n_rows"] == 200 and info["format_version"] == 3
    assert set(info["example"]) == set(seg.features)
    assert client.post("/v1/assign", json=info["example"]).status_code == 200


def test_docs_and_openapi(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/assign"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["anyOf"][1]["maxItems"] == 500
    customer_schema = spec["components"]["schemas"]["Customer"]
    assert set(customer_schema["required"]) == {AGE, INCOME, SPENDING}


def test_assign_one_customer_matches_the_library(client, fitted, mall):
    seg, _ = fitted
    row = mall.iloc[7]
    r = client.post("/v1/assign", json=customer(row) | {"id": "C-8", "Gender": "x"})
    assert r.status_code == 200
    body = r.json()
    assert body["segment"] == seg.labels[7] and body["id"] == "C-8"
    assert body["segment_name"] == seg.names[seg.labels[7]]
    assert body["distance"] == pytest.approx(seg.distances[7], rel=1e-12)


def test_assign_batch_reproduces_training_labels(client, fitted, mall):
    seg, _ = fitted
    batch = [customer(row) | {"id": int(row["CustomerID"])} for _, row in mall.iterrows()]
    r = client.post("/v1/assign", json=batch)
    assert r.status_code == 200
    got = r.json()
    assert [g["segment"] for g in got] == seg.labels.tolist()
    assert [g["id"] for g in got] == mall["CustomerID"].tolist()
    np.testing.assert_allclose([g["distance"] for g in got], seg.distances, rtol=1e-12)
    assert client.post("/v1/assign", json=[]).json() == []


def test_null_is_imputed_like_the_library(client, fitted, mall):
    _, path = fitted
    frame = mall.head(3).copy()
    frame[AGE] = frame[AGE].astype(float)
    frame.loc[1, AGE] = np.nan
    want = load_model(path).assign(frame)
    batch = [customer(row) for _, row in frame.iterrows()]
    batch[1][AGE] = None
    got = client.post("/v1/assign", json=batch).json()
    assert [g["segment"] for g in got] == want["segment"].tolist()
    np.testing.assert_allclose([g["distance"] for g in got], want["distance"], rtol=1e-12)


# ---------------------------------------------------------------- errors


def _post_raw(client, text: str):
    return client.post("/v1/assign", content=text, headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "body, loc, kind",
    [
        ({AGE: "forty", INCOME: 10, SPENDING: 5}, ["body", AGE], "float_type"),
        ({AGE: True, INCOME: 10, SPENDING: 5}, ["body", AGE], "float_type"),
        ({AGE: "40", INCOME: 10, SPENDING: 5}, ["body", AGE], "float_type"),
        ({AGE: 40, INCOME: 10}, ["body", SPENDING], "missing"),
        ({AGE: 40, INCOME: 1e300, SPENDING: 5}, ["body", INCOME], "less_than_equal"),
        (
            [{AGE: 40, INCOME: 10, SPENDING: 5}, {AGE: 40, INCOME: 10}],
            ["body", 1, SPENDING],
            "missing",
        ),
        (
            {AGE: 40, INCOME: 10, SPENDING: 5, "id": True},
            ["body", "id"],
            "value_error",
        ),
        ({AGE: 40, INCOME: 10, SPENDING: 5, "id": "0" * 201}, ["body", "id"], "string_too_long"),
        (5, ["body"], "dict_type"),
        ([5], ["body", 0], "dict_type"),
    ],
    ids=[
        "text",
        "bool",
        "numeric-string",
        "missing",
        "too-large",
        "batch-missing",
        "bool-id",
        "long-id",
        "number",
        "list-of-number",
    ],
)
def test_field_level_422(client, body, loc, kind):
    r = client.post("/v1/assign", json=body)
    assert r.status_code == 422
    errors = r.json()["detail"]
    assert any(e["loc"] == loc and e["type"] == kind for e in errors), errors


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_422(client, literal):
    r = _post_raw(client, f'{{"{AGE}": {literal}, "{INCOME}": 10, "{SPENDING}": 5}}')
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", AGE] and error["type"] == "finite_number"


def test_invalid_json_is_422(client):
    r = _post_raw(client, "{not json")
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"


def test_batch_limit(fitted):
    small = TestClient(create_app(fitted[1], max_batch=5))
    one = {AGE: 40, INCOME: 10, SPENDING: 5}
    assert small.post("/v1/assign", json=[one] * 5).status_code == 200
    r = small.post("/v1/assign", json=[one] * 6)
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body"] and "at most 5 items" in error["msg"]


def test_body_size_limit(fitted):
    small = TestClient(create_app(fitted[1], max_body_bytes=2_000))
    one = {AGE: 40, INCOME: 10, SPENDING: 5}
    r = small.post("/v1/assign", json=[one] * 100)
    assert r.status_code == 413
    assert "exceeds the limit of 2,000 bytes" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(100):
            yield json.dumps(one).encode() + b","

    r = small.post("/v1/assign", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_values_too_large_to_score_are_refused_not_crashed(fitted, mall):
    """The schema bounds inputs (422 above); the library refuses what would overflow."""
    from custseg import DataError

    model = load_model(fitted[1])
    frame = mall.head(3).astype({AGE: float})
    frame.loc[1, AGE] = 1e308
    with pytest.raises(DataError, match=r"too large to score \(e.g. on row 1\)"):
        model.assign(frame)
    labels, dist = model.scorer.score(frame[[AGE, INCOME, SPENDING]].to_numpy(float))
    assert np.isinf(dist[1]) and np.isfinite(dist[[0, 2]]).all()
    labels, dist = model.scorer.score_rows(frame[[AGE, INCOME, SPENDING]].values.tolist())
    assert np.isinf(dist[1]) and np.isfinite(np.asarray(dist)[[0, 2]]).all()


def test_one_hot_model_over_http(mall, tmp_path):
    seg = segment(mall, k=4, k_range="3..4", one_hot="Gender", seed=0)
    c = TestClient(create_app(seg.save(tmp_path / "m.skops")))
    rows = [customer(r) | {"Gender": r["Gender"]} for _, r in mall.head(30).iterrows()]
    got = c.post("/v1/assign", json=rows).json()
    assert [g["segment"] for g in got] == seg.labels[:30].tolist()
    for gender in ("Other", None, 3):
        assert c.post("/v1/assign", json=rows[0] | {"Gender": gender}).status_code == 200
    r = c.post("/v1/assign", json=rows[0] | {"Gender": 1.5})
    assert r.status_code == 422


# ---------------------------------------------------------------- token


def test_token_is_enforced_on_v1_only(fitted):
    c = TestClient(create_app(fitted[1], token=TOKEN))
    one = {AGE: 40, INCOME: 10, SPENDING: 5}
    r = c.post("/v1/assign", json=one)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = c.post("/v1/assign", json=one, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = c.post("/v1/assign", json=one, headers={"Authorization": f"Basic {TOKEN}"})
    assert r.status_code == 401
    assert c.get("/v1/model").status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert c.post("/v1/assign", json=one, headers=auth).status_code == 200
    assert c.get("/v1/model", headers=auth).status_code == 200
    assert c.get("/healthz").status_code == 200


def test_loopback_rule():
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.com"):
        assert not is_loopback(host), host
    assert token_for("127.0.0.1", {}) is None
    assert token_for("0.0.0.0", {"CUSTSEG_API_TOKEN": TOKEN}) == TOKEN
    assert token_for("127.0.0.1", {"CUSTSEG_API_TOKEN": f" {TOKEN} "}) == TOKEN


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "myhost.example"])
def test_serve_refuses_non_loopback_without_token(fitted, host):
    result = CliRunner().invoke(
        cli_app, ["serve", str(fitted[1]), "--host", host], env={"CUSTSEG_API_TOKEN": ""}
    )
    assert result.exit_code == 2
    assert "Refusing to listen on" in result.output and "CUSTSEG_API_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_serve_refuses_a_short_token(fitted):
    result = CliRunner().invoke(
        cli_app, ["serve", str(fitted[1]), "--host", "0.0.0.0"], env={"CUSTSEG_API_TOKEN": "abc"}
    )
    assert result.exit_code == 2 and "at least 16" in result.output


def test_serve_bad_model_is_exit_2(tmp_path):
    bad = tmp_path / "m.skops"
    bad.write_bytes(b"junk")
    result = CliRunner().invoke(cli_app, ["serve", str(bad)])
    assert result.exit_code == 2 and "not a custseg model file" in result.output


def test_missing_fastapi_names_the_extra(fitted, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # import fastapi now raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'custseg\[api\]'"):
        create_app(fitted[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(args, env):
    entry = "from custseg.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", entry, "serve", *map(str, args)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def test_real_server_with_token(fitted):
    import httpx

    port = _free_port()
    proc = _serve([fitted[1], "--port", port], {"CUSTSEG_API_TOKEN": TOKEN})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        one = {AGE: 40, INCOME: 10, SPENDING: 5}
        assert httpx.post(f"{base}/v1/assign", json=one).status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert httpx.post(f"{base}/v1/assign", json=one, headers=bad).status_code == 401
        good = {"Authorization": f"Bearer {TOKEN}"}
        r = httpx.post(f"{base}/v1/assign", json=one, headers=good)
        assert r.status_code == 200 and r.json()["segment_name"]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)


def test_real_server_refuses_open_bind_without_token(fitted):
    proc = _serve(
        [fitted[1], "--host", "0.0.0.0", "--port", _free_port()], {"CUSTSEG_API_TOKEN": ""}
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert b"Refusing to listen on '0.0.0.0' without a token" in err
    assert b"Traceback" not in err + out


# ---------------------------------------------------------------- fuzzing

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402


@pytest.fixture(scope="module", params=["numeric", "one-hot"])
def fuzz_schema(request, fitted, mall, tmp_path_factory):
    path = fitted[1]
    if request.param == "one-hot":
        seg = segment(mall, k=4, k_range="3..4", one_hot="Gender", seed=0)
        path = seg.save(tmp_path_factory.mktemp("onehot") / "model.skops")
    service = create_app(path, max_batch=50, max_body_bytes=100_000)
    return schemathesis.openapi.from_asgi("/openapi.json", service)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzz_assign_against_the_openapi_schema(fuzz_schema, mode):
    """Schema-driven bodies (valid, then invalid): never a 5xx; valid ones are accepted, invalid
    ones refused, and every response matches the documented schema."""
    strategy = fuzz_schema["/v1/assign"]["POST"].as_strategy(generation_mode=mode)

    @settings(
        max_examples=50,
        deadline=2000,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    @given(case=strategy)
    def run(case):
        response = case.call()
        assert response.status_code < 500, (case.body, response.text[:300])
        case.validate_response(response)

    run()
