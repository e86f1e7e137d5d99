"""`AirflowApi` against a real ``airflow api-server``: token login, paging, explained errors, an absent server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("airflow.sdk")

from guardrails.airflow._rest import AirflowApi, AirflowApiError, AirflowNotConfigured, AirflowUnreachable
from tests.airflow.api_server import ApiServer, free_port

pytestmark = pytest.mark.xdist_group("airflow")


def test_password_login_reads_the_servers_version_and_pages_through_a_collection(api_server: ApiServer) -> None:
    """A user name and password are exchanged for a token; a collection is read page by page to its total."""
    with api_server.client() as api:
        assert api.version()["version"].startswith("3.")
        pools = list(api.paginate("/pools", "pools"))
        first = api.page("/pools", "pools", limit=1)
    assert "default_pool" in {pool["name"] for pool in pools}
    assert len(first.items) == 1 and first.total_entries == len(pools)


def test_a_given_bearer_token_is_used_as_is(api_server: ApiServer) -> None:
    """A token obtained elsewhere authenticates without any password."""
    with api_server.client() as login:
        token = login._fetch_token()
    with AirflowApi(api_server.url, token=token) as api:
        assert api.get("/pools/default_pool")["name"] == "default_pool"


def test_errors_are_explained_and_never_carry_credentials(api_server: ApiServer) -> None:
    """A wrong password, a bad token and a missing DAG fail with their status explained and no secret in the text."""
    with AirflowApi(api_server.url, username=api_server.username, password="wrong-secret-xyz") as api, \
            pytest.raises(AirflowApiError) as rejected:
        api.get("/pools")
    assert rejected.value.status == 401 and "user name or password was rejected" in str(rejected.value)
    assert "wrong-secret-xyz" not in str(rejected.value)
    with AirflowApi(api_server.url, token="not-a-jwt-secret") as api, pytest.raises(AirflowApiError) as bad:
        api.get("/pools")
    assert bad.value.status == 403 and "token was refused" in str(bad.value)  # Airflow 3.3: "Invalid JWT token"
    assert "not-a-jwt-secret" not in str(bad.value) and "not-a-jwt-secret" not in repr(api)
    with api_server.client() as api, pytest.raises(AirflowApiError) as missing:
        api.dag("no_such_dag")
    assert missing.value.status == 404 and "not found" in str(missing.value) and "/dags/no_such_dag" in str(
        missing.value)


def test_a_closed_port_is_reported_as_unreachable() -> None:
    """Nothing listening on the port raises AirflowUnreachable naming the server and the call not made."""
    url = f"http://127.0.0.1:{free_port()}"
    with AirflowApi(url, token="t", timeout_seconds=2) as api, pytest.raises(AirflowUnreachable) as unreachable:
        api.set_paused("fraud", True)
    assert unreachable.value.status is None
    assert f"api-server at {url} is unreachable" in str(unreachable.value)
    assert "PATCH /api/v2/dags/fraud was not done" in str(unreachable.value)


def test_configuration_comes_from_the_environment_and_is_checked() -> None:
    """No URL means no client; a URL without credentials, or a non-http URL, is refused with the variable named."""
    assert AirflowApi.from_env({}) is None
    api = AirflowApi.from_env({"GUARDRAILS_AIRFLOW_URL": "http://af:8080/api/v2/", "GUARDRAILS_AIRFLOW_TOKEN": "t"})
    assert api is not None and api.url == "http://af:8080"
    with pytest.raises(AirflowNotConfigured, match="GUARDRAILS_AIRFLOW_TOKEN"):
        AirflowApi.from_env({"GUARDRAILS_AIRFLOW_URL": "http://af:8080"})
    with pytest.raises(AirflowNotConfigured, match="expected http"):
        AirflowApi("af:8080", token="t")


def test_the_client_imports_where_airflow_is_not_installed(tmp_path: Path) -> None:
    """The REST client, release events and re-arm need no Airflow (the CLI uses them); the operator names the extra."""
    script = (
        "import sys\nsys.modules['airflow'] = None\n"
        "from guardrails.airflow._rest import AirflowApi\nprint(AirflowApi('http://x', token='t').url)\n"
        "import guardrails.airflow._release_event, guardrails.airflow._circuit  # the CLI's release and re-arm\n"
        "try:\n    from guardrails.airflow import GuardedOperator\nexcept ImportError as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "http://x"
    assert lines[1].endswith("needs the [airflow] extra: pip install 'pipeline-guardrails[airflow]'")


def test_an_airflow_http_connection_configures_the_client(api_server: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTTP connection's host, port, login and password (as a task would see it) reach the real server."""
    from urllib.parse import urlsplit

    address = urlsplit(api_server.url)
    connection = {"conn_type": "http", "host": address.hostname, "port": address.port,
                  "login": api_server.username, "password": api_server.password}
    monkeypatch.setenv("AIRFLOW_CONN_GUARDRAILS_TEST_API", json.dumps(connection))
    with AirflowApi.from_connection("guardrails_test_api") as api:
        assert api.url == api_server.url
        assert api.get("/pools/default_pool")["name"] == "default_pool"
