"""`surveyapp run` will not publish the development secret to the network."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from surveyapp.cli import main, serve


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "survey.city.example"])
def test_run_refuses_other_hosts_with_the_development_secret(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEYAPP_ENV", "development")
    monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    started = []
    monkeypatch.setattr(serve.run_command, "callback", lambda *a, **k: started.append(k))
    result = CliRunner().invoke(main, ["run", "--host", host])
    assert result.exit_code != 0 and not started
    assert "forge a staff session" in result.output and "SURVEYAPP_SECRET_KEY" in result.output


@pytest.mark.parametrize(
    ("host", "secret"),
    [("127.0.0.1", None), ("localhost", None), ("::1", None), ("0.0.0.0", "s" * 40)],
)
def test_run_serves_on_loopback_or_with_a_real_secret(
    host: str, secret: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEYAPP_ENV", "development")
    if secret:
        monkeypatch.setenv("SURVEYAPP_SECRET_KEY", secret)
    else:
        monkeypatch.delenv("SURVEYAPP_SECRET_KEY", raising=False)
    started = []
    monkeypatch.setattr(serve.run_command, "callback", lambda *a, **k: started.append(k))
    result = CliRunner().invoke(main, ["run", "--host", host])
    assert result.exit_code == 0, result.output
    assert [call["host"] for call in started] == [host]
