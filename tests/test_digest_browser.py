"""The digest as its reader sees it: rendered by headless Chromium on a phone and a desktop.

Each digest is loaded into real Chromium (Debian's `chromium`, installed by
`.ci/run` where missing; in CI a missing browser fails, it is never skipped)
with the device emulated over the DevTools protocol: a 390 px phone (mobile
viewport rules, so a page that needs more room is laid out wider and shrunk,
as a phone's mail app does) and a 1200 x 900 desktop. tests/digest_measure.js
measures the page: where the first draft starts, whether anything is wider
than the screen, whether a date wraps, and the WCAG contrast of every piece of
text against the background it is painted on.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests import chromium
from tests.conftest import NOW, person, seen, village
from villaged.compose.digest import DigestInput, compose_digest, digest_parts
from villaged.compose.templating import environment
from villaged.core.assess import assess
from villaged.core.giveback import choose_giveback
from villaged.domain.village import Agreement, DraftRecord, DraftState, Kind, Role

MEASURE = (Path(__file__).parent / "digest_measure.js").read_text()
PHONE = (390, 844, True)
DESKTOP = (1200, 900, False)
FOLD = 700  # CSS px: the first draft must start above this, on both
MIN_CONTRAST = 4.5  # WCAG AA for normal text
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if chromium.chromium_binary() is None:
        message = "chromium is not installed (.ci/run installs Debian's chromium package)"
        if chromium.in_ci():
            pytest.fail(message)
        pytest.skip(message)
    with chromium.browser(tmp_path_factory.mktemp("chromium")) as b:
        yield b


def demo_digest(tmp: Path) -> str:
    """The demo village's digest, as `villaged demo` builds it (not delivered)."""
    from villaged.backends.registry import open_backend
    from villaged.cli.demo import DEMO_NOW, prepare
    from villaged.config import load_village
    from villaged.service.digest import run_digest
    from villaged.service.round import run_round
    from villaged.store import Store

    root = prepare(tmp / "demo")
    v = load_village(root / "village.toml")
    with Store.in_dir(root / "state") as store:
        io = open_backend(v, root / "state")
        run_round(v, store, io, DEMO_NOW, draft=True)
        return run_digest(v, store, io, DEMO_NOW, deliver=False).html


def busy_digest() -> str:
    """A heavy week: long names, every kind of item, a trend of 8 weeks."""
    agreement = Agreement(rrule="FREQ=WEEKLY;INTERVAL=4", rhythm="every 4 weeks")
    people = [
        person("ada", Role.MENTOR, name="Ada Augusta King, Countess of Lovelace",
               agreement=agreement, interests=("the history of computing machinery",),
               notes="Formal mentor since 2025; prefers video calls on Tuesdays."),
        person("kj", Role.ADVOCATE, name="Katherine Coleman Goble Johnson",
               interests=("orbital mechanics",)),
        person("rosa", Role.COACH, name="Rosalind Elsie Franklin"),
        person("lise", Role.PEER_MENTOR, name="Lise Meitner"),
        person("barb", Role.ALLY, name="Barbara McClintock"),
        person("wu", Role.PEER_MENTOR, name="Chien-Shiung Wu"),
    ]
    v = village(people)
    interactions = [
        seen("ada", 34, Kind.MEETING), seen("kj", 150), seen("rosa", 12, subject="Can you "
             "review my K award specific aims before the 1 December internal deadline?"),
        seen("rosa", 40, Kind.EMAIL_OUT), seen("lise", 3, subject="Writing group"),
        seen("lise", -2, Kind.MEETING, subject="Peer mentoring: Lise and Dana"),
        seen("wu", 400),
    ]
    standings = assess(v, interactions, NOW)
    ledger = [
        DraftRecord("invite:ada:2026-W48", "ada", "invite", "2026-W48", DraftState.CREATED,
                    NOW, subject="Our mentoring meetings, every 4 weeks",
                    slot=NOW + dt.timedelta(days=1, hours=1)),
        DraftRecord("checkin:kj:2026-W48", "kj", "checkin", "2026-W48", DraftState.CREATED,
                    NOW, subject="Re: Orbital mechanics talk at the spring symposium"),
        DraftRecord("checkin:wu:2026-W47", "wu", "checkin", "2026-W47", DraftState.PENDING,
                    NOW - 7 * DAY, subject="Thinking of you"),
        DraftRecord("invite:ada:2026-W44", "ada", "invite", "2026-W44", DraftState.DISCARDED,
                    NOW - 28 * DAY),
    ]
    snapshots = [(f"2026-W{w}", {"warm": w % 4, "overdue": 6 - w % 3}) for w in range(40, 48)]
    give = choose_giveback(v, standings, [], None)
    data = DigestInput(week="2026-W48", standings=standings, plan=[], ledger=ledger,
                       interactions=interactions, snapshots=snapshots, giveback=give,
                       drafts_link="https://mail.google.com/mail/u/0/#drafts")
    message = compose_digest(v, data, environment(None), NOW, "digest:2026-W48")
    return digest_parts(message)[1]


