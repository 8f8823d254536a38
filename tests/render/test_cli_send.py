"""``faxappliance send`` converts in a bounded worker and enforces [limits]."""

from __future__ import annotations

import io
from pathlib import Path

from appliance.cli import CliIO, main
from tests.render._docs import text_pages, write


def call(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), CliIO(stdout=out, stderr=err))
    return code, out.getvalue(), err.getvalue()


def _config(tmp: Path, limits: str) -> str:
    path = tmp / "fax.toml"
    path.write_text(f'data_dir = "{tmp}"\n[limits]\n{limits}\n')
    return str(path)


def test_send_within_the_cap_queues_the_pages(tmp_path: Path) -> None:
    config = _config(tmp_path, "max_pages = 5\nworkers = 1")
    doc = write(tmp_path, "three.txt", text_pages(3))
    code, out, err = call("--config", config, "send", "--to", "5551234", doc)
    assert code == 0, err
    assert "3 page(s) to 5551234" in out
    assert "converted 3 page(s)" in err and "\r" not in err  # not a terminal: one line, no redraws
    (tiff,) = (tmp_path / "outbox").glob("*.tif")
    assert tiff.stat().st_size > 0


def test_send_over_the_cap_is_a_clear_error(tmp_path: Path) -> None:
    config = _config(tmp_path, "max_pages = 5")
    doc = write(tmp_path, "ten.txt", text_pages(10))
    code, out, err = call("--config", config, "send", "--to", "5551234", doc)
    assert code == 2 and out == ""
    assert err.strip().endswith(
        f"faxappliance: cannot convert: {doc}: the document has 10 pages; a fax may have at most 5 pages"
    )
    assert "Traceback" not in err
    assert not list(tmp_path.glob("outbox/*.tif"))


def test_send_over_the_time_limit_is_a_clear_error(tmp_path: Path) -> None:
    config = _config(tmp_path, "render_seconds = 0.3")
    doc = write(tmp_path, "long.txt", text_pages(150))
    code, _, err = call("--config", config, "send", "--to", "5551234", doc)
    assert code == 2
    assert (
        "faxappliance: cannot convert: the document took longer to convert than the limit of 0.3 seconds "
        "([limits] render_seconds)"
    ) in err


def test_bad_limit_in_config_names_file_and_key(tmp_path: Path) -> None:
    config = _config(tmp_path, "max_pages = -1")
    code, _, err = call("--config", config, "config", "check", config)
    assert code == 2
    assert f"{config}: limits.max_pages: must be between 1 and 10000, got -1" in err
