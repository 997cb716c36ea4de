"""Starting the shim: the CLI, the config file, precedence, aliases, and who holds which key."""

import json
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import openai
import pytest
from openai import OpenAI

from mistral_wire.settings import SettingsError as ConfigError
from shim.settings import ShimSettings
from shim.settings import load as build
from testkit.auth import KEY
from testkit.processes import child_env, run_cli, shim_process

CHAT = [{"role": "user", "content": "Say hello."}]
UPSTREAM_KEY = "sk-upstream-Zq81vWc4"
CLIENT_KEY = "shim-client-Jx02mPe7"


def client(url: str, key: str = KEY) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


# --- building the settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "shim.toml"
    path.write_text(text)
    return path


def test_defaults_without_anything() -> None:
    config = build({}, environ={})
    assert (config.host, config.port, config.upstream) == ("127.0.0.1", 8080, "https://api.mistral.ai")
    assert (config.timeout, config.retries, config.mistral_api_key, config.client_keys) == (
        600.0,
        0,
        None,
        frozenset(),
    )


def test_file_sets_everything_a_flag_sets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
host = "127.0.0.2"
port = 9001
upstream = "http://127.0.0.1:9/base"
unsupported = "error"
timeout = 30
connect-timeout = 2.5
retries = 2
log_bodies = true
log_level = "debug"
max_body_mb = 4
api_keys = ["a", "b"]
cors_origins = ["https://app.example"]

