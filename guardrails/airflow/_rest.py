"""A small typed client of Airflow 3's public REST API (``/api/v2``): what the breaker, the release and the readers use.

Airflow 3 forbids task code to touch the metadata DB, so everything the guardrails read from or write to a running
Airflow goes through its api-server. This module imports only httpx, so the CLI can use it where Airflow itself is
not installed (``guardrails quarantine release``, ``guardrails incident rearm``).

Authentication (Airflow 3's api-server takes a JWT as ``Authorization: Bearer``):
    * a bearer token you already have (any auth manager: SimpleAuthManager, FAB, Keycloak), or
    * a user name and password, exchanged for a token at ``POST /auth/token`` (SimpleAuthManager and FAB both serve
      it; the token is fetched on first use and again once when a request answers 401).

Configuration, first match wins: explicit arguments to `AirflowApi`; `AirflowApi.from_env` reads
``GUARDRAILS_AIRFLOW_URL`` with ``GUARDRAILS_AIRFLOW_TOKEN`` or ``GUARDRAILS_AIRFLOW_USERNAME`` +
``GUARDRAILS_AIRFLOW_PASSWORD``; `AirflowApi.from_connection` reads an Airflow HTTP connection inside a task
(host/port/schema for the URL, login/password, or ``{"token": ...}`` in its extra).

Credentials are never part of a message, a ``repr`` or an exception: errors name the method, the path and the
status, and quote at most a capped ``detail`` from the server.

Example:
    >>> api = AirflowApi("http://127.0.0.1:8080", token="t0ken")
    >>> api
    AirflowApi(url='http://127.0.0.1:8080', auth='token')
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from guardrails._text import MESSAGE_CHARS, cap_text

URL_ENV = "GUARDRAILS_AIRFLOW_URL"
TOKEN_ENV = "GUARDRAILS_AIRFLOW_TOKEN"
USERNAME_ENV = "GUARDRAILS_AIRFLOW_USERNAME"
PASSWORD_ENV = "GUARDRAILS_AIRFLOW_PASSWORD"
API_PREFIX = "/api/v2"
OUTCOME_XCOM_KEY = "guardrails_outcome"
"""The XCom key of a quarantined batch's outcome record (a published one is the task's ``return_value``)."""
PAGE = 100
"""Rows asked for per page (Airflow's default ``maximum_page_limit`` is 100; it silently caps larger limits)."""

_EXPLAIN = {
    401: "not authenticated: the token is missing, expired or invalid (check the token or the user name/password)",
    403: "forbidden: the token was refused (invalid or expired) or its user lacks the permission for this call",
    404: "not found",
    409: "conflict",
    422: "the request was rejected as invalid",
}


class AirflowApiError(Exception):
    """A call to Airflow's REST API failed. `status` is the HTTP status (None when no answer came back).

    Attributes:
        method: ``GET``, ``POST`` or ``PATCH``.
        path: the path called (under ``/api/v2``), never with credentials.
        status: the HTTP status, or None.
        detail: the server's ``detail``, capped, or None.
    """

    def __init__(self, message: str, *, method: str, path: str, status: int | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.status = status
        self.detail = detail


class AirflowUnreachable(AirflowApiError):
    """No answer: the api-server is down, the URL is wrong, or the network is in the way (status is None)."""


class AirflowNotConfigured(ValueError):
    """No Airflow URL (or no credentials) was given, in the arguments or the environment."""


@dataclass(frozen=True, slots=True)
class Page:
    """The rows of a collection and the server's ``total_entries``."""

    items: tuple[dict[str, Any], ...]
    total_entries: int


class AirflowApi:
    """A client of one Airflow api-server.

    Args:
        url: the api-server's base URL (``http://host:8080``; a trailing ``/api/v2`` is accepted).
        token: a bearer token (JWT) from any auth manager.
        username / password: exchanged for a token at ``POST /auth/token`` (SimpleAuthManager, FAB).
        timeout_seconds: per request (connect, read and write).
        transport: an httpx transport (tests; a real server is preferred).

    Raises:
        AirflowNotConfigured: no URL, a URL that is not http(s), or neither a token nor a user name and password.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_seconds: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = (url or "").strip().rstrip("/")
        if url.endswith(API_PREFIX):
            url = url[: -len(API_PREFIX)]
        if not url.startswith(("http://", "https://")):
            raise AirflowNotConfigured(f"Airflow URL: expected http(s)://host[:port], got {cap_text(url)!r}")
        if not token and not (username and password is not None):
            raise AirflowNotConfigured(
                f"Airflow at {url}: no credentials; give a token ({TOKEN_ENV}) or a user name and password "
                f"({USERNAME_ENV}, {PASSWORD_ENV})")
        self.url = url
        self._token = token or None
        self._login = (username, password) if not token else None
        self._client = httpx.Client(base_url=url, timeout=timeout_seconds, transport=transport,
                                    headers={"Accept": "application/json"})

    def __repr__(self) -> str:
        return f"AirflowApi(url={self.url!r}, auth={'token' if self._login is None else 'password'!r})"

    # -- construction -------------------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> AirflowApi | None:
        """The client the environment configures, or None when ``GUARDRAILS_AIRFLOW_URL`` is unset.

        Raises:
            AirflowNotConfigured: the URL is set but the credentials are not (or the URL is malformed).
        """
        env = os.environ if environ is None else environ
        url = env.get(URL_ENV, "").strip()
        if not url:
            return None
        return cls(url, token=env.get(TOKEN_ENV) or None, username=env.get(USERNAME_ENV) or None,
                   password=env.get(PASSWORD_ENV), **kwargs)

    @classmethod
    def from_connection(cls, conn_id: str, **kwargs: Any) -> AirflowApi:
        """The client an Airflow connection describes (inside a task: the Task SDK resolves the connection).

        The URL is ``<schema or http>://<host>[:<port>]`` (a host that already has a scheme is kept); the token is
        the extra's ``token``, else login and password are exchanged for one.
        """
        from airflow.sdk import BaseHook  # only inside Airflow; the rest of this module is host-free

        conn = BaseHook.get_connection(conn_id)
        host = (conn.host or "").rstrip("/")
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "http"
            host = f"{scheme}://{host}"
        if conn.port:
            host = f"{host}:{conn.port}"
        extra = conn.extra_dejson or {}
        return cls(host, token=extra.get("token") or None, username=conn.login or None, password=conn.password,
                   **kwargs)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AirflowApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------------------------------

    def _fetch_token(self) -> str:
        assert self._login is not None
        username, password = self._login
        try:
            response = self._send("POST", "/auth/token", json={"username": username, "password": password},
                                  auth=False)
        except AirflowApiError as exc:
            if exc.status not in (400, 401, 403, 422):
                raise
            raise AirflowApiError(f"POST {self.url}/auth/token: HTTP {exc.status}: the user name or password was "
                                  "rejected", method="POST", path="/auth/token", status=exc.status) from None
        token = response.json().get("access_token") if response.headers.get("content-type", "").startswith(
            "application/json") else None
        if not token:
            raise AirflowApiError(f"POST {self.url}/auth/token: no access_token in the answer",
                                  method="POST", path="/auth/token", status=response.status_code)
        return str(token)

    def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
              auth: bool = True) -> httpx.Response:
        response = self._attempt(method, path, params=params, json=json, auth=auth)
        if auth and response.status_code in (401, 403) and self._login is not None:
            # Airflow answers an expired JWT with 401 or 403 ("Invalid JWT token"): log in again, once
            self._token = None
            response = self._attempt(method, path, params=params, json=json, auth=auth)
        if response.is_success:
            return response
        detail = _detail(response)
        explained = _EXPLAIN.get(response.status_code, "failed")
        raise AirflowApiError(
            f"{method} {self.url}{path}: HTTP {response.status_code} {explained}"
            + (f" ({detail})" if detail else ""),
            method=method, path=path, status=response.status_code, detail=detail)

    def _attempt(self, method: str, path: str, *, params: Mapping[str, Any] | None, json: Any,
                 auth: bool) -> httpx.Response:
        headers = {}
        if auth:
            if self._token is None:
                self._token = self._fetch_token()
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            return self._client.request(method, path, params=params, json=json, headers=headers)
        except httpx.TransportError as exc:  # connection refused, DNS, timeout: say the server is not there
            raise AirflowUnreachable(
                f"Airflow's api-server at {self.url} is unreachable ({type(exc).__name__}: "
                f"{cap_text(str(exc) or 'no answer', MESSAGE_CHARS)}); {method} {path} was not done",
                method=method, path=path) from exc

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """One authenticated call under ``/api/v2``; returns the decoded JSON body (None when empty).

        Raises:
            AirflowUnreachable: no answer from the server.
            AirflowApiError: an error status (401/403/404 explained in the message).
        """
        response = self._send(method, API_PREFIX + path, params=_params(params), json=json)
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any, **params: Any) -> Any:
        return self.request("PATCH", path, params=params, json=body)

    def page(self, path: str, key: str, *, limit: int = PAGE, offset: int = 0, **params: Any) -> Page:
        """One page of a collection (``key`` is its list: ``dags``, ``task_instances``, ``asset_events``...)."""
        body = self.get(path, limit=limit, offset=offset, **params)
        return Page(items=tuple(body.get(key) or ()), total_entries=int(body.get("total_entries") or 0))

    def paginate(self, path: str, key: str, *, max_items: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every row of a collection, page by page (``limit``/``offset``) until ``total_entries`` or `max_items`."""
        offset = 0
        while True:
            limit = PAGE if max_items is None else min(PAGE, max_items - offset)
            if limit <= 0:
                return
            page = self.page(path, key, limit=limit, offset=offset, **params)
            yield from page.items
            offset += len(page.items)
            if not page.items or offset >= page.total_entries:
                return

    # -- the calls the guardrails make ---------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health`` (no authentication needed)."""
        return self._send("GET", API_PREFIX + "/monitor/health", auth=False).json()

    def version(self) -> dict[str, Any]:
        return self.get("/version")

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self.get(f"/dags/{_seg(dag_id)}")

    def set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        """``PATCH /api/v2/dags/{dag_id}`` with ``{"is_paused": paused}``; returns the DAG as it now is."""
        return self.patch(f"/dags/{_seg(dag_id)}", {"is_paused": paused}, update_mask="is_paused")

    def asset_by_uri(self, uri: str) -> dict[str, Any] | None:
        """The active asset whose URI is exactly `uri` (None when Airflow has no such asset)."""
        for asset in self.paginate("/assets", "assets", uri_pattern=uri):
            if asset.get("uri") == uri:
                return asset
        return None

    def asset(self, asset_id: int) -> dict[str, Any]:
        return self.get(f"/assets/{int(asset_id)}")

    def asset_events(self, *, asset_id: int | None = None, max_items: int | None = None,
                     **filters: Any) -> list[dict[str, Any]]:
        """Asset events, newest first (filters: ``source_dag_id``, ``source_task_id``, ``source_run_id``...)."""
        return list(self.paginate("/assets/events", "asset_events", max_items=max_items, asset_id=asset_id,
                                  order_by="-timestamp", **filters))

    def create_asset_event(self, asset_id: int, extra: Mapping[str, Any], *,
                           partition_key: str | None = None) -> dict[str, Any]:
        """``POST /api/v2/assets/events``: a manual event on an asset (Airflow adds ``from_rest_api: true``)."""
        body: dict[str, Any] = {"asset_id": int(asset_id), "extra": dict(extra)}
        if partition_key:
            body["partition_key"] = partition_key
        return self.post("/assets/events", body)

    def task_instances(self, dag_id: str, *, task_id: str | None = None, dag_run_id: str = "~",
                       max_items: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        """Task instances of a DAG (all runs with ``dag_run_id="~"``), newest end first."""
        return list(self.paginate(f"/dags/{_seg(dag_id)}/dagRuns/{_seg(dag_run_id)}/taskInstances",
                                  "task_instances", max_items=max_items, task_id=task_id,
                                  order_by="-end_date", **filters))

    def xcom_entries(self, *, dag_id: str = "~", dag_run_id: str = "~", task_id: str = "~", key: str | None = None,
                     max_items: int | None = None) -> list[dict[str, Any]]:
        """XCom entries (without values) of a DAG, run and task (``~`` for any), optionally of one key."""
        return list(self.paginate(
            f"/dags/{_seg(dag_id)}/dagRuns/{_seg(dag_run_id)}/taskInstances/{_seg(task_id)}/xcomEntries",
            "xcom_entries", max_items=max_items, xcom_key=key))

    def xcom_value(self, dag_id: str, dag_run_id: str, task_id: str, key: str, *, map_index: int = -1) -> Any:
        """The value of one XCom entry, as the task pushed it (JSON); raises `AirflowApiError` (404) if absent."""
        entry = self.get(f"/dags/{_seg(dag_id)}/dagRuns/{_seg(dag_run_id)}/taskInstances/{_seg(task_id)}"
                         f"/xcomEntries/{_seg(key)}", map_index=map_index)
        value = entry.get("value")
        if isinstance(value, str):  # the native form is the stored JSON text
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


def _seg(value: str) -> str:
    """A path segment, percent-encoded (DAG ids and run ids may hold ``:``/``+``)."""
    return quote(str(value), safe="~")


def _params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if params is None:
        return None
    return {key: value for key, value in params.items() if value is not None}


def _detail(response: httpx.Response) -> str | None:
    """The server's ``detail`` (FastAPI's error body), capped; never the request (it may carry credentials)."""
    try:
        body = response.json()
    except ValueError:
        return cap_text(response.text, MESSAGE_CHARS) if response.text else None
    detail = body.get("detail") if isinstance(body, dict) else body
    if detail is None:
        return None
    return cap_text(detail if isinstance(detail, str) else str(detail), MESSAGE_CHARS)
