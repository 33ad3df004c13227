"""A local Microsoft Graph v1.0 server (mail, calendar, $batch, delta) and identity platform
for tests and benchmarks, checked against Graph's published CSDL. See README.md."""

from .server import ALL_SCOPES, GraphServer


def assert_no_violations(server: GraphServer) -> None:
    assert not server.violations, "Graph contract violations:\n" + "\n".join(server.violations)


__all__ = ["ALL_SCOPES", "GraphServer", "assert_no_violations"]