[aliases]
"gpt-4o-mini" = "mistral-small-latest"
""",
    )
    config = build({}, environ={}, config_file=path)
    assert config == ShimSettings(
        host="127.0.0.2",
        port=9001,
        upstream="http://127.0.0.1:9/base",
        unsupported="error",
        timeout=30.0,
        connect_timeout=2.5,
        retries=2,
        log_bodies=True,
        log_level="debug",
        max_body_mb=4.0,
        client_keys=frozenset({"a", "b"}),
        cors_origins=("https://app.example",),
        aliases={"gpt-4o-mini": "mistral-small-latest"},
    )


def test_precedence_is_flags_then_environment_then_file(tmp_path: Path) -> None:
    path = write(
        tmp_path, 'upstream = "http://file.example"\nretries = 1\ntimeout = 5\napi_keys = ["file"]\n'
    )
    environ = {"MISTRAL_BASE_URL": "http://env.example", "SHIM_RETRIES": "2", "SHIM_API_KEYS": "env1,env2"}
    config = build({"upstream": "http://flag.example", "port": None}, environ=environ, config_file=path)
    assert (config.upstream, config.retries, config.timeout) == ("http://flag.example", 2, 5.0)
    assert config.client_keys == {"env1", "env2"}
    assert build({"client_keys": ["flag"]}, environ=environ, config_file=path).client_keys == {"flag"}
    assert build({}, environ={"SHIM_CONFIG": str(path)}).upstream == "http://file.example"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port = 'eighty'", "port must be an integer"),
        ("retries = true", "retries must be an integer"),
        ("log_bodies = 'yes'", "log_bodies must be true or false"),
        ("colour = 'blue'", "unknown setting 'colour'"),
        ("port = ", "cannot read config file"),
        ("[aliases]\n'gpt-4o' = 3", "[aliases] must be a table"),
        ("api_keys = [1]", "api_keys must be a list of strings"),
        ("unsupported = 'ignore'", "unsupported must be 'drop' or 'error'"),
        ("timeout = 0", "timeout must be a positive number"),
        ("upstream = 'ftp://x'", "upstream must be an http(s) URL"),
        ("port = 70000", "port must be between 0 and 65535"),
    ],
)
def test_bad_file_is_a_clear_config_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as raised:
        build({}, environ={}, config_file=write(tmp_path, text))
    assert message in str(raised.value)


def test_bad_environment_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match="SHIM_TIMEOUT must be a number"):
        build({}, environ={"SHIM_TIMEOUT": "soon"})


def test_missing_file_is_a_clear_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        build({}, environ={}, config_file=tmp_path / "absent.toml")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_own_key_on_a_public_address_needs_client_keys(host: str) -> None:
    with pytest.raises(ConfigError, match="refusing to serve MISTRAL_API_KEY"):
        build({"host": host}, environ={"MISTRAL_API_KEY": UPSTREAM_KEY})
    assert build({"host": host, "client_keys": ["k"]}, environ={"MISTRAL_API_KEY": UPSTREAM_KEY})
    assert build({"host": host}, environ={}).mistral_api_key is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_own_key_on_loopback_needs_no_client_keys(host: str) -> None:
    assert build({"host": host}, environ={"MISTRAL_API_KEY": UPSTREAM_KEY}).mistral_api_key == UPSTREAM_KEY


def test_keys_are_not_in_the_config_repr() -> None:
    config = build({"client_keys": [CLIENT_KEY]}, environ={"MISTRAL_API_KEY": UPSTREAM_KEY})
    assert UPSTREAM_KEY not in repr(config) and CLIENT_KEY not in repr(config)


# --- the CLI, as a user runs it


def test_serve_answers_health_and_chat(mock_url: str, tmp_path: Path) -> None:
    with shim_process(["--upstream", mock_url], tmp_path) as shim:
        assert httpx.get(f"{shim.url}/health").json() == {"status": "ok"}
        answer = client(shim.url).chat.completions.create(model="mistral-small-latest", messages=CHAT)
        assert answer.choices[0].message.content
        assert shim.stop() == 0
    assert f"on {shim.url} -> {mock_url}" in shim.output()


def test_python_dash_m_shim_and_upstream_from_environment(mock_url: str, tmp_path: Path) -> None:
    env = child_env(MISTRAL_BASE_URL=mock_url)
    with shim_process([], tmp_path, env=env, module=True) as shim:
        assert httpx.get(f"{shim.url}/health").status_code == 200
        assert client(shim.url).models.list().data


def test_config_file_with_aliases_through_the_cli(mock_url: str, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'upstream = "{mock_url}"\n[aliases]\n"gpt-4o-mini" = "mistral-small-latest"\n'
        '"text-embedding-3-small" = "mistral-embed"\n',
    )
    with shim_process(["--config", str(path)], tmp_path) as shim:
        openai_client = client(shim.url)
        answer = openai_client.chat.completions.create(model="gpt-4o-mini", messages=CHAT)
        assert answer.choices[0].message.content
        vectors = openai_client.embeddings.create(model="text-embedding-3-small", input="hi")
        assert len(vectors.data[0].embedding) == 1024
        ids = [m.id for m in openai_client.models.list().data]
        assert {"gpt-4o-mini", "text-embedding-3-small", "mistral-small-latest"} <= set(ids)
        assert openai_client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--config", "/nonexistent/shim.toml"], {}, "cannot read config file"),
        (["--timeout", "-1"], {}, "timeout must be a positive number"),
        (["--upstream", "not a url"], {}, "upstream must be an http(s) URL"),
        (["--host", "0.0.0.0"], {"MISTRAL_API_KEY": UPSTREAM_KEY}, "refusing to serve MISTRAL_API_KEY"),
    ],
)
def test_bad_configuration_exits_2_with_a_clear_message(args: list[str], env: dict, message: str) -> None:
    result = run_cli(["serve", "--port", "1", *args], env=child_env(**env))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert UPSTREAM_KEY not in result.stderr + result.stdout


def test_bad_config_file_exits_2(tmp_path: Path) -> None:
    result = run_cli(["serve", "--config", str(write(tmp_path, "port = 'x'"))])
    assert (result.returncode, "port must be an integer" in result.stderr) == (2, True)


# --- keys


def test_own_key_upstream_and_client_keys_in_front(
    start_mock: Callable[..., str], start_shim: Callable[..., str]
) -> None:
    mock = start_mock(api_keys=frozenset({UPSTREAM_KEY}))
    shim = start_shim(upstream=mock, mistral_api_key=UPSTREAM_KEY, client_keys=frozenset({CLIENT_KEY, "k2"}))
    for key in (CLIENT_KEY, "k2"):
        assert client(shim, key).chat.completions.create(model="mistral-small-latest", messages=CHAT)
    for wrong in ("wrong", UPSTREAM_KEY, CLIENT_KEY[:-1], CLIENT_KEY + "x"):
        with pytest.raises(openai.AuthenticationError) as raised:
            client(shim, wrong).models.list()
        assert raised.value.status_code == 401
        assert raised.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    response = httpx.get(f"{shim}/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_own_key_on_loopback_without_client_keys(
    start_mock: Callable[..., str], start_shim: Callable[..., str]
) -> None:
    mock = start_mock(api_keys=frozenset({UPSTREAM_KEY}))
    shim = start_shim(upstream=mock, mistral_api_key=UPSTREAM_KEY)
    assert client(shim, "anything").models.list().data


def test_without_own_key_the_client_bearer_is_forwarded(
    start_mock: Callable[..., str], start_shim: Callable[..., str]
) -> None:
    mock = start_mock(api_keys=frozenset({"good-mistral-key"}))
    shim = start_shim(upstream=mock)
    assert client(shim, "good-mistral-key").chat.completions.create(
        model="mistral-small-latest", messages=CHAT
    )
    with pytest.raises(openai.AuthenticationError):
        client(shim, "bad-mistral-key").chat.completions.create(model="mistral-small-latest", messages=CHAT)
    with pytest.raises(openai.AuthenticationError):
        client(shim, "bad-mistral-key").models.list()
    assert httpx.post(f"{shim}/v1/chat/completions", json={}).status_code == 401


def test_keys_never_reach_the_logs(start_mock: Callable[..., str], tmp_path: Path) -> None:
    """A real run at DEBUG with --log-bodies: successes, refusals, a stream, a pass-through, errors."""
    mock = start_mock(api_keys=frozenset({UPSTREAM_KEY}))
    env = child_env(MISTRAL_API_KEY=UPSTREAM_KEY)
    args = ["--upstream", mock, "--api-key", CLIENT_KEY, "--log-bodies", "--log-level", "DEBUG"]
    with shim_process(args, tmp_path, env=env) as shim:
        good = client(shim.url, CLIENT_KEY)
        good.chat.completions.create(model="mistral-small-latest", messages=CHAT)
        list(good.chat.completions.create(model="mistral-small-latest", messages=CHAT, stream=True))
        with pytest.raises(openai.AuthenticationError):
            client(shim.url, UPSTREAM_KEY).models.list()
        with pytest.raises(openai.NotFoundError):
            good.chat.completions.create(model="no-such-model", messages=CHAT)
        headers = {"Authorization": f"Bearer {CLIENT_KEY}"}
        assert httpx.get(f"{shim.url}/mistral/v1/models", headers=headers).status_code == 200
        assert httpx.get(f"{shim.url}/nowhere", headers=headers).status_code == 404
        shim.stop()
    output = shim.output()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"request_id"')]
    assert sum("request_body" in line for line in lines) >= 3  # bodies were logged, and still no key
    assert {401, 404} <= {line["status"] for line in lines}
    assert UPSTREAM_KEY not in output
    assert CLIENT_KEY not in output


def test_the_store_urls_password_is_one_of_the_secrets_the_logs_scrub() -> None:
    settings = build({}, environ={"SHIM_RESPONSES_STORE": "postgresql://shim:pg-pass-123@db/shim"})
    assert settings.secrets == ("pg-pass-123",)
    assert build({}, environ={}).secrets == ()
