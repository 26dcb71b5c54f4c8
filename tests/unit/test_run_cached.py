"""Page bodies are built once per tenant, run and currency."""

from __future__ import annotations

from types import SimpleNamespace

from dashboard.components.live import run_cached


def _page(tenant: str, run: str, currency: str = "USD"):
    return SimpleNamespace(data=SimpleNamespace(tenant_id=tenant, run_id=run), currency=currency)


def test_a_body_is_built_once_per_run_and_again_for_a_new_run_or_tenant():
    built = []

    @run_cached
    def body(page):
        built.append((page.data.tenant_id, page.data.run_id, page.currency))
        return len(built)

    assert body(_page("a", "r1")) == body(_page("a", "r1")) == 1
    assert body(_page("a", "r2")) == 2
    assert body(_page("b", "r1")) == 3
    assert body(_page("a", "r2", "EUR")) == 4
    assert built == [("a", "r1", "USD"), ("a", "r2", "USD"), ("b", "r1", "USD"),
                     ("a", "r2", "EUR")]