def measure(browser: chromium.Browser, html: Path, size: tuple[int, int, bool],
            shots: Path) -> dict:
    width, height, mobile = size
    page = chromium.Page(browser, width, height, mobile)
    page.load(html)
    result = page.evaluate(MEASURE)
    page.screenshot(shots / f"{html.stem}-{width}.png")
    return result


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("digests")
    demo = tmp / "demo.html"
    demo.write_text(demo_digest(tmp), encoding="utf-8")
    busy = tmp / "busy.html"
    busy.write_text(busy_digest(), encoding="utf-8")
    return {"demo": demo, "busy": busy}


@pytest.mark.parametrize("name", ["demo", "busy"])
def test_on_a_phone_the_first_screen_says_what_to_do(browser, pages, name, tmp_path):
    m = measure(browser, pages[name], PHONE, tmp_path)
    assert m["firstDraftText"].startswith("Review the invitation to Ada")
    assert m["firstDraftY"] < FOLD, m["firstDraftY"]
    # laid out at the phone's width: nothing scaled down, nothing to scroll sideways
    assert m["innerWidth"] == 390 and m["scale"] == 1
    assert m["scrollWidth"] <= 390, m["wide"]
    assert m["wide"] == []
    assert m["wrapped"] == []  # no date or "N days overdue" breaks over two lines
    report(name, 390, m)


@pytest.mark.parametrize("name", ["demo", "busy"])
def test_on_a_desktop_the_first_draft_is_above_the_fold(browser, pages, name, tmp_path):
    m = measure(browser, pages[name], DESKTOP, tmp_path)
    assert m["firstDraftY"] < FOLD, m["firstDraftY"]
    assert m["scrollWidth"] <= 1200 and m["wrapped"] == []
    report(name, 1200, m)


@pytest.mark.parametrize("name", ["demo", "busy"])
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["390", "1200"])
def test_every_text_has_aa_contrast(browser, pages, name, size, tmp_path):
    m = measure(browser, pages[name], size, tmp_path)
    assert len(m["texts"]) > 40  # the whole digest was measured, not an empty page
    poor = [t for t in m["texts"] if t["ratio"] < MIN_CONTRAST]
    assert poor == []
    lowest = min(m["texts"], key=lambda t: t["ratio"])
    report(name, size[0], {"lowestContrast": lowest})


@pytest.mark.parametrize("name", ["demo", "busy"])
def test_self_contained_and_inline_styled(browser, pages, name, tmp_path):
    m = measure(browser, pages[name], PHONE, tmp_path)
    assert m["external"] == []  # no images, scripts, stylesheets or backgrounds to fetch
    assert m["styleBlocks"] == 0  # every style inline: mail clients drop <style>
    html = pages[name].read_text()
    assert "<div" not in html.replace('<div style="display:none', "")  # only the preheader
    assert "inline-block" not in html  # Outlook's Word renderer ignores it


def test_forced_dark_mode_stays_legible(browser, pages, tmp_path):
    """Chromium's own forced dark mode, as mail apps apply it: a screenshot to look at."""
    page = chromium.Page(browser, 390, 844, True, dark=True)
    page.load(pages["demo"])
    shot = tmp_path / "demo-390-dark.png"
    page.screenshot(shot)
    assert shot.stat().st_size > 10_000


def report(name: str, width: int, m: dict) -> None:
    """One line per measurement, for the record (pytest -s shows them)."""
    keep = {k: m[k] for k in ("firstDraftY", "lowestContrast") if k in m}
    print(f"digest {name} at {width}px: {json.dumps(keep)}")


def copy_screenshots(src: Path, dest: Path) -> None:  # pragma: no cover - manual use
    for png in src.glob("*.png"):
        shutil.copy(png, dest / png.name)
