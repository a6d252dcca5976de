"""Start-up: the cached entry-point index, and what the quick commands do not import.

No timings here (they live in benchmarks/): what is asserted is behaviour. The cache
must see a plugin installed, upgraded or removed; ``notify --help`` and
``notify --version`` must not load the pipeline (attrs, asyncio, the store) nor any
transport; ``notify_core`` alone must stay an empty namespace until a name is used.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from notify_core import _entrypoints
from notify_core._entrypoints import PluginEntry, plugin_index
from notify_core.testing import run_notify

GROUP = "notify_core.providers"
#: What `notify --help` and `notify --version` must leave unloaded: the pipeline's
#: libraries, the transports, and the store.
HEAVY = (
    "asyncio",
    "attr",
    "attrs",
    "cattrs",
    "httpx",
    "aiohttp",
    "httpx_aiohttp",
    "sqlite3",
    "ssl",
    "pluggy",
    "notify_core._notifier",
    "notify_core._store",
    "notify_core._plugins",
)

PLUGIN_MODULE = '''
"""A provider installed by a test: echoes to a webhook-like URL."""
from notify_core.plugin import ProviderSpec, hookimpl

@hookimpl
def register_providers():
    return [ProviderSpec(name="{name}", url_patterns=[r"^https://{name}\\.example/"])]
'''


def install(site: Path, name: str, version: str = "1.0") -> Path:
    """Lay out a distribution as pip would: its module and its ``*.dist-info``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}_plugin.py").write_text(PLUGIN_MODULE.replace("{name}", name))
    info = site / f"{name}_plugin-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: {version}\n"
    )
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{name} = {name}_plugin\n")
    return info


def uninstall(info: Path) -> None:
    for child in info.iterdir():
        child.unlink()
    info.rmdir()


def names(site: Path, cache: Path) -> dict[str, str]:
    index = plugin_index(GROUP, path=[str(site)], directory=cache)
    return {e.name: e.version for e in index.entries}


def test_the_index_is_read_from_the_cache_while_nothing_changes(tmp_path, monkeypatch):
    site, cache = tmp_path / "site", tmp_path / "cache"
    install(site, "alpha")
    assert names(site, cache) == {"alpha": "1.0"}
    assert len(list(cache.glob("entry-points-*.json"))) == 1

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("scanned although nothing was installed or removed")

    monkeypatch.setattr(_entrypoints, "scan", no_scan)
    assert names(site, cache) == {"alpha": "1.0"}


