"""Sessions: tests (every package, one venv), lint, typecheck, compat (Python 3.10), bench."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PLUGINS = sorted(str(p) for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
#: Third-party-style plugins (notify-discord, notify-mattermost): installed and tested like
#: the bundled ones, so the plugin guide's examples keep working.
EXAMPLES = sorted(str(p) for p in (ROOT / "examples").iterdir() if (p / "pyproject.toml").exists())
#: Optional distributions beside the core: notify-serve (the HTTP service and dashboard).
EXTRAS = ["./serve"]
#: Integrations with what an application already runs (notify-celery): not providers.
INTEGRATIONS = sorted(
    str(p) for p in (ROOT / "integrations").iterdir() if (p / "pyproject.toml").exists()
)
TEST_DEPS = ["pytest", "respx", "hypothesis", "standardwebhooks", "jsonschema", "slack_sdk"]
#: Clients of the real PostgreSQL and Redis servers the test kit starts (testing/_services.py).
TEST_DEPS += ["psycopg[binary]", "psycopg-pool", "redis"]
#: notify serve's tests: the dashboard in Debian's Chromium, and the OpenAPI document fuzzed.
TEST_DEPS += ["playwright", "schemathesis"]
#: The e-mail tests run real SMTP servers (plain, STARTTLS, TLS) locally.
TEST_DEPS += ["aiosmtpd", "trustme"]


def install_packages(session: nox.Session) -> None:
    packages = [*PLUGINS, *EXAMPLES, *EXTRAS, *INTEGRATIONS]
    # [secrets]: cryptography, for stored channels (tests/stored) and their types
    session.install("-e", "./core[secrets]", *[arg for p in packages for arg in ("-e", p)])


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    install_packages(session)
    session.install(*TEST_DEPS)
    session.run("pytest", *(session.posargs or ["tests", *[f"{p}/tests" for p in EXAMPLES]]))


#: The 3.10 run: the core, the fault matrix (timeouts, refusals, resets) and a plugin.
COMPAT_TESTS = ["tests/core", "tests/reliability/test_faults.py", "tests/webhook"]
#: What it leaves out, and why: it runs Debian's python3 (3.11) as `nobody` on this
#: environment's packages, which only works when both are one Python version.
COMPAT_DESELECT = ["tests/core/test_cli_rough_edges.py::test_log_reads_a_read_only_database"]


@nox.session(python="3.10")
def compat(session: nox.Session) -> None:
    """The oldest Python notify supports (``requires-python >= 3.10``): the core's suites.

    On 3.10 ``asyncio.TimeoutError`` is not the builtin ``TimeoutError``, so a timeout
    caught the 3.11 way becomes a permanent failure there; only a 3.10 run can see that.
    """
    install_packages(session)
    session.install(*TEST_DEPS)
    deselect = [arg for test in COMPAT_DESELECT for arg in ("--deselect", test)]
    session.run(
        "pytest",
        *(session.posargs or [*COMPAT_TESTS, *deselect]),
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.6")  # pinned: formatter output changes between releases
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    install_packages(session)
    # redis, psycopg, psycopg-pool: their types (the optional extras' modules are checked
    # too); celery-types holds Celery's and kombu's
    session.install(
        "mypy==2.4.1",
        "pytest",
        "respx",
        "hypothesis",
        "redis",
        "psycopg",
        "psycopg-pool",
        "celery-types",
    )
    session.run(
        "mypy", "core/src", *[f"{p}/src" for p in (*PLUGINS, *EXAMPLES, *EXTRAS, *INTEGRATIONS)]
    )


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Figures, printed and written to benchmarks/RESULTS.md; needs nginx (apt) or aiohttp.

    bench_email.py prints its own table (SMTP connection reuse) and writes no file.
    """
    install_packages(session)
    session.install("apprise")  # the alternative users would reach for, measured side by side
    session.install("redis")  # bench_limiter.py: the Redis-backed limiter
    # bench_workers.py: worker processes on PostgreSQL, and the 20 ms sink they wait on;
    # bench_serve.py: aiohttp is its load generator too
    session.install("psycopg[binary]", "psycopg-pool", "aiohttp")
    session.install("aiosmtpd", "trustme")  # bench_email's local SMTP server and its certificate
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)