def test_installing_upgrading_and_removing_a_plugin_is_seen(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    alpha = install(site, "alpha")
    assert names(site, cache) == {"alpha": "1.0"}
    beta = install(site, "beta")
    assert names(site, cache) == {"alpha": "1.0", "beta": "1.0"}
    uninstall(alpha)
    assert names(site, cache) == {"beta": "1.0"}
    uninstall(beta)  # an upgrade: the old metadata goes, the new one comes
    install(site, "beta", "2.0")
    assert names(site, cache) == {"beta": "2.0"}


def test_a_corrupt_or_unwritable_cache_means_a_scan_not_an_error(tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    install(site, "alpha")
    names(site, cache)
    for file in cache.glob("entry-points-*.json"):
        file.write_text("{not json")
    assert names(site, cache) == {"alpha": "1.0"}
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    assert names(site, blocked) == {"alpha": "1.0"}  # cannot create the cache: scans


def test_the_cache_matches_importlib_metadata_for_this_environment(tmp_path):
    from importlib.metadata import entry_points, version

    index = plugin_index(GROUP, directory=tmp_path)
    expected = {(ep.name, ep.value) for ep in entry_points(group=GROUP)}
    assert {(e.name, e.value) for e in index.entries} == expected
    assert index.core_version == version("notify-core")
    again = plugin_index(GROUP, directory=tmp_path)  # now from the file
    assert again == index


@pytest.mark.parametrize(
    ("value", "loaded"),
    [
        ("json", json),
        ("json:dumps", json.dumps),
        ("os.path : join [extra]", __import__("os").path.join),
    ],
)
def test_an_entry_point_value_loads_as_importlib_would(value, loaded):
    assert PluginEntry("x", value, "dist", "1").load() is loaded


def test_the_cli_sees_a_plugin_installed_then_removed(tmp_path):
    """The real command, its cache in a directory of the test's: never a stale list."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    env = {"PYTHONPATH": str(site), "NOTIFY_CACHE_DIR": str(cache)}
    info = install(site, "gamma")

    listed = run_notify("plugins", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "gamma" in {p["provider"] for p in json.loads(listed.stdout)}
    version = run_notify("--version", cwd=tmp_path, env=env)
    assert "gamma-plugin 1.0  (plugin gamma)" in version.stdout.splitlines()

    uninstall(info)
    listed = run_notify("plugins", "--json", cwd=tmp_path, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "gamma" not in {p["provider"] for p in json.loads(listed.stdout)}
    assert "gamma" not in run_notify("--version", cwd=tmp_path, env=env).stdout


@pytest.mark.parametrize("argv", [["--help"], ["send", "--help"], ["--version"]])
def test_quick_commands_do_not_load_the_pipeline(loaded_modules, argv):
    loaded_modules("--version")  # the first run of an environment fills the cache
    modules = loaded_modules(*argv)
    assert sorted(modules & set(HEAVY)) == []
    if argv == ["--version"]:  # (typer 0.29's pydantic reads metadata of its own for help)
        assert "importlib.metadata" not in modules  # the entry points came from the cache


def test_version_does_not_even_load_typer(loaded_modules):
    modules = loaded_modules("--version")
    assert not {m for m in modules if m.split(".")[0] in ("typer", "click", "rich")}


def test_the_package_loads_names_only_when_used(tmp_path):
    code = (
        "import json, sys, notify_core; before = sorted(sys.modules); "
        "notify_core.Message; print(json.dumps([before, sorted(sys.modules)]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    before, after = map(set, json.loads(proc.stdout))
    assert "attrs" not in before and "notify_core._models" not in before
    assert "notify_core._models" in after
    import notify_core

    assert set(notify_core.__all__) <= set(dir(notify_core))
    for name in notify_core.__all__:
        assert getattr(notify_core, name) is not None


def help_of(group, name: str) -> str:
    command = group.commands[name]
    ctx = group.make_context("notify", [name], resilient_parsing=True)
    with ctx, command.make_context(name, [], parent=ctx, resilient_parsing=True) as sub_ctx:
        return command.get_help(sub_ctx)


def test_a_command_line_builds_only_its_branch_and_the_same_help():
    """`notify send …` builds the send command alone; its help is the full tree's."""
    import typer.main

    from notify_core._cli._commands import command_for
    from notify_core._cli._common import app

    full = typer.main.get_command(app)
    assert len(full.commands) > 10
    for name in full.commands:
        branch = command_for(["--debug", name, "--help"])
        assert list(branch.commands) == [name]
        assert help_of(branch, name) == help_of(full, name)
    assert len(command_for(["--help"]).commands) == len(full.commands)
    assert len(command_for(["nosuch"]).commands) == len(full.commands)


def test_a_provider_imports_only_its_own_plugin(tmp_path):
    """Sending to a webhook imports notify_webhook, not the SMTP or Slack plugins."""
    code = (
        "import json, sys\n"
        "from notify_core import Providers\n"
        "p = Providers.discover()\n"
        "p.spec('webhook')\n"
        "first = sorted(m for m in sys.modules if m.startswith('notify_') and '.' not in m)\n"
        "names = sorted(p.installed)\n"
        "print(json.dumps([first, names]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    first, names = json.loads(proc.stdout)
    assert "notify_webhook" in first
    assert not {"notify_email", "notify_slack", "notify_teams"} & set(first)
    assert {"webhook", "slack", "teams", "pagerduty", "email", "console"} <= set(names)


def test_an_unknown_provider_is_looked_for_in_every_plugin():
    from notify_core import Providers, UnknownProvider

    providers = Providers.discover()
    with pytest.raises(UnknownProvider, match="did you mean 'slack'"):
        providers.spec("slak")
    assert providers.spec("teams").name == "teams"


def test_a_one_message_send_uses_httpx_alone(tmp_path, recorder):
    """`notify send` sends one message through httpx's pool: aiohttp is never imported."""
    code = textwrap.dedent(
        f"""
        import json, sys
        from notify_core._cli import main
        code = main(["send", "--url", "{recorder.url}/one", "--provider", "webhook",
                     "-t", "hello", "--db", "one.db"])
        print(json.dumps([code, sorted(sys.modules)]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    code, modules = json.loads(proc.stdout.splitlines()[-1])
    assert code == 0
    assert len(recorder.requests) == 1
    assert "httpx" in modules and "aiohttp" not in modules


def test_a_broken_plugin_fails_only_what_needs_it(tmp_path, recorder):
    """A plugin that cannot be imported: one clear line where it is needed, no traceback;
    a send to a provider of another plugin does not import it at all."""
    site, cache = tmp_path / "site", tmp_path / "cache"
    install(site, "broken")
    (site / "broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    env = {"PYTHONPATH": str(site), "NOTIFY_CACHE_DIR": str(cache)}

    listed = run_notify("plugins", cwd=tmp_path, env=env)
    assert listed.returncode == 2
    assert listed.stderr.strip().splitlines() == [
        "notify: error: plugin 'broken' (broken_plugin) failed to import: needs libfoo; "
        "set NOTIFY_BLOCK_PLUGINS=broken to skip it"
    ]
    sent = run_notify(
        "send",
        "--url",
        f"{recorder.url}/ok",
        "--provider",
        "webhook",
        "-t",
        "still works",
        cwd=tmp_path,
        env=env,
    )
    assert sent.returncode == 0, sent.stderr
    assert len(recorder.requests) == 1
